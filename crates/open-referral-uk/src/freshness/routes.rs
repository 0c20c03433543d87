//! The freshness routes, in the style of [`crate::provider_api`] (same keys, same error
//! shape `{"error", "message"}`), merged into [`crate::provider_api::app`].
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `GET /provider/services/{id}/freshness` | owner, admin | last check, next check, pending changes (readable), open reports (with their reasons), review due |
//! | `POST /provider/services/{id}/freshness/confirm` | owner, admin | still correct: ends a freshness suspension, the latest snapshot becomes the confirmed one |
//! | `GET /admin/freshness/due` | admin | the due-for-review queue (listings without a website, three-monthly) |
//! | `POST /admin/freshness/{id}/reviewed` | admin | the manual review found the entry correct |
//! | `POST /marketplace/services/{id}/report` | anyone | `{"reason": "..."}` (at most [`MAX_REASON_CHARS`] characters): suspends the listing pending the provider's answer |
//!
//! The public report route is bounded: a body over [`MAX_REPORT_BODY_BYTES`] is 413, at most
//! [`ReportLimiter`]'s reports per window per instance are taken (429 after that, with
//! `Retry-After`), a listing takes at most [`super::MAX_OPEN_REPORTS`] open reports, and a
//! suspended listing cannot be reported again (404) until its provider answers. The reason
//! is shown only to the listing's owner and administrators (never in the outbox, a log or
//! the public answer).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::MAX_REASON_CHARS;
use super::record::FreshnessRecord;
use super::snapshot::readable;
use crate::live::LiveError;
use crate::live::core::Principal;
use crate::provider_api::shared::{MarketState, Refusal};

/// The largest body of a public report.
pub const MAX_REPORT_BODY_BYTES: usize = 8 * 1024;

/// A fixed-window bound on public reports per instance, on the marketplace's clock.
#[derive(Debug)]
pub struct ReportLimiter {
    per_window: u32,
    window: Duration,
    state: Mutex<(Option<DateTime<Utc>>, u32)>,
}

impl Default for ReportLimiter {
    /// 30 reports per hour.
    fn default() -> Self {
        Self::new(30, Duration::hours(1))
    }
}

impl ReportLimiter {
    /// At most `per_window` reports per `window`.
    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window,
            window,
            state: Mutex::new((None, 0)),
        }
    }

    /// Takes one report at `now`; `Err(seconds to wait)` when the window is full.
    pub fn take(&self, now: DateTime<Utc>) -> Result<(), i64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let start = match state.0 {
            Some(start) if now - start < self.window && now >= start => start,
            _ => {
                *state = (Some(now), 0);
                now
            }
        };
        if state.1 >= self.per_window {
            return Err((start + self.window - now).num_seconds().max(1));
        }
        state.1 += 1;
        Ok(())
    }
}

#[derive(Clone, Debug)]
struct FreshState {
    market: MarketState,
    limiter: Arc<ReportLimiter>,
}

type Answer = Result<Response, Refusal>;

