//! The device registry: which Gateway PCs are enrolled for which practice, which are revoked,
//! connected, last seen, who is logged on to SystmOne there, and how healthy they are.
//!
//! [`SqliteRegistry`] is the default (one file, or in memory for tests and demos);
//! [`PostgresRegistry`] (feature `postgres`, on by default) serves a fleet of hub instances
//! sharing one database. Secrets (enrolment tokens, device credentials) are stored only as
//! SHA-256 digests: they are 256-bit random values, so a digest cannot be reversed, and a
//! leaked database enrols nothing and authenticates nothing.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, TimeZone, Utc};
use nhs_identifiers::OdsCode;
use systmone_gateway::Secret;

use crate::error::HubError;
pub use crate::error::TokenRefusal;

#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PostgresRegistry;
pub use sqlite::SqliteRegistry;

/// A device id: a UUID v4 in text the hub assigned at enrolment, or the subject CN of the
/// device's client certificate when certificates are bound to devices.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// A device id: 1 to 64 ASCII letters, digits, `-` or `_`.
    ///
    /// # Errors
    /// [`HubError::InvalidDeviceId`].
    pub fn new(id: &str) -> Result<Self, HubError> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(HubError::InvalidDeviceId)
        }
    }

    /// A new random id.
    #[must_use]
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.0)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a device is doing, as the hub last saw it. Stored as text; values a newer hub writes
/// are kept as [`DeviceHealth::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceHealth {
    /// Nothing known yet.
    Unknown,
    /// Connected, SystmOne available, organisation verified: in its practice's pool.
    Ready,
    /// Connected, organisation not verified yet.
    Verifying,
    /// Connected, but SystmOne is closed or nobody is logged on.
    SystmOneClosed,
    /// SystmOne reported another organisation than the enrolment's: refused.
    WrongOrganisation,
    /// Requests through it are failing.
    Failing,
    /// Not connected.
    Disconnected,
    /// A value this version does not know.
    Other(String),
}

