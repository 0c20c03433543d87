//! The authenticated provider and administrator API and the public referral routes, over a
//! [`Live`] marketplace (feature `live`). [`app`] merges them with the read-only ORUK API of
//! [`crate::api`].
//!
//! Keys travel as `Authorization: Bearer <key>` and map to a [`Principal`] ([`AuthKeys`]; only
//! their SHA-256 is kept). No key is a member of the public.
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `POST /provider/services` | provider, admin | create a listing `{service, entry, unlisted, referral_route}` (waits for review) |
//! | `GET /provider/services` | provider, admin | own listings |
//! | `GET/PUT/DELETE /provider/services/{id}` | owner, admin | read, replace, delete |
//! | `POST /provider/services/{id}/state` | owner, admin | `{"action": "publish" \| "unlist" \| "freeze" (note, waiting_weeks) \| "unfreeze" \| "suspend" \| "confirm"}` |
//! | `GET /provider/services/{id}/statistics` | owner, admin | referral statistics |
//! | `GET /provider/referrals` | provider, admin | inbound referrals |
//! | `POST /provider/referrals/{id}/accept`, `/decline` | owner, admin | answer |
//! | `POST /provider/referrals/{id}/attendance` | owner, admin | `{"attended": bool}` |
//! | `POST /provider/claim/{token}` | provider | claim a bulk-uploaded entry |
//! | `GET /admin/review` | admin | the review queue with the >48 h report |
//! | `POST /admin/review/{id}/approve`, `/decline` | admin | review |
//! | `POST /admin/bulk` | admin | bulk upload (array of services): claim links |
//! | `POST /admin/onboarding` | admin | a CSV or XLSX spreadsheet: one claim e-mail per provider ([`crate::onboarding::routes`]) |
//! | `GET /admin/outbox` | admin | the notification outbox |
//! | `GET /marketplace/services/{id}` | anyone | listing state, note, waiting weeks, referral form or link, statistics |
//! | `POST /marketplace/services/{id}/referrals` | anyone (self), professional | `{"answers": {...}}` |
//! | `POST /marketplace/referrals/{id}/feedback` | the referred person | `{"token", "score", "met_needs"}` |
//!
//! Errors are JSON `{"error", "message"}` (+ `findings` with JSON paths for invalid services);
//! a body over [`MAX_BODY_BYTES`] is 413, malformed JSON 400, no or an unknown key 401,
//! another provider's listing 403, an unknown id 404, an illegal state change 409. No error
//! repeats a received value. A refused request changes nothing. `GET /services` and
//! `GET /service_at_locations` take `status` only with a key (401 otherwise).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::ApiState;
use crate::live::core::{ListingInput, ListingRecord, Principal, ReferralRecord, StateAction};
use crate::live::{Live, LiveError};
use crate::validate::Finding;

pub(crate) mod shared;
use shared::without_values;
pub use shared::{AuthKeys, MarketState, Refusal};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

type Answer = Result<Response, Refusal>;

/// What `POST /provider/services` does with a body before anything is stored: decode it, check
/// the service (official schema errors with JSON paths, semantic warnings) and the entry
/// (signposting minimum, referral route). Returns the warnings. The entry point of the
/// `oruk_listing_body` fuzz target.
pub fn check_listing_body(bytes: &[u8], today: chrono::NaiveDate) -> Result<Vec<Finding>, Refusal> {
    let input: ListingInput = decode(bytes, LISTING_BODY)?;
    let (_, warnings) = crate::live::core::Core::check_input(&input, today)?;
    let _: Result<StateAction, Refusal> = decode(bytes, "a state action");
    Ok(without_values(warnings))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], expected: &str) -> Result<T, Refusal> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Refusal::bad_request(format!(
            "the body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    serde_json::from_value(value)
        .map_err(|_| Refusal::bad_request(format!("the body must be {expected}")))
}

fn body<T: serde::de::DeserializeOwned>(
    bytes: Result<Bytes, BytesRejection>,
    expected: &str,
) -> Result<T, Refusal> {
    let bytes = bytes.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            )
        } else {
            Refusal::bad_request("the body could not be read")
        }
    })?;
    decode(&bytes, expected)
}

