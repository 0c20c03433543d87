//! What the marketplace's HTTP routes share: the API keys ([`AuthKeys`]), the handlers' state
//! ([`MarketState`]) and the error answer ([`Refusal`]). Its own file so that the route modules
//! merged into [`super::app`] (freshness, onboarding) import it without importing the app.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use nhs_identifiers::redact::Redacted;
use serde_json::json;

use crate::live::core::{Principal, hash_secret};
use crate::live::{Live, LiveError};
use crate::validate::Finding;

/// API keys by SHA-256. `Debug` shows `<redacted>` for the keys.
#[derive(Clone, Debug, Default)]
pub struct AuthKeys {
    keys: Redacted<HashMap<String, Principal>>,
}

impl AuthKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key for a principal.
    #[must_use]
    pub fn with(mut self, key: &str, principal: Principal) -> Self {
        let mut keys = self.keys.into_inner();
        keys.insert(hash_secret(key), principal);
        self.keys = Redacted::new(keys);
        self
    }

    /// The caller of a request: no `Authorization` header is the public; an unknown key is
    /// refused.
    pub fn principal(&self, headers: &HeaderMap) -> Result<Principal, LiveError> {
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Principal::Public);
        };
        let key = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(LiveError::Unauthorized)?;
        self.keys
            .expose()
            .get(&hash_secret(key.trim()))
            .cloned()
            .ok_or(LiveError::Unauthorized)
    }
}

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct MarketState {
    /// The marketplace.
    pub live: Arc<Live>,
    /// The keys.
    pub keys: Arc<AuthKeys>,
}

/// An error answer.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    error: &'static str,
    message: String,
    findings: Vec<Finding>,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
            findings: Vec::new(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<LiveError> for Refusal {
    fn from(error: LiveError) -> Self {
        let message = error.to_string();
        match error {
            LiveError::Invalid(findings) => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                error: "invalid_service",
                message,
                findings: without_values(findings),
            },
            LiveError::BadRequest(_) => Self::bad_request(message),
            LiveError::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "not_found", message),
            LiveError::Unauthorized => Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message),
            LiveError::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            LiveError::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", message),
            LiveError::Store(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the marketplace store is unavailable; retry",
            ),
            _ => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the marketplace failed",
            ),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        tracing::info!(status = self.status.as_u16(), error = self.error, message = %self.message, "marketplace request refused");
        let mut body = json!({"error": self.error, "message": self.message});
        if !self.findings.is_empty() {
            body["findings"] = json!(self.findings);
        }
        (self.status, Json(body)).into_response()
    }
}

/// The HTTP status and JSON body a refusal answers with.
impl Refusal {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// The message (never a received value).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The validator's errors (JSON paths), for an invalid service.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// A finding without the received value some validator messages quote (`, found "..."`):
/// the caller has the value, and an answer or a log must not carry it.
fn without_value(mut finding: Finding) -> Finding {
    if let Some(at) = finding.message.find(", found \"") {
        finding.message.truncate(at);
    }
    finding
}

pub(crate) fn without_values(findings: Vec<Finding>) -> Vec<Finding> {
    findings.into_iter().map(without_value).collect()
}
