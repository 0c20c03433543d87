//! Per-gateway configuration.

use std::time::Duration;

/// What the logged-in user answers when a request arrives with an empty `DeviceID` (SystmOne's
/// approval dialog).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceApproval {
    /// Approve: a new device id is allocated and the request runs (the default).
    #[default]
    Approve,
    /// Block: the request is answered with a permanent "blocked" error.
    Block,
}

/// The gateway's throttle: SystmOne answers nothing at all to a request over the limit.
///
/// A request is over the limit when it arrives less than [`ThrottleConfig::min_interval`] after
/// the last request this gateway accepted, or when it is a non-exempt `GetPatientRecord`
/// arriving less than [`ThrottleConfig::patient_record_interval`] after the last accepted
/// non-exempt one. Exempt: a demographics-only filter, or `MinEntryDate` = `MaxEntryDate` =
/// today. Dropped requests do not restart the windows. A zero interval switches that limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Minimum gap between accepted requests of any function (SystmOne: 1 s).
    pub min_interval: Duration,
    /// Minimum gap between accepted non-exempt `GetPatientRecord`s (SystmOne: 30 s).
    pub patient_record_interval: Duration,
}

impl ThrottleConfig {
    /// SystmOne's real limits: 1 request per second, non-exempt `GetPatientRecord` 1 per 30 s.
    pub const fn systmone() -> Self {
        Self {
            min_interval: Duration::from_secs(1),
            patient_record_interval: Duration::from_secs(30),
        }
    }

    /// No throttling at all (for tests that are not about the throttle).
    pub const fn relaxed() -> Self {
        Self {
            min_interval: Duration::ZERO,
            patient_record_interval: Duration::ZERO,
        }
    }

    /// Custom limits.
    pub const fn new(min_interval: Duration, patient_record_interval: Duration) -> Self {
        Self {
            min_interval,
            patient_record_interval,
        }
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self::systmone()
    }
}

/// Configuration of one simulated Gateway PC (one SystmOne client).
///
/// Build it with [`GatewayConfig::default`] or [`GatewayConfig::for_user`] and the `with_*`
/// methods.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// The user logged in on this PC ("Entered by" of everything it writes). `None`: the
    /// organisation's first user marked `gateway`.
    pub user_name: Option<String>,
    /// Answer to the approval dialog for requests with an empty `DeviceID`.
    pub device_approval: DeviceApproval,
    /// Whether a non-empty `DeviceID` this gateway never allocated is refused with a permanent
    /// error (default `false`: accepted, as if approved on another occasion).
    pub reject_unknown_device_ids: bool,
    /// The throttle.
    pub throttle: ThrottleConfig,
    /// Software name stamped on events written with an API key the organisation has not
    /// registered (default `Client Integration Software`).
    pub default_software_name: String,
    /// Whether requests with an unregistered API key are served (default `true`); when
    /// `false` they get a permanent error.
    pub accept_unregistered_api_keys: bool,
    /// Largest request document accepted, in bytes; a longer line closes the connection
    /// (default 8 MiB).
    pub max_request_bytes: usize,
    /// Seed of this gateway's device-id and response-UID sequences (default: its gateway id).
    pub id_seed: Option<u64>,
    /// How many of the most recent requests the request log keeps (default
    /// [`crate::log::DEFAULT_REQUEST_LOG_CAPACITY`], 10,000; older records are dropped, the
    /// [`crate::RequestCounts`] keep counting). 0 keeps counters only.
    pub request_log_capacity: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            user_name: None,
            device_approval: DeviceApproval::Approve,
            reject_unknown_device_ids: false,
            throttle: ThrottleConfig::systmone(),
            default_software_name: "Client Integration Software".to_owned(),
            accept_unregistered_api_keys: true,
            max_request_bytes: 8 * 1024 * 1024,
            id_seed: None,
            request_log_capacity: crate::log::DEFAULT_REQUEST_LOG_CAPACITY,
        }
    }
}

impl GatewayConfig {
    /// A gateway with `user_name` logged in, other settings default.
    pub fn for_user(user_name: impl Into<String>) -> Self {
        Self {
            user_name: Some(user_name.into()),
            ..Self::default()
        }
    }

    /// Sets the logged-in user.
    #[must_use]
    pub fn with_user(mut self, user_name: impl Into<String>) -> Self {
        self.user_name = Some(user_name.into());
        self
    }

    /// Sets the throttle.
    #[must_use]
    pub fn with_throttle(mut self, throttle: ThrottleConfig) -> Self {
        self.throttle = throttle;
        self
    }

    /// Sets the answer to device approval.
    #[must_use]
    pub fn with_device_approval(mut self, approval: DeviceApproval) -> Self {
        self.device_approval = approval;
        self
    }

    /// Refuses (or accepts) device ids this gateway did not allocate.
    #[must_use]
    pub fn with_reject_unknown_device_ids(mut self, reject: bool) -> Self {
        self.reject_unknown_device_ids = reject;
        self
    }

    /// Serves (or refuses) unregistered API keys.
    #[must_use]
    pub fn with_accept_unregistered_api_keys(mut self, accept: bool) -> Self {
        self.accept_unregistered_api_keys = accept;
        self
    }

    /// Sets the software name for unregistered API keys.
    #[must_use]
    pub fn with_default_software_name(mut self, name: impl Into<String>) -> Self {
        self.default_software_name = name.into();
        self
    }

    /// Sets the largest request accepted.
    #[must_use]
    pub fn with_max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }

    /// Seeds the device-id and response-UID sequences.
    #[must_use]
    pub fn with_id_seed(mut self, seed: u64) -> Self {
        self.id_seed = Some(seed);
        self
    }

    /// Keeps the last `records` requests in the request log
    /// ([`GatewayConfig::request_log_capacity`]).
    #[must_use]
    pub fn with_request_log_capacity(mut self, records: usize) -> Self {
        self.request_log_capacity = records;
        self
    }
}
