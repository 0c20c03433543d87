//! Caller authentication: an API key (`X-Api-Key`) or an HMAC-SHA256 signature of the
//! timestamp and body (`X-Assurance-Timestamp` + `X-Assurance-Signature`), compared in
//! constant time, with stale timestamps and replayed signatures refused.
//!
//! Signed material: the decimal Unix timestamp in seconds, a full stop, then the raw body
//! bytes: `HMAC-SHA256(secret, "1774740600." || body)`, sent as
//! `X-Assurance-Signature: sha256=<64 lower-case hex digits>`.
//!
//! A signature is accepted once: a caller that retries (after a 5xx, a 429 or a timeout) signs
//! the retry again with a fresh timestamp. The sync itself is idempotent, so a re-signed
//! redelivery of the same audit is answered with success and changes nothing.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use nhs_identifiers::redact::{REDACTED, Redacted};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::AssuranceError;

/// Header carrying the API key.
pub const API_KEY_HEADER: &str = "x-api-key";
/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-assurance-signature";
/// Header carrying the signed Unix timestamp (seconds).
pub const TIMESTAMP_HEADER: &str = "x-assurance-timestamp";

/// The credentials a request presented (header values as received).
#[derive(Clone, Copy, Default)]
#[non_exhaustive]
pub struct Credentials<'a> {
    /// `X-Api-Key`.
    pub api_key: Option<&'a str>,
    /// `X-Assurance-Signature`.
    pub signature: Option<&'a str>,
    /// `X-Assurance-Timestamp`.
    pub timestamp: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// Credentials from the three header values.
    #[must_use]
    pub fn new(
        api_key: Option<&'a str>,
        signature: Option<&'a str>,
        timestamp: Option<&'a str>,
    ) -> Self {
        Self {
            api_key,
            signature,
            timestamp,
        }
    }
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key.map(|_| REDACTED))
            .field("signature", &self.signature.map(|_| REDACTED))
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

/// A configured API key. Only its SHA-256 digest is kept; `Debug` shows the label, and the
/// digest as `<redacted>`.
#[derive(Clone, Debug)]
pub struct ApiKey {
    label: String,
    digest: Redacted<[u8; 32]>,
}

impl ApiKey {
    /// A key with a label for logs (e.g. `power-automate`).
    #[must_use]
    pub fn new(label: impl Into<String>, key: &str) -> Self {
        Self {
            label: label.into(),
            digest: Redacted::new(sha256(key.as_bytes())),
        }
    }
}

/// A configured HMAC secret. `Debug` shows the label, and the secret as `<redacted>`.
#[derive(Clone, Debug)]
pub struct HmacSecret {
    label: String,
    secret: Redacted<Vec<u8>>,
}

impl HmacSecret {
    /// A secret with a label for logs.
    #[must_use]
    pub fn new(label: impl Into<String>, secret: &[u8]) -> Self {
        Self {
            label: label.into(),
            secret: Redacted::new(secret.to_vec()),
        }
    }

    /// The `X-Assurance-Signature` value for `body` sent at `timestamp` (Unix seconds): what a
    /// caller (or a test) sends.
    #[must_use]
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        format!(
            "sha256={}",
            hex(&hmac_tag(self.secret.expose(), timestamp, body))
        )
    }
}

/// What to do when the replay cache is full of signatures still inside the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WhenReplayCacheFull {
    /// Refuse new signed requests ([`AssuranceError::ReplayCacheFull`], 429) until entries
    /// age out: never lets a replay through (the default).
    #[default]
    Refuse,
    /// Forget the oldest signature: always available, but a replay of a forgotten signature
    /// inside the window would be accepted (the sync itself stays idempotent).
    EvictOldest,
}

/// Authentication settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthConfig {
    /// Accepted API keys (empty: API keys are refused).
    pub api_keys: Vec<ApiKey>,
    /// Accepted HMAC secrets (empty: signatures are refused).
    pub hmac_secrets: Vec<HmacSecret>,
    /// How far a signed timestamp may be from now, either way (default 300 s).
    pub max_signature_age: chrono::Duration,
    /// How many live signatures the replay cache holds (default 10 000).
    pub replay_cache_capacity: usize,
    /// What to do when it is full.
    pub when_replay_cache_full: WhenReplayCacheFull,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            hmac_secrets: Vec::new(),
            max_signature_age: chrono::Duration::seconds(300),
            replay_cache_capacity: 10_000,
            when_replay_cache_full: WhenReplayCacheFull::Refuse,
        }
    }
}

