//! Bulk onboarding from spreadsheets (feature `live`; XLSX with feature `xlsx`).
//!
//! A community directory team collates providers on a spreadsheet; [`onboard`] turns each
//! row into an ORUK 3.0 service with the columns of [`crate::csv_import`] (`name` and `email`
//! required; `id` optional: without it an id is derived from the provider and the service
//! name, so re-uploading the same sheet finds the same entries), checks it with the crate's
//! validator, and creates each new entry **unclaimed** (approved and public, signposting
//! only, no owner, awaiting its claim). Each provider (same `organization_id`, else same
//! `organization_name`, else same `email`) with new entries gets **one claim e-mail** through
//! the notification outbox ([`crate::live::Live::outbox`]) with one link that claims all of
//! them (`POST /provider/claim/{token}`).
//!
//! Re-uploading never duplicates: an entry already there unclaimed is updated if its row
//! changed (no second e-mail), one its provider claimed is left to the provider, one removed
//! on request is not brought back.
//!
//! Errors are per row ([`RowError`]: sheet, row, column, what was expected) and never repeat
//! a cell's content. Bounds ([`Limits`]): file size, rows, columns, cell length, sheets and,
//! for XLSX, the workbook's declared unpacked size; a formula, a spreadsheet error value or
//! bytes that are not UTF-8 make a row error; a sheet without a `name` column is reported
//! and skipped. Administrators upload through `POST /admin/onboarding` ([`routes`]).

mod plan;
pub mod routes;
mod rows;
mod sheet;
#[cfg(feature = "xlsx")]
mod xlsx;

use serde::Serialize;

pub use plan::{Planned, ProviderClaim};
pub use rows::{MappedRow, RowError, map_sheets};
pub use sheet::{Cell, Limits, Sheet, read_csv};
#[cfg(feature = "xlsx")]
pub use xlsx::read_xlsx;

use crate::live::{Live, LiveError};

/// The outcome of an upload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OnboardingReport {
    /// What the rows did.
    #[serde(flatten)]
    pub planned: Planned,
    /// Rows (or sheets) that were not used.
    pub row_errors: Vec<RowError>,
}

/// Onboards the rows of `sheets` into `live` (one commit), as an administrator's upload.
pub async fn onboard(
    live: &Live,
    sheets: &[Sheet],
    limits: &Limits,
) -> Result<OnboardingReport, LiveError> {
    let (rows, row_errors) = map_sheets(sheets, limits, live.now().date_naive());
    let planned = live
        .run(|core, now| Ok(plan::plan(core, &rows, now)))
        .await?;
    Ok(OnboardingReport {
        planned,
        row_errors,
    })
}
