//! The `NHSMESH` Authorization header (sans-IO: nonce and time are parameters).
//!
//! `NHSMESH <MAILBOX>:<nonce>:<nonce_count>:<yyyyMMddHHmm UTC>:<hex HMAC-SHA256>`, where the
//! HMAC key is the environment's shared secret and the message is
//! `MAILBOX:nonce:nonce_count:password:timestamp`. A token is good for one request only, so
//! the client draws a fresh UUID nonce (count 0) for every request.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::MeshError;
use crate::types::MailboxId;

/// A secret string (mailbox password, shared key): the ground floor's, which never prints.
pub use nhs_identifiers::redact::Secret;

/// A mailbox's credentials: its id, its password and the environment's shared key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// The mailbox (upper case).
    pub mailbox: MailboxId,
    /// The mailbox password.
    pub password: Secret,
    /// The environment's shared secret (the HMAC key).
    pub shared_key: Secret,
}

impl Credentials {
    /// Credentials for `mailbox`.
    pub fn new(
        mailbox: MailboxId,
        password: impl Into<Secret>,
        shared_key: impl Into<Secret>,
    ) -> Self {
        Self {
            mailbox,
            password: password.into(),
            shared_key: shared_key.into(),
        }
    }

    /// The `Authorization` header value for one request.
    ///
    /// # Errors
    /// [`MeshError::Config`] when the nonce contains `:` (it would shift the fields).
    pub fn authorization(
        &self,
        nonce: &str,
        nonce_count: u64,
        at: DateTime<Utc>,
    ) -> Result<String, MeshError> {
        if nonce.contains(':') || nonce.is_empty() {
            return Err(MeshError::Config(
                "the auth nonce must be non-empty and without ':'".into(),
            ));
        }
        let timestamp = at.format("%Y%m%d%H%M").to_string();
        let mailbox = self.mailbox.as_str();
        let hash = token_hash(
            self.shared_key.expose(),
            mailbox,
            nonce,
            nonce_count,
            self.password.expose(),
            &timestamp,
        )?;
        Ok(format!(
            "NHSMESH {mailbox}:{nonce}:{nonce_count}:{timestamp}:{hash}"
        ))
    }
}

/// The lower-case hex HMAC-SHA256 of `mailbox:nonce:count:password:timestamp` under `key`.
///
/// # Errors
/// [`MeshError::Config`] if the HMAC cannot be keyed (never for SHA-256, which takes any key).
pub fn token_hash(
    key: &str,
    mailbox: &str,
    nonce: &str,
    nonce_count: u64,
    password: &str,
    timestamp: &str,
) -> Result<String, MeshError> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes())
        .map_err(|_| MeshError::Config("HMAC key rejected".into()))?;
    mac.update(format!("{mailbox}:{nonce}:{nonce_count}:{password}:{timestamp}").as_bytes());
    let bytes = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for b in bytes.iter() {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    Ok(hex)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_notes_test_vector() {
        assert_eq!(
            token_hash("TestKey", "X26ABC1", "abc", 0, "password", "202611300313").unwrap(),
            "2df88c74c2ab8ab21b2316c57836143cb87bd504dde2eb3b1ba5eab9e7e1f22a"
        );
        let creds = Credentials::new(MailboxId::new("X26ABC1").unwrap(), "password", "TestKey");
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 3, 13, 59).unwrap();
        assert_eq!(
            creds.authorization("abc", 0, at).unwrap(),
            "NHSMESH X26ABC1:abc:0:202611300313:\
             2df88c74c2ab8ab21b2316c57836143cb87bd504dde2eb3b1ba5eab9e7e1f22a"
        );
    }

    #[test]
    fn secrets_are_masked_in_debug() {
        let creds = Credentials::new(MailboxId::new("X26ABC1").unwrap(), "hunter2pw", "SharedK3y");
        let shown = format!("{creds:?}");
        assert!(
            !shown.contains("hunter2pw") && !shown.contains("SharedK3y"),
            "{shown}"
        );
        assert!(shown.contains("X26ABC1"));
    }

    #[test]
    fn a_nonce_with_a_colon_is_refused() {
        let creds = Credentials::new(MailboxId::new("X26ABC1").unwrap(), "p", "k");
        assert!(creds.authorization("a:b", 0, Utc::now()).is_err());
    }
}
