//! `POST /admin/onboarding` (administrators), merged into [`crate::provider_api::app`]: the
//! body is the spreadsheet, `Content-Type: text/csv` or (feature `xlsx`)
//! `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`; at most
//! [`super::Limits::max_bytes`] (10 MiB). The answer (201) is the [`super::OnboardingReport`]:
//! created, updated, unchanged and kept entries, the claim link sent to each provider, and the
//! row errors. A whole-file problem is 400, another content type 415, a larger body 413.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use super::{Limits, onboard, read_csv};
use crate::live::LiveError;
use crate::live::core::Principal;
use crate::provider_api::shared::{MarketState, Refusal};

/// The XLSX media type.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn plain(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

async fn upload(
    State(state): State<MarketState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    match state.keys.principal(&headers)? {
        Principal::Admin => {}
        Principal::Public => return Err(LiveError::Unauthorized.into()),
        _ => return Err(LiveError::Forbidden("only an administrator may do this").into()),
    }
    let limits = Limits::default();
    let Ok(bytes) = body else {
        return Ok(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the spreadsheet is larger than 10 MiB",
        ));
    };
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let sheets = match media.as_str() {
        "text/csv" => vec![read_csv(&bytes, &limits)?],
        #[cfg(feature = "xlsx")]
        XLSX_TYPE => super::read_xlsx(&bytes, &limits)?,
        _ => {
            return Ok(plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the spreadsheet as text/csv or as an XLSX workbook",
            ));
        }
    };
    let report = onboard(&state.live, &sheets, &limits).await?;
    Ok((StatusCode::CREATED, Json(report)).into_response())
}

/// The onboarding route.
pub fn router(state: MarketState) -> Router {
    Router::new()
        .route("/admin/onboarding", post(upload))
        .layer(DefaultBodyLimit::max(Limits::default().max_bytes))
        .with_state(state)
}