fn principal(state: &MarketState, headers: &HeaderMap) -> Result<Principal, Refusal> {
    Ok(state.keys.principal(headers)?)
}

fn authenticated(state: &MarketState, headers: &HeaderMap) -> Result<Principal, Refusal> {
    match principal(state, headers)? {
        Principal::Public => Err(LiveError::Unauthorized.into()),
        other => Ok(other),
    }
}

fn listing_view(listing: &ListingRecord) -> Value {
    json!({
        "id": listing.service.id,
        "owner": listing.owner,
        "entry": listing.kind,
        "state": listing.state,
        "review": listing.review,
        "submitted_at": listing.submitted_at,
        "reviewed_at": listing.reviewed_at,
        "note": listing.note,
        "waiting_weeks": listing.waiting_weeks,
        "consecutive_declines": listing.consecutive_declines,
        "consecutive_unanswered": listing.consecutive_unanswered,
        "referral_route": listing.route,
        "claimable": listing.claim_hash.is_some(),
        "service": listing.service,
    })
}

fn referral_view(referral: &ReferralRecord) -> Value {
    json!({
        "id": referral.id,
        "service_id": referral.service_id,
        "kind": referral.kind,
        "referrer": referral.referrer,
        "answers": referral.answers,
        "submitted_at": referral.submitted_at,
        "status": referral.status,
        "answered_at": referral.answered_at,
        "reminders": referral.reminders,
        "attended": referral.attended,
        "score": referral.score,
        "met_needs": referral.met_needs,
    })
}

fn owns(principal: &Principal, listing: &ListingRecord) -> bool {
    match principal {
        Principal::Admin => true,
        Principal::Provider(org) => listing.owner.as_deref() == Some(org.as_str()),
        _ => false,
    }
}

const LISTING_BODY: &str = "a JSON object {\"service\": {...ORUK 3.0 service...}, \"entry\": \"referral\"|\"signposting_only\", \"unlisted\": bool, \"referral_route\": {\"form\": {\"fields\": [...]}} | {\"external_link\": {\"url\": ...}}}";

async fn create(
    State(state): State<MarketState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    let input: ListingInput = body(bytes, LISTING_BODY)?;
    let warnings = state.live.create_listing(&who, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"review": "pending", "warnings": without_values(warnings)})),
    )
        .into_response())
}

async fn list_own(State(state): State<MarketState>, headers: HeaderMap) -> Answer {
    let who = authenticated(&state, &headers)?;
    let listings: Vec<Value> = state
        .live
        .read(|core| {
            core.listings()
                .filter(|l| l.review != crate::live::core::Review::Deleted && owns(&who, l))
                .map(listing_view)
                .collect()
        })
        .await;
    Ok(Json(listings).into_response())
}

async fn read_own(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    let view = state
        .live
        .read(|core| match core.listing(&id) {
            Some(l) if l.review == crate::live::core::Review::Deleted => {
                Err(LiveError::NotFound("no listing with this id"))
            }
            Some(l) if owns(&who, l) => Ok(listing_view(l)),
            Some(_) => Err(LiveError::Forbidden(
                "this listing belongs to another provider organisation",
            )),
            None => Err(LiveError::NotFound("no listing with this id")),
        })
        .await?;
    Ok(Json(view).into_response())
}

async fn edit(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    let input: ListingInput = body(bytes, LISTING_BODY)?;
    let warnings = state.live.edit_listing(&who, &id, input).await?;
    Ok(Json(json!({"warnings": without_values(warnings)})).into_response())
}

