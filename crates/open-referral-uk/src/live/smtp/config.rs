//! Where and how to reach the relay.

use std::time::Duration;

use nhs_identifiers::redact::Redacted;

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
    /// sink); [`SmtpNotifier::new`](super::SmtpNotifier::new) refuses it for any other host.
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

impl SmtpCredentials {
    pub(super) fn user(&self) -> &str {
        self.user.expose()
    }

    pub(super) fn password(&self) -> &str {
        self.password.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_config_never_print_secrets() {
        let config = SmtpConfig::new("smtp.example.org", "noreply@example.org")
            .credentials(SmtpCredentials::new("relay-user", "hunter2-secret"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("relay-user"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }
}