impl DeviceHealth {
    /// The stored text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Unknown => "unknown",
            Self::Ready => "ready",
            Self::Verifying => "verifying",
            Self::SystmOneClosed => "systmone-closed",
            Self::WrongOrganisation => "wrong-organisation",
            Self::Failing => "failing",
            Self::Disconnected => "disconnected",
            Self::Other(other) => other,
        }
    }

    /// Parses the stored text (never fails: unknown text is [`DeviceHealth::Other`]).
    #[must_use]
    pub fn parse(text: &str) -> Self {
        match text {
            "unknown" => Self::Unknown,
            "ready" => Self::Ready,
            "verifying" => Self::Verifying,
            "systmone-closed" => Self::SystmOneClosed,
            "wrong-organisation" => Self::WrongOrganisation,
            "failing" => Self::Failing,
            "disconnected" => Self::Disconnected,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for DeviceHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One enrolled device as the registry holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceRecord {
    /// Its id.
    pub device_id: DeviceId,
    /// The practice it was enrolled for.
    pub ods: OdsCode,
    /// The operator's label (e.g. the PC's name).
    pub label: String,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether an agent session is open now (as last recorded).
    pub connected: bool,
    /// When the hub last heard from it.
    pub last_seen: Option<DateTime<Utc>>,
    /// The SystmOne user logged on there, as SystmOne reported it.
    pub logged_on_user: Option<String>,
    /// The agent's version.
    pub agent_version: Option<String>,
    /// Its health.
    pub health: DeviceHealth,
}

impl DeviceRecord {
    /// Whether it was revoked.
    #[must_use]
    pub fn revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// A new enrolment token, shown once (the registry keeps its digest).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The token's id (to revoke it; not secret).
    pub token_id: String,
    /// The token to hand to the person installing the agent.
    pub token: Secret,
    /// The practice it enrols for.
    pub ods: OdsCode,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// What the hub records about a device's session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Presence {
    /// Whether a session is open.
    pub connected: bool,
    /// When the hub last heard from it.
    pub last_seen: DateTime<Utc>,
    /// The SystmOne user (unchanged when `None`).
    pub logged_on_user: Option<String>,
    /// The agent's version (unchanged when `None`).
    pub agent_version: Option<String>,
    /// Its health.
    pub health: DeviceHealth,
}

impl Presence {
    /// A presence record.
    #[must_use]
    pub fn new(connected: bool, last_seen: DateTime<Utc>, health: DeviceHealth) -> Self {
        Self {
            connected,
            last_seen,
            logged_on_user: None,
            agent_version: None,
            health,
        }
    }

    /// With the logged-on user.
    #[must_use]
    pub fn with_user(mut self, user: Option<String>) -> Self {
        self.logged_on_user = user;
        self
    }

    /// With the agent version.
    #[must_use]
    pub fn with_agent_version(mut self, version: Option<String>) -> Self {
        self.agent_version = version;
        self
    }
}

/// The future registry methods return.
pub type RegistryFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, HubError>> + Send + 'a>>;

/// Storage of enrolment tokens and devices. Implementations must make [`DeviceRegistry::enrol`]
/// atomic: a token enrols at most one device even when two hubs race.
pub trait DeviceRegistry: Send + Sync + fmt::Debug + 'static {
    /// Issues a one-time enrolment token for `ods`, valid until `expires_at`.
    fn issue_token(
        &self,
        ods: OdsCode,
        label: String,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> RegistryFuture<'_, IssuedToken>;

    /// Revokes an unused token.
    fn revoke_token(&self, token_id: String, now: DateTime<Utc>) -> RegistryFuture<'_, ()>;

    /// Exchanges a token for a new device and its credential (returned once). The device gets
    /// `device_id` (the name on its client certificate, when certificates are bound to
    /// devices) or, when `None`, a new random id. [`HubError::Token`] when the token is
    /// unknown, used, expired or revoked; [`HubError::DeviceIdTaken`] when a device already
    /// has `device_id` (the token then stays unused).
    fn enrol(
        &self,
        token: Secret,
        label: String,
        device_id: Option<DeviceId>,
        now: DateTime<Utc>,
    ) -> RegistryFuture<'_, (DeviceRecord, Secret)>;

    /// The device whose credential this is. [`HubError::BadCredential`] for an unknown device
    /// or a wrong credential; [`HubError::Revoked`] for a revoked device.
    fn authenticate(
        &self,
        device_id: DeviceId,
        credential: Secret,
    ) -> RegistryFuture<'_, DeviceRecord>;

    /// Revokes a device (its sessions are cut by the hubs that hold them).
    fn revoke_device(&self, device_id: DeviceId, now: DateTime<Utc>) -> RegistryFuture<'_, ()>;

    /// Records a device's presence.
    fn update_presence(&self, device_id: DeviceId, presence: Presence) -> RegistryFuture<'_, ()>;

    /// One device.
    fn device(&self, device_id: DeviceId) -> RegistryFuture<'_, Option<DeviceRecord>>;

    /// Every device, or a practice's, ordered by enrolment.
    fn devices(&self, ods: Option<OdsCode>) -> RegistryFuture<'_, Vec<DeviceRecord>>;
}

/// 32 random bytes as hex, from the system's secure random source.
pub(crate) fn new_secret() -> Result<Secret, HubError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| HubError::Storage("the system random source failed".into()))?;
    Ok(Secret::from(hex(&bytes)))
}

/// The SHA-256 digest of a secret, as hex.
pub(crate) fn digest(secret: &Secret) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, secret.expose().as_bytes()).as_ref())
}