impl AuthConfig {
    /// Accept this API key.
    #[must_use]
    pub fn with_api_key(mut self, key: ApiKey) -> Self {
        self.api_keys.push(key);
        self
    }

    /// Accept signatures made with this secret.
    #[must_use]
    pub fn with_hmac_secret(mut self, secret: HmacSecret) -> Self {
        self.hmac_secrets.push(secret);
        self
    }

    /// Set the accepted timestamp window.
    #[must_use]
    pub fn with_max_signature_age(mut self, age: chrono::Duration) -> Self {
        self.max_signature_age = age;
        self
    }

    /// Set the replay cache size and its policy when full.
    #[must_use]
    pub fn with_replay_cache(mut self, capacity: usize, when_full: WhenReplayCacheFull) -> Self {
        self.replay_cache_capacity = capacity;
        self.when_replay_cache_full = when_full;
        self
    }
}

/// Who the caller proved to be: the label of the key or secret that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller {
    /// Authenticated by API key.
    ApiKey(String),
    /// Authenticated by signature.
    Signature(String),
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiKey(label) => write!(f, "apiKey:{label}"),
            Self::Signature(label) => write!(f, "signature:{label}"),
        }
    }
}

/// Where accepted signatures are remembered until they leave the time window, so a replay
/// is refused: in memory ([`MemoryReplayCache`]) or in a database, so a restart does not
/// forget them (`SqliteState::replay_cache`, `PostgresState::replay_cache`).
pub trait ReplayCache: Send {
    /// Forget signatures signed before `oldest_live`, then remember `tag` (signed at
    /// `signed_at`) unless it is already held.
    ///
    /// # Errors
    /// [`AssuranceError::ReplayedSignature`] when `tag` is already held;
    /// [`AssuranceError::ReplayCacheFull`] when `capacity` live signatures are held and the
    /// policy is [`WhenReplayCacheFull::Refuse`] (with `EvictOldest` the oldest is dropped);
    /// [`AssuranceError::StoreUnavailable`]. Nothing is remembered on an error.
    fn remember(
        &mut self,
        tag: [u8; 32],
        signed_at: i64,
        oldest_live: i64,
        capacity: usize,
        when_full: WhenReplayCacheFull,
    ) -> Result<(), AssuranceError>;

    /// How many signatures are held.
    fn len(&self) -> usize;

    /// Whether none are held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The replay cache in memory (forgotten on restart).
#[derive(Debug, Default)]
pub struct MemoryReplayCache {
    seen: HashSet<[u8; 32]>,
    by_age: BTreeSet<(i64, [u8; 32])>,
}

impl ReplayCache for MemoryReplayCache {
    fn remember(
        &mut self,
        tag: [u8; 32],
        signed_at: i64,
        oldest_live: i64,
        capacity: usize,
        when_full: WhenReplayCacheFull,
    ) -> Result<(), AssuranceError> {
        while let Some(&(at, old)) = self.by_age.first() {
            if at >= oldest_live {
                break;
            }
            self.by_age.pop_first();
            self.seen.remove(&old);
        }
        if self.seen.contains(&tag) {
            return Err(AssuranceError::ReplayedSignature);
        }
        if self.seen.len() >= capacity.max(1) {
            match when_full {
                WhenReplayCacheFull::Refuse => return Err(AssuranceError::ReplayCacheFull),
                WhenReplayCacheFull::EvictOldest => {
                    if let Some((_, old)) = self.by_age.pop_first() {
                        self.seen.remove(&old);
                    }
                }
            }
        }
        self.seen.insert(tag);
        self.by_age.insert((signed_at, tag));
        Ok(())
    }

    fn len(&self) -> usize {
        self.seen.len()
    }
}

/// Checks credentials; holds the replay cache (bounded, expiring by signed timestamp).
pub struct Authenticator {
    config: AuthConfig,
    cache: Box<dyn ReplayCache>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .field("replay_cache_len", &self.cache.len())
            .finish()
    }
}

impl Authenticator {
    /// An authenticator with an empty in-memory replay cache.
    #[must_use]
    pub fn new(config: AuthConfig) -> Self {
        Self::with_replay_cache(config, MemoryReplayCache::default())
    }

