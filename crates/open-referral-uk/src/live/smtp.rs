//! An SMTP [`Notifier`] (feature `smtp`): each outbox notification becomes one plain-text
//! e-mail sent through a relay with [lettre](https://docs.rs/lettre) on tokio and rustls.
//!
//! * **Connection**: [`SmtpConfig`] names the relay host and port, the security
//!   ([`SmtpSecurity::StartTls`] on 587, [`SmtpSecurity::ImplicitTls`] on 465, or
//!   [`SmtpSecurity::Plain`], accepted for `localhost`/loopback relays only, for tests and
//!   local sinks), optional credentials (masked in `Debug`), the `From` address and the name
//!   sent in `EHLO`. TLS verifies the relay's certificate against the platform's trust store.
//! * **Recipients**: notifications name a provider organisation, a service's contact, a
//!   referrer or the administrators ([`Recipient`]); an [`AddressBook`] turns those into
//!   e-mail addresses. A recipient without an address is not sent and stays in the outbox.
//! * **Content** ([`render`]): a subject and a short text per [`NotificationKind`], the
//!   service and referral ids, the notification's `detail` where it is meant for the
//!   recipient (a claim link, the overdue listings, a website diff, a public report), and a
//!   sign-in link. Never referral answers or anything about the referred person: the
//!   recipient signs in to read them. Runs of ten digits (an NHS number's shape) in `detail`
//!   are masked all the same.
//! * **Failures**: a refused recipient, a relay that is down or a timeout is an error for that
//!   notification, which [`Live::dispatch`](super::Live::dispatch) leaves unsent for the next
//!   dispatch; the error text names the SMTP class (permanent, transient), never an address.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use nhs_identifiers::redact::Redacted;

use super::core::{Notification, NotificationKind, Recipient};
use super::{LiveError, Notifier};
use crate::search::Directory;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpSecurity {
    /// Plain connection upgraded with `STARTTLS` (required: a relay that does not offer it is
    /// refused). Usually port 587.
    StartTls,
    /// TLS from the first byte ("SMTPS"). Usually port 465.
    ImplicitTls,
    /// No TLS at all: only for a relay on `localhost` or a loopback address (tests, a local
    /// sink); [`SmtpNotifier::new`] refuses it for any other host.
    Plain,
}

/// A relay user name and password; `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    user: Redacted<String>,
    password: Redacted<String>,
}

impl SmtpCredentials {
    /// A user name and password.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: Redacted::new(user.into()),
            password: Redacted::new(password.into()),
        }
    }
}

impl std::fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("user", &self.user)
            .field("password", &self.password)
            .finish()
    }
}

/// Where and how to send.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SmtpConfig {
    /// The relay's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// The relay's port.
    pub port: u16,
    /// Connection security.
    pub security: SmtpSecurity,
    /// Credentials, if the relay asks for them (sent only over TLS by lettre's default).
    pub credentials: Option<SmtpCredentials>,
    /// The `From` address (`Directory <noreply@example.org>` or a bare address).
    pub from: String,
    /// The name sent in `EHLO` (default `localhost`).
    pub hello_name: String,
    /// The marketplace's sign-in page, linked from every message (optional).
    pub sign_in_url: Option<String>,
    /// Time-out of each SMTP command (default 30 s).
    pub timeout: Duration,
}

impl SmtpConfig {
    /// A relay with STARTTLS on port 587 and no credentials.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            credentials: None,
            from: from.into(),
            hello_name: "localhost".into(),
            sign_in_url: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// Sets the port.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the security.
    #[must_use]
    pub fn security(mut self, security: SmtpSecurity) -> Self {
        self.security = security;
        self
    }