/// Constant-time comparison of two digests.
pub(crate) fn digests_match(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every registry must have, run against each implementation.
    use super::*;

    fn ods(code: &str) -> OdsCode {
        code.parse().unwrap()
    }

    pub(crate) async fn run(registry: &dyn DeviceRegistry) {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let later = now + chrono::Duration::hours(1);
        let token = registry
            .issue_token(ods("B11111"), "reception".into(), now, later)
            .await
            .unwrap();
        assert!(!format!("{token:?}").contains(token.token.expose()));

        // Unknown token.
        let unknown = registry
            .enrol(Secret::from("nope"), "pc".into(), None, now)
            .await
            .unwrap_err();
        assert!(matches!(unknown, HubError::Token(TokenRefusal::Unknown)));

        // Enrol once; the replay is refused.
        let (device, credential) = registry
            .enrol(token.token.clone(), "PC-1".into(), None, now)
            .await
            .unwrap();
        assert_eq!(device.ods, ods("B11111"));
        assert_eq!(device.label, "PC-1");
        let replay = registry
            .enrol(token.token.clone(), "PC-2".into(), None, now)
            .await
            .unwrap_err();
        assert!(matches!(replay, HubError::Token(TokenRefusal::Replayed)));

        // Expired and revoked tokens.
        let short = registry
            .issue_token(
                ods("B11111"),
                "x".into(),
                now,
                now + chrono::Duration::seconds(1),
            )
            .await
            .unwrap();
        let expired = registry
            .enrol(short.token, "PC".into(), None, later)
            .await
            .unwrap_err();
        assert!(matches!(expired, HubError::Token(TokenRefusal::Expired)));
        let revoked_token = registry
            .issue_token(ods("B11111"), "x".into(), now, later)
            .await
            .unwrap();
        registry
            .revoke_token(revoked_token.token_id.clone(), now)
            .await
            .unwrap();
        let refused = registry
            .enrol(revoked_token.token, "PC".into(), None, now)
            .await
            .unwrap_err();
        assert!(matches!(refused, HubError::Token(TokenRefusal::Revoked)));

        // Authentication.
        let found = registry
            .authenticate(device.device_id.clone(), credential.clone())
            .await
            .unwrap();
        assert_eq!(found.device_id, device.device_id);
        assert!(matches!(
            registry
                .authenticate(device.device_id.clone(), Secret::from("wrong"))
                .await,
            Err(HubError::BadCredential)
        ));
        assert!(matches!(
            registry
                .authenticate(DeviceId::generate(), credential.clone())
                .await,
            Err(HubError::BadCredential)
        ));

        // Presence.
        registry
            .update_presence(
                device.device_id.clone(),
                Presence::new(true, later, DeviceHealth::Ready)
                    .with_user(Some("gateway0001".into()))
                    .with_agent_version(Some("0.1.0".into())),
            )
            .await
            .unwrap();
        registry
            .update_presence(
                device.device_id.clone(),
                Presence::new(false, later, DeviceHealth::Disconnected),
            )
            .await
            .unwrap();
        let record = registry
            .device(device.device_id.clone())
            .await
            .unwrap()
            .unwrap();
        assert!(!record.connected);
        assert_eq!(record.last_seen, Some(later));
        assert_eq!(record.logged_on_user.as_deref(), Some("gateway0001"));
        assert_eq!(record.agent_version.as_deref(), Some("0.1.0"));
        assert_eq!(record.health, DeviceHealth::Disconnected);

        // A device named by its certificate: a taken name is refused and the token stays
        // usable for a free one.
        let named = registry
            .issue_token(ods("B11111"), "named".into(), now, later)
            .await
            .unwrap();
        let taken = registry
            .enrol(
                named.token.clone(),
                "PC-3".into(),
                Some(device.device_id.clone()),
                now,
            )
            .await
            .unwrap_err();
        assert!(matches!(taken, HubError::DeviceIdTaken), "{taken:?}");
        let free = DeviceId::new("b11111-reception-3").unwrap();
        let (named_device, _) = registry
            .enrol(named.token, "PC-3".into(), Some(free.clone()), now)
            .await
            .unwrap();
        assert_eq!(named_device.device_id, free);

        // A second practice's device; listing by practice.
        let other = registry
            .issue_token(ods("C22221"), "y".into(), now, later)
            .await
            .unwrap();
        registry
            .enrol(other.token, "PC-9".into(), None, now)
            .await
            .unwrap();
        assert_eq!(
            registry.devices(Some(ods("B11111"))).await.unwrap().len(),
            2
        );
        assert_eq!(registry.devices(None).await.unwrap().len(), 3);

        // Revocation.
        registry
            .revoke_device(device.device_id.clone(), later)
            .await
            .unwrap();
        assert!(matches!(
            registry
                .authenticate(device.device_id.clone(), credential)
                .await,
            Err(HubError::Revoked)
        ));
        assert!(
            registry
                .device(device.device_id)
                .await
                .unwrap()
                .unwrap()
                .revoked()
        );
    }
}