    /// An authenticator remembering signatures in `cache` (e.g. a database, so a replay is
    /// refused after a restart too).
    #[must_use]
    pub fn with_replay_cache(config: AuthConfig, cache: impl ReplayCache + 'static) -> Self {
        Self {
            config,
            cache: Box::new(cache),
        }
    }

    /// How many signatures the replay cache holds now.
    #[must_use]
    pub fn replay_cache_len(&self) -> usize {
        self.cache.len()
    }

    /// Authenticate a request. When a signature is presented it must verify (and the
    /// signature wins over an API key presented beside it, which must also be valid).
    ///
    /// # Errors
    /// [`AssuranceError::MissingCredentials`], [`AssuranceError::InvalidApiKey`],
    /// [`AssuranceError::InvalidSignature`], [`AssuranceError::StaleSignature`],
    /// [`AssuranceError::ReplayedSignature`], [`AssuranceError::ReplayCacheFull`]. A refused
    /// request leaves the replay cache as it was.
    pub fn authenticate(
        &mut self,
        credentials: &Credentials<'_>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Caller, AssuranceError> {
        let key_caller = match credentials.api_key {
            Some(key) => Some(self.check_api_key(key)?),
            None => None,
        };
        match (credentials.signature, key_caller) {
            (Some(signature), _) => {
                self.check_signature(signature, credentials.timestamp, body, now)
            }
            (None, Some(caller)) => Ok(caller),
            (None, None) => Err(AssuranceError::MissingCredentials),
        }
    }

    fn check_api_key(&self, presented: &str) -> Result<Caller, AssuranceError> {
        let digest = sha256(presented.trim().as_bytes());
        let mut matched: Option<&str> = None;
        // Compare against every key, without stopping early.
        for key in &self.config.api_keys {
            let equal: bool = key.digest.expose().ct_eq(&digest).into();
            if equal && matched.is_none() {
                matched = Some(&key.label);
            }
        }
        matched
            .map(|label| Caller::ApiKey(label.to_owned()))
            .ok_or(AssuranceError::InvalidApiKey)
    }

    fn check_signature(
        &mut self,
        signature: &str,
        timestamp: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Caller, AssuranceError> {
        let invalid = |reason| AssuranceError::InvalidSignature { reason };
        if self.config.hmac_secrets.is_empty() {
            return Err(invalid("signatures are not accepted here"));
        }
        let timestamp = timestamp.ok_or(invalid("the X-Assurance-Timestamp header is missing"))?;
        let signed_at: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| invalid("X-Assurance-Timestamp must be Unix seconds"))?;
        let hex_tag = signature
            .trim()
            .strip_prefix("sha256=")
            .ok_or(invalid("X-Assurance-Signature must be sha256=<hex>"))?;
        let tag = unhex32(hex_tag).ok_or(invalid("the signature must be 64 hex digits"))?;
        let age = now.timestamp().saturating_sub(signed_at);
        let limit = self.config.max_signature_age.num_seconds();
        if age.unsigned_abs() > limit.unsigned_abs() {
            return Err(AssuranceError::StaleSignature {
                age_seconds: age,
                limit_seconds: limit,
            });
        }
        let mut matched: Option<&str> = None;
        for secret in &self.config.hmac_secrets {
            let expected = hmac_tag(secret.secret.expose(), signed_at, body);
            let equal: Choice = expected.ct_eq(&tag);
            if bool::from(equal) && matched.is_none() {
                matched = Some(&secret.label);
            }
        }
        let caller = Caller::Signature(
            matched
                .ok_or(invalid("the HMAC does not match the timestamp and body"))?
                .to_owned(),
        );
        self.remember(tag, signed_at, now.timestamp() - limit.abs())?;
        Ok(caller)
    }

