//! The HTTP adapter (feature `http`): an axum router serving `POST /api/assurance/sync` and
//! `GET /api/assurance/audit-types` over a shared [`SyncEndpoint`]. Thin: it checks the
//! `Content-Type` (415 unless `application/json`), reads headers and a size-limited body
//! within the body time-out (408), reads the clock, and hands both to
//! [`SyncEndpoint::handle`].
//!
//! [`serve`] closes connections whose request head has not arrived within the header
//! time-out (10 s by default) and [`router`] answers 408 to a body not received within the
//! body time-out (10 s by default), so half-sent requests do not hold sockets open.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, SubsecRound, Utc};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::auth::{API_KEY_HEADER, Credentials, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::endpoint::SyncEndpoint;
use crate::error::AssuranceError;
use crate::sinks::{AuditLog, Clock, SyncLogEntry, SyncLogQuery, SyncLogReader};
use crate::store::TaskStore;
use crate::sync::SyncResponse;

/// The sync endpoint's path.
pub const SYNC_PATH: &str = "/api/assurance/sync";
/// The audit-type table's path.
pub const AUDIT_TYPES_PATH: &str = "/api/assurance/audit-types";
/// The sync log's path.
pub const SYNC_LOG_PATH: &str = "/api/assurance/sync-log";

/// Time-outs for half-sent requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpTimeouts {
    /// How long a connection may take to send a request's head (line and headers) before it
    /// is closed (default 10 s). Also bounds how long an idle keep-alive connection is held.
    pub header_read: Duration,
    /// How long a request may take to send its body before the answer is 408 and the
    /// connection is closed (default 10 s).
    pub body_read: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(10),
        }
    }
}

impl HttpTimeouts {
    /// Both time-outs.
    #[must_use]
    pub fn new(header_read: Duration, body_read: Duration) -> Self {
        Self {
            header_read,
            body_read,
        }
    }
}

/// The real clock (the one place outside tests and examples that reads it): the workspace's
/// [`nhs_identifiers::clock::SystemClock`] cut to the millisecond, the precision `syncedAt`
/// and the stores keep.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        nhs_identifiers::clock::SystemClock::new()
            .now()
            .trunc_subsecs(3)
    }
}

/// An audit log written as `tracing` events (target `ward_assurance::audit`): the entry's
/// [`SyncLogEntry::log_line`] (attempt id, codes, the hub's task id; never a received audit
/// id, ward or staff value).
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAuditLog;

impl AuditLog for TracingAuditLog {
    fn record(&mut self, entry: SyncLogEntry) {
        let line = entry.log_line();
        if entry.outcome == "NO_MATCHING_TASK" {
            tracing::warn!(target: "ward_assurance::audit", outcome = entry.outcome, "{line}");
        } else {
            tracing::info!(target: "ward_assurance::audit", outcome = entry.outcome, "{line}");
        }
    }
}

/// Admin alerts written as `tracing` warnings (target `ward_assurance::admin_alert`):
/// [`crate::AdminAlert::log_line`] only.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAdminAlerts;

impl crate::sinks::AdminAlerts for TracingAdminAlerts {
    fn alert(&mut self, alert: crate::sinks::AdminAlert) {
        let line = alert.log_line();
        tracing::warn!(target: "ward_assurance::admin_alert", "{line}");
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
    body_read: Duration,
    sync_log: Option<Arc<dyn SyncLogReader>>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self {
            endpoint: Arc::clone(&self.endpoint),
            clock: Arc::clone(&self.clock),
            body_read: self.body_read,
            sync_log: self.sync_log.clone(),
        }
    }
}

/// A router with `POST /api/assurance/sync` and `GET /api/assurance/audit-types`, with the
/// default body time-out and no sync-log listing; anything else is a JSON 404 (405 for other
/// methods).
pub fn router<S: TaskStore + 'static>(
    endpoint: SharedEndpoint<S>,
    clock: Arc<dyn Clock>,
) -> Router {
    router_with(endpoint, clock, HttpTimeouts::default(), None)
}

/// [`router`] with the given body time-out (`timeouts.body_read`) and, when `sync_log` is
/// given, `GET /api/assurance/sync-log?ward=&since=&limit=` (authenticated like the sync
/// endpoint: the design's phase-3 sync monitoring).
pub fn router_with<S: TaskStore + 'static>(
    endpoint: SharedEndpoint<S>,
    clock: Arc<dyn Clock>,
    timeouts: HttpTimeouts,
    sync_log: Option<Arc<dyn SyncLogReader>>,
) -> Router {
    Router::new()
        .route(SYNC_PATH, post(sync::<S>))
        .route(AUDIT_TYPES_PATH, get(audit_types))
        .route(SYNC_LOG_PATH, get(sync_log_list::<S>))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(AppState {
            endpoint,
            clock,
            body_read: timeouts.body_read,
            sync_log,
        })
}

/// Serve `router` on `listener` until the process ends, with the default header time-out.
///
/// # Errors
/// The listener's IO errors.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    serve_with(listener, router, HttpTimeouts::default()).await
}

