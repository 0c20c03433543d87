//! An SMTP [`Notifier`] (feature `smtp`): each outbox notification becomes one plain-text
//! e-mail sent through a relay with [lettre](https://docs.rs/lettre) on tokio and rustls.
//!
//! * **Connection**: [`SmtpConfig`] names the relay host and port, the security
//!   ([`SmtpSecurity::StartTls`] on 587, [`SmtpSecurity::ImplicitTls`] on 465, or
//!   [`SmtpSecurity::Plain`], accepted for `localhost`/loopback relays only, for tests and
//!   local sinks), optional credentials (masked in `Debug`), the `From` address and the name
//!   sent in `EHLO`. TLS verifies the relay's certificate against the platform's trust store.
//! * **Recipients**: notifications name a provider organisation, a service's contact, a
//!   referrer or the administrators ([`Recipient`](crate::live::core::Recipient)); an [`AddressBook`] turns those into
//!   e-mail addresses. A recipient without an address is not sent and stays in the outbox.
//! * **Content** ([`render`]): a subject and a short text per [`NotificationKind`](crate::live::core::NotificationKind), the
//!   service and referral ids, the notification's `detail` where it is meant for the
//!   recipient (a claim link, the overdue listings, a website diff, a public report), and a
//!   sign-in link. Never referral answers or anything about the referred person: the
//!   recipient signs in to read them. Runs of ten digits (an NHS number's shape) in `detail`
//!   are masked all the same.
//! * **Failures**: a refused recipient, a relay that is down or a timeout is an error for that
//!   notification, which [`Live::dispatch`](super::Live::dispatch) leaves unsent for the next
//!   dispatch; the error text names the SMTP class (permanent, transient), never an address.

mod address_book;
mod config;
mod text;

use std::sync::Arc;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncTransport, Message, Tokio1Executor};

pub use address_book::{AddressBook, StaticAddressBook};
pub use config::{SmtpConfig, SmtpCredentials, SmtpSecurity};
pub use text::render;

use super::core::Notification;
use super::{LiveError, Notifier};

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
                credentials.user().to_owned(),
                credentials.password().to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
