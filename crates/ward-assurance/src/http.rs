//! The HTTP adapter (feature `http`): an axum router serving `POST /api/assurance/sync` over a
//! shared [`SyncEndpoint`]. Thin: it reads headers and a size-limited body, reads the clock,
//! and hands both to [`SyncEndpoint::handle`].

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, SubsecRound, Utc};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::auth::{API_KEY_HEADER, Credentials, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::endpoint::SyncEndpoint;
use crate::engine::SyncResponse;
use crate::error::AssuranceError;
use crate::sinks::{AuditLog, Clock, SyncLogEntry};
use crate::store::TaskStore;

/// The sync endpoint's path.
pub const SYNC_PATH: &str = "/api/assurance/sync";

/// The real clock (the one place outside tests and examples that reads it), to the
/// millisecond.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(3)
    }
}

/// An audit log written as `tracing` events (target `ward_assurance::audit`), ids and codes
/// only.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAuditLog;

impl AuditLog for TracingAuditLog {
    fn record(&mut self, entry: SyncLogEntry) {
        let json = serde_json::to_string(&entry).unwrap_or_default();
        tracing::info!(target: "ward_assurance::audit", outcome = entry.outcome, "{json}");
    }
}

/// The endpoint shared between the router and its owner (who can look at the store).
pub type SharedEndpoint<S> = Arc<Mutex<SyncEndpoint<S>>>;

/// Share an endpoint.
pub fn shared<S: TaskStore>(endpoint: SyncEndpoint<S>) -> SharedEndpoint<S> {
    Arc::new(Mutex::new(endpoint))
}

/// Lock a shared endpoint (a panic elsewhere does not make it unusable: every change to the
/// store is a single atomic step).
pub fn lock<S>(endpoint: &SharedEndpoint<S>) -> MutexGuard<'_, SyncEndpoint<S>> {
    endpoint.lock().unwrap_or_else(PoisonError::into_inner)
}

struct AppState<S> {
    endpoint: SharedEndpoint<S>,
    clock: Arc<dyn Clock>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self {
            endpoint: Arc::clone(&self.endpoint),
            clock: Arc::clone(&self.clock),
        }
    }
}

/// A router with `POST /api/assurance/sync`; anything else is a JSON 404 (405 for other
/// methods on the sync path).
pub fn router<S: TaskStore + 'static>(
    endpoint: SharedEndpoint<S>,
    clock: Arc<dyn Clock>,
) -> Router {
    Router::new()
        .route(SYNC_PATH, post(sync::<S>))
        .fallback(not_found)
        .with_state(AppState { endpoint, clock })
}

/// Serve `router` on `listener` until the process ends.
///
/// # Errors
/// The listener's IO errors.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router).await
}

fn reply(response: &SyncResponse) -> Response {
    let status =
        StatusCode::from_u16(response.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(response)).into_response()
}

async fn not_found() -> Response {
    let body = serde_json::json!({
        "success": false,
        "error": "NOT_FOUND",
        "message": format!("no such endpoint: use POST {SYNC_PATH}"),
    });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    // A header that is not visible ASCII is presented as empty, so it fails its check.
    headers.get(name).map(|v| v.to_str().unwrap_or(""))
}

async fn sync<S: TaskStore + 'static>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = lock(&state.endpoint).max_body_bytes();
    let declared =
        header_text(&headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        let now = state.clock.now();
        return reply(&lock(&state.endpoint).reject(&AssuranceError::BodyTooLarge { limit }, now));
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            let error = if error.downcast_ref::<LengthLimitError>().is_some() {
                AssuranceError::BodyTooLarge { limit }
            } else {
                AssuranceError::InvalidField {
                    field: "body".into(),
                    reason: "could not be read".into(),
                }
            };
            let now = state.clock.now();
            return reply(&lock(&state.endpoint).reject(&error, now));
        }
    };
    let credentials = Credentials::new(
        header_text(&headers, API_KEY_HEADER),
        header_text(&headers, SIGNATURE_HEADER),
        header_text(&headers, TIMESTAMP_HEADER),
    );
    let now = state.clock.now();
    let response = lock(&state.endpoint).handle(&credentials, &bytes, now);
    reply(&response)
}