    fn remember(
        &mut self,
        tag: [u8; 32],
        signed_at: i64,
        oldest_live: i64,
    ) -> Result<(), AssuranceError> {
        self.cache.remember(
            tag,
            signed_at,
            oldest_live,
            self.config.replay_cache_capacity,
            self.config.when_replay_cache_full,
        )
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(Sha256::digest(bytes).as_slice());
    out
}

fn hmac_tag(secret: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // HMAC accepts keys of any length, so this never fails.
    if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        out.copy_from_slice(mac.finalize().into_bytes().as_slice());
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *slot = (nibble(*hi)? << 4) | nibble(*lo)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 29, 9, 0, 0).unwrap()
    }

    fn auth(capacity: usize, when_full: WhenReplayCacheFull) -> Authenticator {
        Authenticator::new(
            AuthConfig::default()
                .with_api_key(ApiKey::new("power-automate", "key-123"))
                .with_hmac_secret(HmacSecret::new("dashboard", b"shh"))
                .with_replay_cache(capacity, when_full),
        )
    }

    #[test]
    fn api_key() {
        let mut a = auth(10, WhenReplayCacheFull::Refuse);
        let ok = a.authenticate(&Credentials::new(Some("key-123"), None, None), b"{}", now());
        assert_eq!(ok.unwrap(), Caller::ApiKey("power-automate".into()));
        for bad in ["key-124", "", "key-1234"] {
            let err = a
                .authenticate(&Credentials::new(Some(bad), None, None), b"{}", now())
                .unwrap_err();
            assert_eq!(err, AssuranceError::InvalidApiKey);
        }
        let err = a
            .authenticate(&Credentials::default(), b"{}", now())
            .unwrap_err();
        assert_eq!(err, AssuranceError::MissingCredentials);
        assert!(!format!("{:?}", ApiKey::new("l", "key-123")).contains("key-123"));
    }

    #[test]
    fn signature_stale_and_replay() {
        let secret = HmacSecret::new("dashboard", b"shh");
        let mut a = auth(10, WhenReplayCacheFull::Refuse);
        let ts = now().timestamp();
        let body = br#"{"a":1}"#;
        let sig = secret.sign(ts, body);
        let ts_text = ts.to_string();
        let creds = Credentials::new(None, Some(&sig), Some(&ts_text));
        assert_eq!(
            a.authenticate(&creds, body, now()).unwrap(),
            Caller::Signature("dashboard".into())
        );
        assert_eq!(
            a.authenticate(&creds, body, now()).unwrap_err(),
            AssuranceError::ReplayedSignature
        );
        // Another body with the same signature fails the HMAC.
        let err = a.authenticate(&creds, br#"{"a":2}"#, now()).unwrap_err();
        assert_eq!(err.code(), "INVALID_SIGNATURE");
        // Stale, either way.
        for skew in [301, -301] {
            let at = now() + chrono::Duration::seconds(skew);
            let err = a.authenticate(&creds, body, at).unwrap_err();
            assert_eq!(err.code(), "STALE_SIGNATURE");
        }
        // Wrong secret, malformed headers.
        let other = HmacSecret::new("x", b"other").sign(ts, body);
        for (s, t) in [
            (other.as_str(), Some(ts_text.as_str())),
            ("sha256=zz", Some(&ts_text)),
            (&sig, None),
            (&sig, Some("soon")),
        ] {
            let err = a
                .authenticate(&Credentials::new(None, Some(s), t), body, now())
                .unwrap_err();
            assert_eq!(err.code(), "INVALID_SIGNATURE", "{s}");
        }
        assert_eq!(a.replay_cache_len(), 1);
    }

    #[test]
    fn replay_cache_is_bounded() {
        let secret = HmacSecret::new("dashboard", b"shh");
        let mut refuse = auth(2, WhenReplayCacheFull::Refuse);
        let mut evict = auth(2, WhenReplayCacheFull::EvictOldest);
        let ts = now().timestamp();
        let ts_text = ts.to_string();
        for i in 0..5 {
            let body = format!("{{\"n\":{i}}}");
            let sig = secret.sign(ts, body.as_bytes());
            let creds = Credentials::new(None, Some(&sig), Some(&ts_text));
            let r = refuse.authenticate(&creds, body.as_bytes(), now());
            assert_eq!(r.is_ok(), i < 2, "{i}");
            assert!(evict.authenticate(&creds, body.as_bytes(), now()).is_ok());
        }
        assert_eq!(refuse.replay_cache_len(), 2);
        assert_eq!(evict.replay_cache_len(), 2);
        // Entries expire with the window: later, the refusing cache has room again.
        let later = now() + chrono::Duration::seconds(400);
        let body = b"{}";
        let sig = secret.sign(later.timestamp(), body);
        let t = later.timestamp().to_string();
        assert!(
            refuse
                .authenticate(&Credentials::new(None, Some(&sig), Some(&t)), body, later)
                .is_ok()
        );
        assert_eq!(refuse.replay_cache_len(), 1);
    }

    #[test]
    fn hex_round_trip() {
        let bytes: [u8; 32] = core::array::from_fn(|i| u8::try_from(i * 7).unwrap());
        assert_eq!(unhex32(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex32("00"), None);
    }
}
