//! The crate's one error enum.

use thiserror::Error;

/// Everything that can stop a sync, with a stable machine-readable [`code`](Self::code), the
/// HTTP status the endpoint answers with ([`http_status`](Self::http_status)) and whether a
/// caller may retry ([`is_retryable`](Self::is_retryable)).
///
/// Messages never repeat a received value (issue 12): not a name, e-mail, staff id, ward,
/// audit type, event type, audit id, number or note, nor an API key or signature. They name the
/// field and what was wrong with it; the only ids they carry are the hub's own task ids.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AssuranceError {
    /// The audit type is neither one of the seven hub codes nor a dashboard label.
    #[error(
        "unknown audit type: expected a hub code (fridge_temps, water_temps, walkaround, controlled_drugs, resus_check, fire_safety, ligature_check) or its dashboard label"
    )]
    UnknownAuditType,
    /// The body is not well-formed JSON of the expected shape.
    #[error("malformed JSON at line {line}, column {column}: {reason}")]
    MalformedJson {
        /// One-based line of the error.
        line: usize,
        /// One-based column of the error.
        column: usize,
        /// What the JSON parser expected (received values removed by
        /// `nhs_identifiers::redact::serde_error`).
        reason: String,
    },
    /// A field is missing or its value breaks a rule.
    #[error("field `{field}` is invalid: {reason}")]
    InvalidField {
        /// JSON path of the field, e.g. `audit.completedAt`.
        field: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The body is larger than the configured limit.
    #[error("request body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A dashboard webhook whose `eventType` is not `AUDIT_COMPLETED`.
    #[error("the event type is not AUDIT_COMPLETED: nothing to sync")]
    UnsupportedEvent,
    /// The request's `Content-Type` is not `application/json`.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// The request body did not arrive within the body read time-out.
    #[error("the request body was not received within {seconds} s")]
    RequestTimeout {
        /// The time-out in seconds.
        seconds: u64,
    },
    /// Neither an API key nor a signature was presented.
    #[error("no credentials: send an X-Api-Key header or an X-Assurance-Signature header")]
    MissingCredentials,
    /// The API key is not one of the configured keys (or API keys are not accepted).
    #[error("the API key is not valid")]
    InvalidApiKey,
    /// The signature header is malformed or the HMAC does not match the body.
    #[error("the request signature is not valid: {reason}")]
    InvalidSignature {
        /// Why (never the signature itself).
        reason: &'static str,
    },
    /// The signature's timestamp is outside the accepted window.
    #[error(
        "the request signature is stale: its timestamp is {age_seconds} s from now (limit {limit_seconds} s)"
    )]
    StaleSignature {
        /// Seconds between the signed timestamp and now (negative: in the future).
        age_seconds: i64,
        /// The accepted window in seconds.
        limit_seconds: i64,
    },
    /// The exact same signature was already accepted: a replayed request.
    #[error("the request signature was already used: replayed requests are refused")]
    ReplayedSignature,
    /// The replay cache is full of live signatures and is configured to refuse new ones.
    #[error("too many signed requests in the replay window: retry later")]
    ReplayCacheFull,
    /// The person completing the audit has no access to the audit's ward.
    #[error(
        "the person who completed the audit has no access to the audit's ward: an administrator has been alerted"
    )]
    WardAccessDenied,
    /// The audit id was already used to complete a task of another type or date.
    #[error(
        "this audit already completed task {task_id}, which has another audit type or due date"
    )]
    AuditConflict {
        /// The hub task it completed earlier.
        task_id: String,
    },
    /// A task with this id is already in the store.
    #[error("task {task_id} is already in the store")]
    DuplicateTask {
        /// The duplicated id.
        task_id: String,
    },
    /// The task to complete does not exist or is no longer pending.
    #[error("task {task_id} is not a pending task")]
    TaskNotPending {
        /// The task id.
        task_id: String,
    },
    /// The configuration is not usable (e.g. a shift window longer than a day).
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// The task store failed; nothing was changed.
    #[error("task store unavailable: {reason}")]
    StoreUnavailable {
        /// What failed.
        reason: String,
    },
}