/// Serve `router` on `listener` (HTTP/1.1), closing any connection that has not sent a
/// complete request head within `timeouts.header_read`.
///
/// # Errors
/// The listener's IO errors other than running out of file descriptors or connections
/// aborted before they were accepted (those are waited out and accepting continues).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    timeouts: HttpTimeouts,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) if transient_accept_error(&error) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.header_read);
            // A failed connection (time-out, reset, bad request line) concerns only itself.
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn transient_accept_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    ) || error
        .raw_os_error()
        .is_some_and(|code| code == 23 || code == 24)
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
        "message": format!("no such endpoint: use POST {SYNC_PATH} or GET {AUDIT_TYPES_PATH}"),
    });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

async fn method_not_allowed() -> Response {
    let body = serde_json::json!({
        "success": false,
        "error": "METHOD_NOT_ALLOWED",
        "message": format!("use POST {SYNC_PATH} or GET {AUDIT_TYPES_PATH}"),
    });
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

/// `GET /api/assurance/audit-types`: the design's audit table as JSON
/// (`[{"code","label","cadence","shift"}]`), for the hub's admin pages. It holds no data, so
/// it needs no credentials.
async fn audit_types() -> Response {
    axum::Json(crate::audit_type::AuditType::catalogue()).into_response()
}

/// Whether a `Content-Type` value is JSON: `application/json`, any case, with or without
/// parameters such as `; charset=utf-8`.
#[must_use]
pub fn is_json_content_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
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
    if !header_text(&headers, header::CONTENT_TYPE.as_str()).is_some_and(is_json_content_type) {
        let now = state.clock.now();
        return reply(&lock(&state.endpoint).reject(&AssuranceError::UnsupportedMediaType, now));
    }
    let limit = lock(&state.endpoint).max_body_bytes();
    let declared =
        header_text(&headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        let now = state.clock.now();
        return reply(&lock(&state.endpoint).reject(&AssuranceError::BodyTooLarge { limit }, now));
    }
    let collected =
        tokio::time::timeout(state.body_read, Limited::new(body, limit).collect()).await;
    let Ok(collected) = collected else {
        let now = state.clock.now();
        let error = AssuranceError::RequestTimeout {
            seconds: state.body_read.as_secs().max(1),
        };
        let mut response = reply(&lock(&state.endpoint).reject(&error, now));
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        return response;
    };
    let bytes = match collected {
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
    let owned = |name| header_text(&headers, name).map(str::to_owned);
    let (key, signature, timestamp) = (
        owned(API_KEY_HEADER),
        owned(SIGNATURE_HEADER),
        owned(TIMESTAMP_HEADER),
    );
    let now = state.clock.now();
    let endpoint = Arc::clone(&state.endpoint);
    // The store may block on a database: off the runtime's worker threads.
    let handled = tokio::task::spawn_blocking(move || {
        let credentials =
            Credentials::new(key.as_deref(), signature.as_deref(), timestamp.as_deref());
        lock(&endpoint).handle(&credentials, &bytes, now)
    })
    .await;
    match handled {
        Ok(response) => reply(&response),
        Err(_) => reply(&SyncResponse::from_error(
            &AssuranceError::StoreUnavailable {
                reason: "the request was interrupted".into(),
            },
        )),
    }
}

/// `GET /api/assurance/sync-log?ward=&since=&limit=`: the attempts (ids, codes, ward, dates,
/// task ids; never a name, value or note), oldest first, as
/// `{"success": true, "entries": [...]}`. A refusal (credentials, a bad parameter) is
/// written to the audit log like a refused sync. `since` is an RFC 3339 date-time or a date
/// (midnight UTC); `limit` is 1..=5000 (default 500).
async fn sync_log_list<S: TaskStore + 'static>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let now = state.clock.now();
    let Some(reader) = state.sync_log.clone() else {
        return not_found().await;
    };
    let credentials = Credentials::new(
        header_text(&headers, API_KEY_HEADER),
        header_text(&headers, SIGNATURE_HEADER),
        header_text(&headers, TIMESTAMP_HEADER),
    );
    let caller = match lock(&state.endpoint).authenticate(&credentials, b"", now) {
        Ok(caller) => caller,
        Err(error) => return reply(&SyncResponse::from_error(&error)),
    };
    let selection = match SyncLogQuery::from_query_string(query.as_deref().unwrap_or("")) {
        Ok(selection) => selection,
        // A refusal like any other: written to the audit log (its code and the caller only).
        Err(error) => {
            lock(&state.endpoint)
                .engine_mut()
                .record_rejection(&error, Some(&caller), now);
            return reply(&SyncResponse::from_error(&error));
        }
    };
    let listed = tokio::task::spawn_blocking(move || reader.list(&selection)).await;
    match listed {
        Ok(Ok(entries)) => {
            axum::Json(serde_json::json!({"success": true, "entries": entries})).into_response()
        }
        Ok(Err(error)) => reply(&SyncResponse::from_error(&error)),
        Err(_) => reply(&SyncResponse::from_error(
            &AssuranceError::StoreUnavailable {
                reason: "the request was interrupted".into(),
            },
        )),
    }
}
