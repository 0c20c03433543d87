//! The ORUK 3.0 HTTP API over a [`Directory`] (feature `api`).
//!
//! | endpoint | answer |
//! | --- | --- |
//! | `GET /` | [`ApiDetails`] (`version`, `profile`, `openapi_url`) |
//! | `GET /services` | page of services in list form, filtered and ranked by [`SearchQuery`] |
//! | `GET /services/{id}` | the fully nested service |
//! | `GET /service_at_locations` | page of `{id, service_id, location_id, location, service}` (same filters) |
//! | `GET /service_at_locations/{id}` | one service-at-location document (see below) |
//! | `GET /taxonomies`, `GET /taxonomies/{id}` | taxonomies |
//! | `GET /taxonomy_terms`, `GET /taxonomy_terms/{id}` | taxonomy terms |
//!
//! Every response carries `Access-Control-Allow-Origin: *`. Unknown ids and paths answer 404,
//! malformed or out-of-range parameters 400 (the ranges are listed in [`crate::query`]), a
//! method other than `GET`/`HEAD`/`OPTIONS` 405, all with a JSON body
//! `{"error": ..., "message": ...}` that names the field and what was wrong with it. An error
//! never repeats a received value (a path id, a postcode, search text): callers already have
//! it, and a log or a proxy that records error bodies must not collect it. Each refused request
//! is logged (`tracing`, target `open_referral_uk::api`) with its status and that same
//! message. The handlers are thin: all logic is in [`crate::query`] and [`crate::search`].
//!
//! `GET /service_at_locations/{id}` answers a **service-at-location** document: `id`,
//! `service_id`, `location_id`, the nested `location`, and the `service` in list form. The
//! official UK `openapi.json` points this path's response at `compiled/service.json` (a
//! service with `id`, `name`, `status` required), a known defect of that file: the ORUK
//! validator (`tpximpact/OpenReferralApi`, test profiles `HSDS-UK-3.0` and `HSDS-3.0-UK`)
//! checks this endpoint against the service-at-location schema, its own mock endpoint serves
//! `service_at_location_full.json`, the HSDS 3.0 API reference says the endpoint "will return
//! service at location data", and `openreferral/mock-hsds-api` serves its stored
//! service-at-location files. We follow them.
//!
//! [`serve`] closes a connection whose request head is not complete within
//! [`ServeOptions::header_read_timeout`] (default 10 s), and one on which nothing is read or
//! written for [`ServeOptions::idle_timeout`] (default 30 s); a request body that is still
//! arriving [`ServeOptions::body_read_timeout`] (default 60 s) after its head is refused with
//! 408 and the connection closed, however steadily it trickles. A half-sent request, a
//! stalled or dribbled body, or an idle keep-alive connection does not hold a socket.

use std::sync::{Arc, RwLock};

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The message never holds a received value, so it is safe to log as is.
        tracing::info!(
            status = self.status.as_u16(),
            error = self.error,
            message = %self.message,
            "request refused"
        );
        (self.status, Json(&self)).into_response()
    }
}

type Params = RawQuery;
type Id = Result<Path<String>, PathRejection>;

fn search_query(params: Params) -> Result<SearchQuery, ApiError> {
    let RawQuery(raw) = params;
    Ok(SearchQuery::from_query_string(
        raw.as_deref().unwrap_or(""),
    )?)
}

/// The `{id}` of a path. An id that is not valid percent-encoded UTF-8 cannot name anything.
fn path_id(id: Id) -> Result<String, ApiError> {
    id.map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("`id` in the path is not valid percent-encoded UTF-8"))
}

fn read(state: &ApiState) -> Result<std::sync::RwLockReadGuard<'_, Directory>, ApiError> {
    state.directory.read().map_err(|_| ApiError::internal())
}

fn page_only(params: Params) -> Result<PageRequest, ApiError> {
    let RawQuery(raw) = params;
    let pairs = crate::query::decode_query_string(raw.as_deref().unwrap_or(""))?;
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
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(cors)
}

/// Connection limits of [`serve_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeOptions {
    /// The whole request head (request line and headers) must arrive within this time after
    /// its first byte; otherwise the connection is closed. Default 10 s.
    pub header_read_timeout: Duration,
    /// A connection on which nothing is read or written for this long is closed: a silent
    /// client, a half-sent body, a client that stops reading. Default 30 s.
    pub idle_timeout: Duration,
    /// A request body must have arrived in full within this time of the handler starting to
    /// read it (handlers read it first thing); otherwise the answer is 408 and the
    /// connection is closed, even if bytes keep trickling in. Default 60 s (a 10 MiB upload at
    /// 2 Mbit/s).
    pub body_read_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
        }
    }
}