impl AssuranceError {
    /// Stable upper-snake-case code sent as `error` in JSON responses.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownAuditType => "UNKNOWN_AUDIT_TYPE",
            Self::MalformedJson { .. } => "MALFORMED_JSON",
            Self::InvalidField { .. } => "INVALID_FIELD",
            Self::BodyTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedEvent => "UNSUPPORTED_EVENT",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::RequestTimeout { .. } => "REQUEST_TIMEOUT",
            Self::InvalidConfig { .. } => "INVALID_CONFIG",
            Self::MissingCredentials => "UNAUTHENTICATED",
            Self::InvalidApiKey => "INVALID_API_KEY",
            Self::InvalidSignature { .. } => "INVALID_SIGNATURE",
            Self::StaleSignature { .. } => "STALE_SIGNATURE",
            Self::ReplayedSignature => "REPLAYED_SIGNATURE",
            Self::ReplayCacheFull => "TOO_MANY_REQUESTS",
            Self::WardAccessDenied => "WARD_ACCESS_DENIED",
            Self::AuditConflict { .. } => "AUDIT_CONFLICT",
            Self::DuplicateTask { .. } => "DUPLICATE_TASK",
            Self::TaskNotPending { .. } => "TASK_NOT_PENDING",
            Self::StoreUnavailable { .. } => "STORE_UNAVAILABLE",
        }
    }

    /// The HTTP status the sync endpoint answers with.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::MalformedJson { .. } => 400,
            Self::MissingCredentials
            | Self::InvalidApiKey
            | Self::InvalidSignature { .. }
            | Self::StaleSignature { .. }
            | Self::ReplayedSignature => 401,
            Self::WardAccessDenied => 403,
            Self::RequestTimeout { .. } => 408,
            Self::UnsupportedMediaType => 415,
            Self::AuditConflict { .. }
            | Self::DuplicateTask { .. }
            | Self::TaskNotPending { .. } => 409,
            Self::BodyTooLarge { .. } => 413,
            Self::UnknownAuditType | Self::InvalidField { .. } | Self::UnsupportedEvent => 422,
            Self::ReplayCacheFull => 429,
            Self::InvalidConfig { .. } => 500,
            Self::StoreUnavailable { .. } => 503,
        }
    }

    /// Whether sending the same request again later may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::ReplayCacheFull
                | Self::StoreUnavailable { .. }
                | Self::StaleSignature { .. }
                | Self::RequestTimeout { .. }
        )
    }
}

/// [`AssuranceError::MalformedJson`] for a serde_json error. The parser's reason is kept
/// without its "at line …" tail (line and column are fields); every value it quotes (strings,
/// integers, floats, booleans, unknown variants) goes through the workspace's one redactor,
/// `nhs_identifiers::redact::serde_error`, so `invalid type: integer `9990000018`` reaches
/// no response or log; it is cut to 200 characters.
pub(crate) fn malformed_json(error: &serde_json::Error) -> AssuranceError {
    let full = error.to_string();
    let reason = full
        .rfind(" at line ")
        .map_or(full.as_str(), |at| &full[..at]);
    AssuranceError::MalformedJson {
        line: error.line(),
        column: error.column(),
        reason: nhs_identifiers::redact::serde_error(reason)
            .chars()
            .take(200)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(json: &str) -> String {
        let err = serde_json::from_str::<String>(json).unwrap_err();
        let AssuranceError::MalformedJson { reason, .. } = malformed_json(&err) else {
            panic!("not MalformedJson");
        };
        reason
    }

    #[test]
    fn received_values_never_reach_json_reasons() {
        for (json, secret) in [
            ("9990000018", "9990000018"),
            ("-12345678901", "12345678901"),
            ("4.25e3", "4250"),
            ("true", "true"),
        ] {
            let r = reason(json);
            assert!(!r.contains(secret), "{r}");
            assert!(r.contains("expected a string"), "{r}");
        }
        let err = serde_json::from_str::<u8>(r#""Alex Example""#).unwrap_err();
        let AssuranceError::MalformedJson { reason, .. } = malformed_json(&err) else {
            panic!("not MalformedJson");
        };
        assert!(!reason.contains("Alex"), "{reason}");
    }
}
