//! The ORUK 3.0 HTTP API over a [`Directory`] (feature `api`).
//!
//! | endpoint | answer |
//! | --- | --- |
//! | `GET /` | [`ApiDetails`] (`version`, `profile`, `openapi_url`) |
//! | `GET /services` | page of services in list form, filtered and ranked by [`SearchQuery`] |
//! | `GET /services/{id}` | the fully nested service |
//! | `GET /service_at_locations` | page of `{id, service_id, location_id, location, service}` (same filters) |
//! | `GET /service_at_locations/{id}` | one service-at-location with its service |
//! | `GET /taxonomies`, `GET /taxonomies/{id}` | taxonomies |
//! | `GET /taxonomy_terms`, `GET /taxonomy_terms/{id}` | taxonomy terms |
//!
//! Every response carries `Access-Control-Allow-Origin: *`. Unknown ids and paths answer 404,
//! malformed parameters 400, both with a JSON body `{"error": ..., "message": ...}` that says
//! what to fix. The handlers are thin: all logic is in [`crate::search`].

use std::sync::{Arc, RwLock};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tower_http::cors::{Any, CorsLayer};

use crate::error::OrukError;
use crate::model::ApiDetails;
use crate::page::PageRequest;
use crate::search::{Directory, SearchQuery};

/// What the handlers share: the directory (behind a lock, so marketplace state changes can be
/// applied while serving) and the `GET /` answer.
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiState {
    /// The directory served.
    pub directory: Arc<RwLock<Directory>>,
    /// The `GET /` response.
    pub details: ApiDetails,
}

impl ApiState {
    /// Serves a directory with the default [`ApiDetails`] (`HSDS-UK-3.0`).
    pub fn new(directory: Directory) -> Self {
        Self {
            directory: Arc::new(RwLock::new(directory)),
            details: ApiDetails::default(),
        }
    }
}

/// The error body of 4xx/5xx answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    #[serde(skip)]
    pub status: StatusCode,
    /// Short machine-readable kind: `bad_request`, `not_found`, `internal`.
    pub error: &'static str,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "bad_request",
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            error: "not_found",
            message: message.into(),
        }
    }

    fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "internal",
            message: "the directory is unavailable".to_owned(),
        }
    }
}

impl From<OrukError> for ApiError {
    fn from(error: OrukError) -> Self {
        match error {
            OrukError::BadParameter { .. } => Self::bad_request(error.to_string()),
            _ => Self::internal(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(format!("malformed query string: {}", rejection.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn read(state: &ApiState) -> Result<std::sync::RwLockReadGuard<'_, Directory>, ApiError> {
    state.directory.read().map_err(|_| ApiError::internal())
}

fn page_only(params: Params) -> Result<PageRequest, ApiError> {
    let Query(pairs) = params?;
    let query = SearchQuery::from_params(
        pairs
            .iter()
            .filter(|(key, _)| key == "page" || key == "per_page")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    Ok(query.page)
}

/// The ORUK 3.0 router with CORS `*`.
pub fn router(state: ApiState) -> Router {
    let cors = CorsLayer::new().allow_origin(Any).allow_methods([
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
    ]);
    Router::new()
        .route("/", get(root))
        .route("/services", get(services))
        .route("/services/{id}", get(service))
        .route("/service_at_locations", get(service_at_locations))
        .route("/service_at_locations/{id}", get(service_at_location))
        .route("/taxonomies", get(taxonomies))
        .route("/taxonomies/{id}", get(taxonomy))
        .route("/taxonomy_terms", get(taxonomy_terms))
        .route("/taxonomy_terms/{id}", get(taxonomy_term))
        .fallback(not_found)
        .with_state(state)
        .layer(cors)
}

/// Serves the API on a bound listener until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, state: ApiState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

async fn root(State(state): State<ApiState>) -> Json<ApiDetails> {
    Json(state.details.clone())
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint: see GET / and the ORUK 3.0 API reference")
}

async fn services(State(state): State<ApiState>, params: Params) -> Result<Response, ApiError> {
    let Query(pairs) = params?;
    let query = SearchQuery::from_params(pairs)?;
    let directory = read(&state)?;
    let page = directory
        .search(&query)?
        .map(|hit| hit.service.to_list_item());
    Ok(Json(page).into_response())
}

async fn service(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let directory = read(&state)?;
    match directory.service(&id) {
        Some(service) => Ok(Json(service).into_response()),
        None => Err(ApiError::not_found(format!("no service with id {id:?}"))),
    }
}

async fn service_at_locations(
    State(state): State<ApiState>,
    params: Params,
) -> Result<Response, ApiError> {
    let Query(pairs) = params?;
    let query = SearchQuery::from_params(pairs)?;
    let directory = read(&state)?;
    Ok(Json(directory.search_service_at_locations(&query)?).into_response())
}

async fn service_at_location(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let directory = read(&state)?;
    match directory.service_at_location(&id) {
        Some(item) => Ok(Json(item).into_response()),
        None => Err(ApiError::not_found(format!(
            "no service_at_location with id {id:?}"
        ))),
    }
}

async fn taxonomies(State(state): State<ApiState>, params: Params) -> Result<Response, ApiError> {
    let page = page_only(params)?;
    let directory = read(&state)?;
    Ok(Json(page.paginate(directory.taxonomies().collect())).into_response())
}

async fn taxonomy(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let directory = read(&state)?;
    match directory.taxonomy(&id) {
        Some(taxonomy) => Ok(Json(taxonomy).into_response()),
        None => Err(ApiError::not_found(format!("no taxonomy with id {id:?}"))),
    }
}

async fn taxonomy_terms(
    State(state): State<ApiState>,
    params: Params,
) -> Result<Response, ApiError> {
    let page = page_only(params)?;
    let directory = read(&state)?;
    Ok(Json(page.paginate(directory.taxonomy_terms().collect())).into_response())
}

async fn taxonomy_term(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let directory = read(&state)?;
    match directory.taxonomy_term(&id) {
        Some(term) => Ok(Json(term).into_response()),
        None => Err(ApiError::not_found(format!(
            "no taxonomy_term with id {id:?}"
        ))),
    }
}