    /// Sets the credentials.
    #[must_use]
    pub fn credentials(mut self, credentials: SmtpCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sets the `EHLO` name.
    #[must_use]
    pub fn hello_name(mut self, name: impl Into<String>) -> Self {
        self.hello_name = name.into();
        self
    }

    /// Sets the sign-in link.
    #[must_use]
    pub fn sign_in_url(mut self, url: impl Into<String>) -> Self {
        self.sign_in_url = Some(url.into());
        self
    }

    /// Sets the command time-out.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Turns a notification's recipient into e-mail addresses (empty: unknown, so the
/// notification stays unsent).
pub trait AddressBook: Send + Sync {
    /// The addresses of `to`.
    fn addresses(&self, to: &Recipient) -> Vec<String>;
}

/// Addresses from configuration: provider organisations and referrers by id, the
/// administrators, and optionally services' own `email` read from the search directory (for
/// the contacts of bulk-uploaded entries).
#[derive(Default, Clone)]
#[non_exhaustive]
pub struct StaticAddressBook {
    organisations: BTreeMap<String, String>,
    admins: Vec<String>,
    directory: Option<Arc<RwLock<Directory>>>,
}

impl std::fmt::Debug for StaticAddressBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticAddressBook")
            .field("organisations", &self.organisations.len())
            .field("admins", &self.admins.len())
            .field("directory", &self.directory.is_some())
            .finish()
    }
}

impl StaticAddressBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// The address of a provider or referring organisation (its principal id).
    #[must_use]
    pub fn organisation(mut self, id: impl Into<String>, address: impl Into<String>) -> Self {
        self.organisations.insert(id.into(), address.into());
        self
    }

    /// An administrators' address (each gets [`Recipient::Admins`] notifications).
    #[must_use]
    pub fn admin(mut self, address: impl Into<String>) -> Self {
        self.admins.push(address.into());
        self
    }

    /// Reads [`Recipient::ServiceContact`] addresses from the services' `email` in this
    /// directory ([`super::Live::directory`]).
    #[must_use]
    pub fn service_contacts_from(mut self, directory: Arc<RwLock<Directory>>) -> Self {
        self.directory = Some(directory);
        self
    }
}

impl AddressBook for StaticAddressBook {
    fn addresses(&self, to: &Recipient) -> Vec<String> {
        match to {
            Recipient::Provider(id) | Recipient::Referrer(id) => {
                self.organisations.get(id).cloned().into_iter().collect()
            }
            Recipient::Admins => self.admins.clone(),
            Recipient::ServiceContact(service_id) => self
                .directory
                .as_ref()
                .and_then(|directory| {
                    let directory = directory.read().unwrap_or_else(|p| p.into_inner());
                    directory
                        .services()
                        .iter()
                        .find(|s| &s.id == service_id)
                        .and_then(|s| s.email.clone())
                })
                .into_iter()
                .collect(),
        }
    }
}

/// Sends notifications through an SMTP relay.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    sign_in_url: Option<String>,
    book: Arc<dyn AddressBook>,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpNotifier").finish_non_exhaustive()
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpNotifier {
    /// Checks the configuration and prepares the transport (no connection is made until the
    /// first send). Refuses a plain connection to a host that is not loopback, a `From` that
    /// is not an e-mail address and TLS parameters rustls cannot build.
    pub fn new(config: SmtpConfig, book: Arc<dyn AddressBook>) -> Result<Self, LiveError> {
        let bad = |what: &str| LiveError::BadRequest(format!("SMTP configuration: {what}"));
        if config.host.trim().is_empty() {
            return Err(bad("the relay host is empty"));
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| bad("`from` is not an e-mail address"))?;
        let tls = || {
            TlsParameters::new_rustls(config.host.clone())
                .map_err(|_| bad("TLS parameters could not be built for the relay host"))
        };
        let tls = match config.security {
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(tls()?),
            SmtpSecurity::Plain if is_loopback(&config.host) => Tls::None,
            SmtpSecurity::Plain => {
                return Err(bad(
                    "a plain (unencrypted) connection is only allowed to localhost",
                ));
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .hello_name(ClientId::Domain(config.hello_name.clone()))
            .timeout(Some(config.timeout));
        if let Some(credentials) = &config.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.user.expose().clone(),
                credentials.password.expose().clone(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            sign_in_url: config.sign_in_url,
            book,
        })
    }

    /// The message for a notification, or why there is none.
    fn message(&self, notification: &Notification) -> Result<Message, String> {
        let mut to = Mailboxes::new();
        for address in self.book.addresses(&notification.to) {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|_| "the address book gave an address that is not valid".to_owned())?;
            to.push(mailbox);
        }
        if to.iter().next().is_none() {
            return Err("no address is known for the recipient".into());
        }
        let (subject, body) = render(notification, self.sign_in_url.as_deref());
        Message::builder()
            .from(self.from.clone())
            .mailbox(lettre::message::header::To::from(to))
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|_| "the message could not be built".to_owned())
    }
}

