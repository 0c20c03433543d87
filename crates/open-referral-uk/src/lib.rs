//! Open Referral UK (HSDS 3.0 UK profile) directory model, validation, search and API.
//!
//! * [`model`]: serde types for every ORUK 3.0 object; unknown properties are kept, absent
//!   values omitted, code lists have a catch-all.
//! * [`validate`]: Error / Warning / Info findings with JSON paths, for single services and
//!   pages; the date is a parameter.
//! * [`search`]: an in-memory [`Directory`] with text, taxonomy, age, schedule, cost and
//!   spatial indexes, a pluggable postcode [`search::Geocoder`], service areas (postcode
//!   prefixes and GeoJSON polygons, [`search::extent`]), ranking and ORUK pagination.
//! * [`page`]: the ORUK 3.0 page envelope.
//! * [`query`]: query-string decoding and the documented range of every search parameter.
//! * [`marketplace`]: listing states and referral rules (Joy defaults), time injected.
//! * [`csv_import`]: bulk upload of services from a spreadsheet with row-level errors.
//! * [`synthetic`]: fictitious directories of any size for benches and demos.
//! * `api` (feature `api`, on by default): the ORUK 3.0 HTTP API on axum.
//! * `schema` (feature `schema`, on by default): the official UK-profile JSON Schemas, shipped
//!   as data, run by the `jsonschema` engine; errors at the validator's JSON paths.
//! * `live` (feature `live`, on by default): the marketplace as a persistent service —
//!   [`store`] (SQLite, PostgreSQL), `live` (rules, incremental index, scheduler, outbox) and
//!   `provider_api` (authenticated provider and administrator routes, referrals).
//! * `live::smtp` (feature `smtp`, off by default): an SMTP notifier that e-mails the outbox
//!   (lettre on tokio + rustls).
//! * `freshness` (feature `live`; the website fetcher with feature `freshness`): website
//!   change checks, three-monthly review cycles and public "out of date" reports.
//! * `federation` (module with `live`; its HTTP client with feature `federation`): import
//!   from other ORUK 3.0 directories and a two-way sync that converges without ping-pong.
//! * `onboarding` (module with `live`; XLSX with feature `xlsx`): bulk onboarding from CSV
//!   and XLSX spreadsheets with row errors and one claim e-mail per provider.
//!
//! ```
//! use open_referral_uk::{Directory, SearchQuery};
//!
//! let json = br#"[{"id":"9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80","name":"Riverside Walking Group","status":"active"}]"#;
//! let directory = Directory::from_json(json)?;
//! let query = SearchQuery::from_params([("search", "walking")])?;
//! let page = directory.search(&query)?;
//! assert_eq!(page.total_items, 1);
//! assert_eq!(page.contents[0].service.name, "Riverside Walking Group");
//! # Ok::<(), open_referral_uk::OrukError>(())
//! ```
#![warn(missing_docs)]

#[cfg(feature = "api")]
pub mod api;
pub mod csv_import;
mod error;
#[cfg(feature = "live")]
pub mod federation;
pub mod formats;
#[cfg(feature = "live")]
pub mod freshness;
#[cfg(feature = "live")]
pub mod live;
pub mod marketplace;
pub mod model;
#[cfg(feature = "live")]
pub mod onboarding;
pub mod page;
#[cfg(feature = "live")]
pub mod provider_api;
pub mod query;
#[cfg(feature = "schema")]
pub mod schema;
pub mod search;
#[cfg(feature = "live")]
pub mod store;
pub mod synthetic;
pub mod validate;

pub use error::OrukError;
pub use model::{ApiDetails, Service, ServiceStatus};
pub use page::{Page, PageRequest};
pub use search::{Directory, SearchQuery};
pub use validate::{Finding, Report, Severity, ValidationContext};