fn refuse(status: StatusCode, error: &str, message: String) -> Response {
    tracing::info!(status = status.as_u16(), error, "freshness request refused");
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

fn principal(state: &FreshState, headers: &HeaderMap) -> Result<Principal, Refusal> {
    Ok(state.market.keys.principal(headers)?)
}

fn authenticated(state: &FreshState, headers: &HeaderMap) -> Result<Principal, Refusal> {
    match principal(state, headers)? {
        Principal::Public => Err(LiveError::Unauthorized.into()),
        other => Ok(other),
    }
}

fn admin(state: &FreshState, headers: &HeaderMap) -> Result<(), Refusal> {
    match principal(state, headers)? {
        Principal::Admin => Ok(()),
        Principal::Public => Err(LiveError::Unauthorized.into()),
        _ => Err(LiveError::Forbidden("only an administrator may do this").into()),
    }
}

/// The freshness record as its owner (or an administrator) sees it, open reports included.
fn view(id: &str, record: Option<&FreshnessRecord>) -> Value {
    let Some(r) = record else {
        return json!({"id": id, "checked": false});
    };
    json!({
        "id": id,
        "website": r.website,
        "last_checked_at": r.last_checked_at,
        "next_check_at": r.next_check_at,
        "last_result": r.last_result,
        "suspended_by": r.suspended_by,
        "changes": r.changes,
        "changes_readable": readable(&r.changes),
        "open_reports": r.reports.len(),
        "reports": r.reports.iter().map(|report| json!({
            "received_at": report.received_at,
            "reason": report.reason.expose(),
        })).collect::<Vec<_>>(),
        "last_confirmed_at": r.last_confirmed_at,
        "review_due_since": r.review_due_since,
        "confirmed_contacts": r.confirmed.as_ref().map(|s| &s.contacts),
    })
}

async fn read(
    State(state): State<FreshState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    let body = state
        .market
        .live
        .read(|core| {
            let listing = core
                .listing(&id)
                .filter(|l| l.review != crate::live::core::Review::Deleted)
                .ok_or(LiveError::NotFound("no listing with this id"))?;
            match &who {
                Principal::Admin => {}
                Principal::Provider(org) if listing.owner.as_deref() == Some(org.as_str()) => {}
                _ => {
                    return Err(LiveError::Forbidden(
                        "this listing belongs to another provider organisation",
                    ));
                }
            }
            Ok(view(&id, super::rules::record(core, &id).as_ref()))
        })
        .await?;
    Ok(Json(body).into_response())
}

async fn confirm(
    State(state): State<FreshState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    state.market.live.confirm_fresh(&who, &id).await?;
    read(State(state), headers, Path(id)).await
}

async fn due(State(state): State<FreshState>, headers: HeaderMap) -> Answer {
    admin(&state, &headers)?;
    let queue = state.market.live.review_due().await;
    Ok(Json(json!({"due": queue})).into_response())
}

async fn reviewed(
    State(state): State<FreshState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    admin(&state, &headers)?;
    state
        .market
        .live
        .confirm_fresh(&Principal::Admin, &id)
        .await?;
    Ok(Json(json!({"reviewed": true})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportInput {
    reason: String,
}

async fn report(
    State(state): State<FreshState>,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is larger than {MAX_REPORT_BODY_BYTES} bytes"),
            ));
        }
        Err(_) => return Err(LiveError::BadRequest("the body could not be read".into()).into()),
    };
    let input: ReportInput = serde_json::from_slice(&bytes).map_err(|_| {
        LiveError::BadRequest(format!(
            "the body must be {{\"reason\": \"...\"}} (at most {MAX_REASON_CHARS} characters)"
        ))
    })?;
    if let Err(wait) = state.limiter.take(state.market.live.now()) {
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_reports",
            "too many reports in a short time; try again later".into(),
        );
        if let Ok(value) = wait.to_string().parse() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    state
        .market
        .live
        .report_out_of_date(&id, &input.reason)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"reported": true, "state": "suspended"})),
    )
        .into_response())
}

/// The freshness routes over a marketplace, with the default [`ReportLimiter`].
pub fn router(market: MarketState) -> Router {
    router_with(market, ReportLimiter::default())
}

/// The freshness routes with a chosen report limit.
pub fn router_with(market: MarketState, limiter: ReportLimiter) -> Router {
    let state = FreshState {
        market,
        limiter: Arc::new(limiter),
    };
    let public = Router::new()
        .route("/marketplace/services/{id}/report", post(report))
        .layer(DefaultBodyLimit::max(MAX_REPORT_BODY_BYTES));
    Router::new()
        .route("/provider/services/{id}/freshness", get(read))
        .route("/provider/services/{id}/freshness/confirm", post(confirm))
        .route("/admin/freshness/due", get(due))
        .route("/admin/freshness/{id}/reviewed", post(reviewed))
        .merge(public)
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_limiter_takes_a_window_at_a_time() {
        let limiter = ReportLimiter::new(2, Duration::minutes(10));
        let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        assert!(limiter.take(t0).is_ok());
        assert!(limiter.take(t0).is_ok());
        assert_eq!(limiter.take(t0 + Duration::minutes(4)), Err(360));
        assert!(limiter.take(t0 + Duration::minutes(10)).is_ok());
    }
}