impl Notifier for SmtpNotifier {
    fn send<'a>(
        &'a self,
        notification: &'a Notification,
    ) -> crate::store::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let message = self.message(notification)?;
            match self.transport.send(message).await {
                Ok(_) => {
                    tracing::info!(kind = ?notification.kind, id = %notification.id, "notification e-mailed");
                    Ok(())
                }
                Err(error) => {
                    let class = if error.is_permanent() {
                        "the relay refused the message or a recipient (permanent)"
                    } else if error.is_transient() {
                        "the relay deferred the message (transient)"
                    } else if error.is_timeout() {
                        "the relay timed out"
                    } else {
                        "the relay could not be reached or the connection failed"
                    };
                    let code = error.status().map(|c| c.to_string()).unwrap_or_default();
                    tracing::warn!(kind = ?notification.kind, id = %notification.id, %code, "{class}");
                    Err(if code.is_empty() {
                        class.to_owned()
                    } else {
                        format!("{class}: SMTP {code}")
                    })
                }
            }
        })
    }
}

/// The wire name of a kind (`referral_received`), or `notification`.
fn kind_name(kind: &NotificationKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "notification".into())
}

/// Subject and body of each kind, and whether `detail` is for the recipient.
const TEXTS: &[(&str, &str, &str, bool)] = &[
    (
        "referral_received",
        "New referral waiting for your answer",
        "A new referral has been made to your service. Sign in to the marketplace to read it and to accept or decline it. A referral left unanswered for 30 days is declined automatically.",
        false,
    ),
    (
        "referral_reminder",
        "Reminder: a referral is waiting for your answer",
        "A referral to your service is still waiting for an answer. Sign in to the marketplace to accept or decline it. A referral left unanswered for 30 days is declined automatically.",
        false,
    ),
    (
        "referral_auto_declined",
        "A referral was declined automatically",
        "A referral had no answer for 30 days and has been declined automatically. Sign in to the marketplace for details.",
        false,
    ),
    (
        "referral_answered",
        "Your referral has been answered",
        "The service has answered your referral. Sign in to the marketplace to see whether it was accepted or declined.",
        false,
    ),
    (
        "listing_paused",
        "Your listing is paused",
        "Five referrals in a row were declined, so your listing is paused and takes no referrals. Sign in to the marketplace to check it and publish it again when you are ready.",
        false,
    ),
    (
        "listing_suspended",
        "Your listing is suspended: please confirm it still operates",
        "Several referrals in a row were not answered, so your listing is suspended. Sign in to the marketplace and confirm that the service still operates to restore it.",
        false,
    ),
    (
        "attendance_follow_up",
        "Did the referred person attend?",
        "A referral you accepted is due for follow-up. Sign in to the marketplace to record whether the person attended.",
        false,
    ),
    (
        "listing_reviewed",
        "Your listing has been reviewed",
        "An administrator has reviewed your listing. Sign in to the marketplace to see whether it was approved.",
        false,
    ),
    (
        "review_overdue",
        "Listings waiting more than 48 hours for review",
        "These listings have waited more than 48 hours for an administrator's review:",
        true,
    ),
    (
        "claim_link",
        "Claim your service's entry in the directory",
        "Your service was added to the directory from a bulk upload. Use this link to claim the entry and keep it up to date:",
        true,
    ),
    (
        "website_changed",
        "Your service's website changed: please check your listing",
        "Your service's website changed in a way that may affect your listing, which is suspended until you confirm or edit it. What changed:",
        true,
    ),
    (
        "review_due",
        "Your listing is due for review",
        "Your listing is due for its regular review. Sign in to the marketplace to confirm or edit it.",
        false,
    ),
    (
        "reported_out_of_date",
        "Your listing was reported out of date",
        "Someone reported your listing as out of date, so it is suspended until you confirm or edit it. The report:",
        true,
    ),
];