impl ServeOptions {
    /// Sets [`ServeOptions::header_read_timeout`].
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServeOptions::idle_timeout`].
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`ServeOptions::body_read_timeout`].
    #[must_use]
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }
}

/// Serves the API on a bound listener until the task is dropped, with the default
/// [`ServeOptions`].
pub async fn serve(listener: tokio::net::TcpListener, state: ApiState) -> std::io::Result<()> {
    serve_with(listener, state, ServeOptions::default()).await
}

/// Serves the API (HTTP/1.1) on a bound listener with these connection limits until the task
/// is dropped. An accept error (e.g. out of file descriptors) pauses accepting for 100 ms.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: ApiState,
    options: ServeOptions,
) -> std::io::Result<()> {
    serve_router(listener, router(state), options).await
}

/// Serves any router (e.g. `provider_api::app`, feature `live`) with the same
/// connection limits as [`serve_with`].
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    app: Router,
    options: ServeOptions,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn_with_state(
        options.body_read_timeout,
        body_deadline,
    ));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let io = hyper_util::rt::TokioIo::new(IdleTimeout::new(stream, options.idle_timeout));
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(options.header_read_timeout)
                .serve_connection(io, service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
        });
    }
}

/// Gives the request body a deadline ([`ServeOptions::body_read_timeout`]); a body that
/// missed it is answered 408 (JSON) with `Connection: close`, whatever the handler made of the
/// failed read.
async fn body_deadline(
    State(limit): State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let expired = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&expired);
    let request = request.map(|body| {
        axum::body::Body::new(DeadlineBody {
            inner: body,
            limit,
            deadline: None,
            expired: flag,
        })
    });
    let response = next.run(request).await;
    if !expired.load(std::sync::atomic::Ordering::Acquire) {
        return response;
    }
    let mut response = ApiError {
        status: StatusCode::REQUEST_TIMEOUT,
        error: "request_timeout",
        message: format!(
            "the request body did not arrive within {} s",
            limit.as_secs().max(1)
        ),
    }
    .into_response();
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

/// A request body that fails once `limit` has passed since it was first read.
struct DeadlineBody {
    inner: axum::body::Body,
    limit: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    expired: Arc<std::sync::atomic::AtomicBool>,
}

/// The error a [`DeadlineBody`] ends with.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl hyper::body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let limit = this.limit;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        // The deadline first: a body that keeps a frame ready at every poll is cut off too.
        if deadline.as_mut().poll(cx).is_ready() {
            this.expired
                .store(true, std::sync::atomic::Ordering::Release);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A stream that fails with `TimedOut` once nothing has been read or written for `idle`.
struct IdleTimeout<S> {
    inner: S,
    idle: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<S> IdleTimeout<S> {
    fn new(inner: S, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn progress(&mut self) {
        let next = tokio::time::Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "connection idle")
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for IdleTimeout<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.progress();
                Poll::Ready(result)
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(result) => {
                this.progress();
                Poll::Ready(result)
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(timed_out())),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

async fn root(State(state): State<ApiState>) -> Json<ApiDetails> {
    Json(state.details.clone())
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint: see GET / and the ORUK 3.0 API reference")
}

async fn method_not_allowed() -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "method_not_allowed",
        message: "this API is read-only: use GET".to_owned(),
    }
}

async fn services(State(state): State<ApiState>, params: Params) -> Result<Response, ApiError> {
    let query = search_query(params)?;
    let directory = read(&state)?;
    let page = directory
        .search(&query)?
        .map(|hit| hit.service.to_list_item());
    Ok(Json(page).into_response())
}

async fn service(State(state): State<ApiState>, id: Id) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let directory = read(&state)?;
    match directory.service(&id) {
        Some(service) => Ok(Json(service).into_response()),
        None => Err(ApiError::not_found("no service with this id")),
    }
}

async fn service_at_locations(
    State(state): State<ApiState>,
    params: Params,
) -> Result<Response, ApiError> {
    let query = search_query(params)?;
    let directory = read(&state)?;
    Ok(Json(directory.search_service_at_locations(&query)?).into_response())
}

async fn service_at_location(State(state): State<ApiState>, id: Id) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let directory = read(&state)?;
    match directory.service_at_location(&id) {
        Some(item) => Ok(Json(item).into_response()),
        None => Err(ApiError::not_found("no service_at_location with this id")),
    }
}

async fn taxonomies(State(state): State<ApiState>, params: Params) -> Result<Response, ApiError> {
    let page = page_only(params)?;
    let directory = read(&state)?;
    Ok(Json(page.paginate(directory.taxonomies().collect())).into_response())
}

async fn taxonomy(State(state): State<ApiState>, id: Id) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let directory = read(&state)?;
    match directory.taxonomy(&id) {
        Some(taxonomy) => Ok(Json(taxonomy).into_response()),
        None => Err(ApiError::not_found("no taxonomy with this id")),
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

async fn taxonomy_term(State(state): State<ApiState>, id: Id) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let directory = read(&state)?;
    match directory.taxonomy_term(&id) {
        Some(term) => Ok(Json(term).into_response()),
        None => Err(ApiError::not_found("no taxonomy_term with this id")),
    }
}