async fn delete(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    state.live.delete_listing(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn change_state(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    let action: StateAction = body(
        bytes,
        "{\"action\": \"publish\"|\"unlist\"|\"freeze\"|\"unfreeze\"|\"suspend\"|\"confirm\"} (freeze also takes \"note\" and \"waiting_weeks\")",
    )?;
    state.live.set_state(&who, &id, action).await?;
    read_own(State(state), headers, Path(id)).await
}

async fn statistics(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    let allowed = state
        .live
        .read(|core| core.listing(&id).map(|l| owns(&who, l)))
        .await;
    match allowed {
        None => Err(LiveError::NotFound("no listing with this id").into()),
        Some(false) => Err(LiveError::Forbidden(
            "this listing belongs to another provider organisation",
        )
        .into()),
        Some(true) => Ok(Json(state.live.statistics(&id).await).into_response()),
    }
}

async fn inbound(State(state): State<MarketState>, headers: HeaderMap) -> Answer {
    let who = authenticated(&state, &headers)?;
    let referrals: Vec<Value> = state
        .live
        .read(|core| {
            core.referrals()
                .filter(|r| core.listing(&r.service_id).is_some_and(|l| owns(&who, l)))
                .map(referral_view)
                .collect()
        })
        .await;
    Ok(Json(referrals).into_response())
}

async fn accept(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    state.live.answer(&who, &id, true).await?;
    Ok(Json(json!({"status": "accepted"})).into_response())
}

async fn decline(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    state.live.answer(&who, &id, false).await?;
    Ok(Json(json!({"status": "declined"})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Attendance {
    attended: bool,
}

async fn attendance(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    let input: Attendance = body(bytes, "{\"attended\": true|false}")?;
    state.live.attendance(&who, &id, input.attended).await?;
    Ok(Json(json!({"attended": input.attended})).into_response())
}

async fn claim(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Answer {
    let who = authenticated(&state, &headers)?;
    state.live.claim(&who, &token).await?;
    Ok(Json(json!({"claimed": true})).into_response())
}

fn admin(state: &MarketState, headers: &HeaderMap) -> Result<(), Refusal> {
    match principal(state, headers)? {
        Principal::Admin => Ok(()),
        Principal::Public => Err(LiveError::Unauthorized.into()),
        _ => Err(LiveError::Forbidden("only an administrator may do this").into()),
    }
}

async fn review_queue(State(state): State<MarketState>, headers: HeaderMap) -> Answer {
    admin(&state, &headers)?;
    let now = state.live.now();
    let queue = state
        .live
        .read(|core| {
            let queue = core.review_queue(now);
            let waiting: Vec<Value> = queue
                .iter()
                .map(|(l, overdue)| {
                    json!({
                        "id": l.service.id,
                        "name": l.service.name,
                        "owner": l.owner,
                        "submitted_at": l.submitted_at,
                        "waiting_hours": (now - l.submitted_at).num_hours(),
                        "overdue": overdue,
                    })
                })
                .collect();
            let overdue = queue.iter().filter(|(_, o)| *o).count();
            json!({
                "waiting": waiting,
                "overdue": overdue,
                "review_within_hours": core.rules().review_within.num_hours(),
            })
        })
        .await;
    Ok(Json(queue).into_response())
}

async fn approve(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    admin(&state, &headers)?;
    state.live.review(&Principal::Admin, &id, true).await?;
    Ok(Json(json!({"review": "approved"})).into_response())
}

async fn decline_listing(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    admin(&state, &headers)?;
    state.live.review(&Principal::Admin, &id, false).await?;
    Ok(Json(json!({"review": "declined"})).into_response())
}

async fn bulk(
    State(state): State<MarketState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    admin(&state, &headers)?;
    let services: Vec<Value> = body(bytes, "a JSON array of ORUK 3.0 services")?;
    let claims = state.live.bulk_upload(&Principal::Admin, services).await?;
    let links: Vec<Value> = claims
        .into_iter()
        .map(|(id, token)| json!({"id": id, "claim_link": format!("/provider/claim/{token}")}))
        .collect();
    Ok((StatusCode::CREATED, Json(links)).into_response())
}

async fn outbox(State(state): State<MarketState>, headers: HeaderMap) -> Answer {
    admin(&state, &headers)?;
    Ok(Json(state.live.outbox().await).into_response())
}

async fn public_listing(State(state): State<MarketState>, Path(id): Path<String>) -> Answer {
    let view = state
        .live
        .read(|core| {
            let listing = core
                .listing(&id)
                .filter(|l| l.review == crate::live::core::Review::Approved)
                .filter(|l| l.state.reachable_by_id())?;
            Some(json!({
                "id": listing.service.id,
                "name": listing.service.name,
                "entry": listing.kind,
                "state": listing.state,
                "note": listing.note,
                "waiting_weeks": listing.waiting_weeks,
                "referral_route": listing.route,
                "statistics": core.statistics(&id),
            }))
        })
        .await
        .ok_or(LiveError::NotFound("no listing with this id"))?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferralInput {
    #[serde(default)]
    answers: BTreeMap<String, String>,
}

async fn refer(
    State(state): State<MarketState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let who = principal(&state, &headers)?;
    let input: ReferralInput = body(bytes, "{\"answers\": {\"field\": \"text\", ...}}")?;
    let (referral_id, token) = state.live.refer(&who, &id, input.answers).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": referral_id, "feedback_token": token, "status": "pending"})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackInput {
    token: String,
    score: u8,
    #[serde(default)]
    met_needs: Option<bool>,
}

async fn feedback(
    State(state): State<MarketState>,
    Path(id): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Answer {
    let input: FeedbackInput = body(
        bytes,
        "{\"token\": \"...\", \"score\": 1-5, \"met_needs\": true|false}",
    )?;
    state
        .live
        .feedback(&id, &input.token, input.score, input.met_needs)
        .await?;
    Ok(Json(json!({"score": input.score})).into_response())
}

/// The provider, administrator and referral routes.
pub fn router(state: MarketState) -> Router {
    Router::new()
        .route("/provider/services", post(create).get(list_own))
        .route(
            "/provider/services/{id}",
            get(read_own).put(edit).delete(delete),
        )
        .route("/provider/services/{id}/state", post(change_state))
        .route("/provider/services/{id}/statistics", get(statistics))
        .route("/provider/referrals", get(inbound))
        .route("/provider/referrals/{id}/accept", post(accept))
        .route("/provider/referrals/{id}/decline", post(decline))
        .route("/provider/referrals/{id}/attendance", post(attendance))
        .route("/provider/claim/{token}", post(claim))
        .route("/admin/review", get(review_queue))
        .route("/admin/review/{id}/approve", post(approve))
        .route("/admin/review/{id}/decline", post(decline_listing))
        .route("/admin/bulk", post(bulk))
        .route("/admin/outbox", get(outbox))
        .route("/marketplace/services/{id}", get(public_listing))
        .route("/marketplace/services/{id}/referrals", post(refer))
        .route("/marketplace/referrals/{id}/feedback", post(feedback))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// `status` on the public search routes needs a key.
async fn status_needs_key(
    State(keys): State<Arc<AuthKeys>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if matches!(path, "/services" | "/service_at_locations") {
        let asks_status = request.uri().query().is_some_and(|q| {
            crate::query::decode_query_string(q)
                .map(|pairs| pairs.iter().any(|(k, _)| k == "status"))
                .unwrap_or(false)
        });
        if asks_status {
            match keys.principal(request.headers()) {
                Ok(Principal::Public) | Err(_) => {
                    return Refusal::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "the `status` parameter needs an API key (public search lists active services only)",
                    )
                    .into_response();
                }
                Ok(_) => {}
            }
        }
    }
    next.run(request).await
}

/// The whole service: the ORUK read API over the live directory plus [`router`].
pub fn app(live: Arc<Live>, keys: AuthKeys) -> Router {
    let keys = Arc::new(keys);
    let mut api_state = ApiState::new(crate::Directory::new(Vec::new()));
    api_state.directory = live.directory();
    let market = MarketState {
        live,
        keys: Arc::clone(&keys),
    };
    crate::api::router(api_state)
        .merge(router(market.clone()))
        .merge(crate::onboarding::routes::router(market.clone()))
        .merge(crate::freshness::routes::router(market))
        .layer(axum::middleware::from_fn_with_state(keys, status_needs_key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::core::hash_secret;

    #[test]
    fn auth_keys_debug_shows_no_key_or_principal() {
        let keys = AuthKeys::new().with("provider-key-1", Principal::Provider("org-7".into()));
        let text = format!("{keys:?}");
        assert_eq!(text, "AuthKeys { keys: <redacted> }");
        assert!(!text.contains(&hash_secret("provider-key-1")));
    }
}