/// Masks every run of exactly ten digits, allowing the 3-3-4 spacing of an NHS number
/// (`943 476 5919`, `943-476-5919`): nothing of that shape leaves in an e-mail.
fn mask_ten_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            // Read digits, allowing single spaces or hyphens between them.
            let (mut j, mut digits, mut end) = (i, 0, i);
            while j < chars.len() {
                if chars[j].is_ascii_digit() {
                    digits += 1;
                    end = j + 1;
                    j += 1;
                } else if matches!(chars[j], ' ' | '-')
                    && chars.get(j + 1).is_some_and(char::is_ascii_digit)
                    && digits > 0
                {
                    j += 1;
                } else {
                    break;
                }
            }
            if digits == 10 {
                out.push_str(nhs_identifiers::redact::REDACTED);
                i = end;
                continue;
            }
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The subject and plain-text body of a notification's e-mail: the kind's text, the
/// recipient-facing `detail` (ten-digit runs masked), the service and referral ids and the
/// sign-in link. Nothing about the referred person.
pub fn render(notification: &Notification, sign_in_url: Option<&str>) -> (String, String) {
    let name = kind_name(&notification.kind);
    let (subject, text, with_detail) = TEXTS
        .iter()
        .find(|(kind, ..)| *kind == name)
        .map_or(
            (
                "Marketplace notification",
                "There is an update about your marketplace listing or referral. Sign in to the marketplace to see it.",
                false,
            ),
            |(_, subject, text, detail)| (*subject, *text, *detail),
        );
    let mut body = String::new();
    body.push_str(text);
    body.push_str("\r\n");
    if with_detail && let Some(detail) = &notification.detail {
        body.push_str("\r\n");
        body.push_str(&mask_ten_digit_runs(detail));
        body.push_str("\r\n");
    }
    body.push_str("\r\n");
    if let Some(service_id) = &notification.service_id {
        body.push_str(&format!("Service: {service_id}\r\n"));
    }
    if let Some(referral_id) = &notification.referral_id {
        body.push_str(&format!("Referral: {referral_id}\r\n"));
    }
    if let Some(url) = sign_in_url {
        body.push_str(&format!("Sign in: {url}\r\n"));
    }
    body.push_str(&format!(
        "\r\nThis message was sent by the service directory's marketplace (notification {}, {name}).\r\n",
        notification.id
    ));
    (format!("[Directory] {subject}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_digit_runs_are_masked() {
        assert_eq!(
            mask_ten_digit_runs("NHS 943 476 5919, ref 9434765919 and 943-476-5919."),
            "NHS <redacted>, ref <redacted> and <redacted>."
        );
        assert_eq!(
            mask_ten_digit_runs("call 01234 567890 or 12345, 12345678901"),
            "call 01234 567890 or 12345, 12345678901"
        );
    }

    #[test]
    fn credentials_and_config_never_print_secrets() {
        let config = SmtpConfig::new("smtp.example.org", "noreply@example.org")
            .credentials(SmtpCredentials::new("relay-user", "hunter2-secret"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("relay-user"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn plain_is_for_loopback_only() {
        let book: Arc<dyn AddressBook> = Arc::new(StaticAddressBook::new());
        let plain = |host: &str| {
            SmtpNotifier::new(
                SmtpConfig::new(host, "noreply@example.org").security(SmtpSecurity::Plain),
                Arc::clone(&book),
            )
        };
        assert!(plain("localhost").is_ok());
        assert!(plain("127.0.0.1").is_ok());
        assert!(plain("[::1]").is_ok());
        let error = plain("smtp.example.org").unwrap_err().to_string();
        assert_eq!(
            error,
            "SMTP configuration: a plain (unencrypted) connection is only allowed to localhost"
        );
        assert!(
            SmtpNotifier::new(
                SmtpConfig::new("localhost", "not an address"),
                Arc::clone(&book)
            )
            .is_err()
        );
        assert!(
            SmtpNotifier::new(
                SmtpConfig::new("smtp.example.org", "Directory <noreply@example.org>")
                    .security(SmtpSecurity::ImplicitTls)
                    .port(465),
                book,
            )
            .is_ok()
        );
    }
}
