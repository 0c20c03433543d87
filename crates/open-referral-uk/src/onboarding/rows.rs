//! Giving rows their meaning, without IO: the header names the columns (those of
//! [`crate::csv_import`]), each row becomes a service through
//! [`crate::csv_import::service_from_row`] and is checked by the crate's validator. A row
//! error names the sheet, the row, the column and what was expected, never the cell's content.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::sheet::{Cell, Limits, Sheet};
use crate::csv_import::{derived_id, normalise_header, service_from_row};
use crate::live::LiveError;
use crate::live::core::Core;
use crate::model::Service;

/// A problem with one row (or, with row 1 and no column, with a whole sheet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RowError {
    /// The sheet (`csv` for a CSV file).
    pub sheet: String,
    /// The row number in the sheet (1-based; the header is row 1).
    pub row: u64,
    /// The column at fault, by its header.
    pub column: Option<String>,
    /// What was wrong or expected.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row {}", self.sheet, self.row)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A row that made a valid service.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MappedRow {
    /// The sheet.
    pub sheet: String,
    /// The row number.
    pub row: u64,
    /// The service.
    pub service: Service,
    /// Who provides it: `organization_id`, else the organisation's name, else the e-mail
    /// (rows with the same provider share one claim link and one e-mail).
    pub provider: String,
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Spreadsheet serial number → `YYYY-MM-DD` (days) or `HH:MM` (a time of day alone).
fn serial_text(serial: f64) -> Option<String> {
    if !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return None;
    }
    if serial < 1.0 {
        let minutes = (serial * 24.0 * 60.0).round() as i64;
        return Some(format!("{:02}:{:02}", (minutes / 60) % 24, minutes % 60));
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let date = epoch.checked_add_signed(Duration::days(serial.floor() as i64))?;
    Some(date.format("%Y-%m-%d").to_string())
}

fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

/// The text of a cell, or why it cannot be used.
fn cell_text(cell: &Cell, limits: &Limits) -> Result<String, &'static str> {
    let text = match cell {
        Cell::Empty => String::new(),
        Cell::Text(text) => text.trim().to_owned(),
        Cell::Number(number) if number.is_finite() => number_text(*number),
        Cell::Number(_) => return Err("holds a number that is not finite"),
        Cell::Bool(value) => value.to_string(),
        Cell::DateTime(serial) => serial_text(*serial).ok_or("holds a date out of range")?,
        Cell::Formula => return Err("holds a formula: paste the values instead"),
        Cell::NotText => return Err("is not UTF-8 text"),
        Cell::ErrorValue => return Err("holds a spreadsheet error value"),
    };
    if text.chars().count() > limits.max_cell_chars {
        return Err("is longer than the limit for one cell");
    }
    Ok(text)
}

/// The column a validator path points at (`$.email` → `email`,
/// `$.service_at_locations[0].location.addresses[0].postal_code` → `postal_code`).
fn column_of(path: &str) -> Option<String> {
    let last = path.rsplit('.').next()?;
    let name = last.split('[').next()?;
    (!name.is_empty() && name != "$").then(|| name.to_owned())
}

/// Maps every sheet; returns the good rows and an error per bad row (or unusable sheet).
/// `today` dates the validator's checks.
pub fn map_sheets(
    sheets: &[Sheet],
    limits: &Limits,
    today: NaiveDate,
) -> (Vec<MappedRow>, Vec<RowError>) {
    let mut mapped = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut rows_read = 0usize;
    for sheet in sheets {
        let error = |row: u64, column: Option<&str>, message: &str| RowError {
            sheet: sheet.name.clone(),
            row,
            column: column.map(str::to_owned),
            message: message.to_owned(),
        };
        let Some(((header_row, header), data)) = sheet.rows.split_first() else {
            errors.push(error(1, None, "the sheet is empty"));
            continue;
        };
        if header.len() > limits.max_columns {
            errors.push(error(
                *header_row,
                None,
                "the header row has more columns than the limit: the sheet was skipped",
            ));
            continue;
        }
        let mut headers: Vec<String> = header
            .iter()
            .map(|cell| {
                cell_text(cell, limits)
                    .map(|t| normalise_header(&t))
                    .unwrap_or_default()
            })
            .collect();
        if !headers.iter().any(|h| h == "name") {
            errors.push(error(
                *header_row,
                None,
                "the header row has no `name` column: the sheet was skipped",
            ));
            continue;
        }
        let id_column = match headers.iter().position(|h| h == "id") {
            Some(index) => index,
            None => {
                headers.push("id".to_owned());
                headers.len() - 1
            }
        };
        let column_index = |name: &str| headers.iter().position(|h| h == name);
        'rows: for (row, cells) in data {
            if cells.iter().all(|c| matches!(c, Cell::Empty)) {
                continue;
            }
            rows_read += 1;
            if rows_read > limits.max_rows {
                errors.push(error(
                    *row,
                    None,
                    "the upload has more rows than the limit: the rest was not read",
                ));
                return (mapped, errors);
            }
            if cells.len() > limits.max_columns {
                errors.push(error(*row, None, "the row has more cells than the limit"));
                continue;
            }
            let mut texts = Vec::with_capacity(headers.len());
            for (index, cell) in cells.iter().enumerate() {
                match cell_text(cell, limits) {
                    Ok(text) => texts.push(text),
                    Err(message) => {
                        let column = headers.get(index).filter(|h| !h.is_empty());
                        errors.push(error(*row, column.map(String::as_str), message));
                        continue 'rows;
                    }
                }
            }
            texts.resize(headers.len(), String::new());
            let get = |name: &str| {
                column_index(name)
                    .and_then(|i| texts.get(i))
                    .filter(|t| !t.is_empty())
            };
            let Some(email) = get("email").cloned() else {
                errors.push(error(
                    *row,
                    Some("email"),
                    "required: the claim link is sent there",
                ));
                continue;
            };
            let provider = get("organization_id")
                .or_else(|| get("organization_name"))
                .map_or_else(|| normalise(&email), |p| normalise(p));
            if texts[id_column].is_empty() {
                let name = get("name").map(|n| normalise(n)).unwrap_or_default();
                texts[id_column] = derived_id("onboarding", &format!("{provider}/{name}"), 0);
            }
            let record = csv::StringRecord::from(texts);
            let service = match service_from_row(&headers, &record, *row) {
                Ok(service) => service,
                Err(problem) => {
                    errors.push(RowError {
                        sheet: sheet.name.clone(),
                        row: *row,
                        column: problem.column,
                        message: problem.message,
                    });
                    continue;
                }
            };
            let value = serde_json::to_value(&service).unwrap_or_default();
            match Core::check_service(&value, today) {
                Ok(_) => {}
                Err(LiveError::Invalid(findings)) => {
                    if let Some(finding) = findings.first() {
                        errors.push(RowError {
                            sheet: sheet.name.clone(),
                            row: *row,
                            column: column_of(&finding.path),
                            message: format!(
                                "fails the ORUK 3.0 rule `{}` at {}",
                                finding.rule, finding.path
                            ),
                        });
                    }
                    continue;
                }
                Err(_) => {
                    errors.push(error(*row, None, "does not make an ORUK 3.0 service"));
                    continue;
                }
            }
            if !seen.insert(service.id.clone()) {
                errors.push(error(
                    *row,
                    Some("id"),
                    "the same service is on an earlier row of this upload",
                ));
                continue;
            }
            mapped.push(MappedRow {
                sheet: sheet.name.clone(),
                row: *row,
                service,
                provider,
            });
        }
        if sheet.truncated {
            errors.push(error(
                sheet.rows.last().map_or(1, |r| r.0),
                None,
                "the sheet has more rows than the limit: the rest was not read",
            ));
        }
    }
    (mapped, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Cell {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.into())
        }
    }

    fn row(n: u64, cells: &[&str]) -> (u64, Vec<Cell>) {
        (n, cells.iter().map(|c| text(c)).collect())
    }

    #[test]
    fn rows_map_with_errors_that_never_repeat_a_cell() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut sheet = Sheet::new(
            "Providers",
            vec![
                row(
                    1,
                    &[
                        "Name",
                        "Email",
                        "Organization_Name",
                        "postal_code",
                        "address_1",
                        "city",
                    ],
                ),
                row(
                    2,
                    &[
                        "Walking group",
                        "walk@example.org",
                        "Green Paths",
                        "BS1 5TR",
                        "1 Quay St",
                        "Bristol",
                    ],
                ),
                row(3, &["No e-mail", "", "Green Paths", "", "", ""]),
                row(
                    4,
                    &["Bad e-mail", "pat.secret-name@", "Green Paths", "", "", ""],
                ),
                row(
                    6,
                    &[
                        "Bad postcode",
                        "x@example.org",
                        "Other",
                        "SECRET 99",
                        "2 Lane",
                        "Bath",
                    ],
                ),
            ],
        );
        sheet
            .rows
            .push((7, vec![Cell::Text("Formula".into()), Cell::Formula]));
        sheet.rows.push((8, vec![Cell::NotText]));
        let (mapped, errors) = map_sheets(&[sheet], &Limits::default(), today);
        assert_eq!(mapped.len(), 1);
        assert_eq!(mapped[0].provider, "green paths");
        assert_eq!(mapped[0].row, 2);
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        for text in &texts {
            assert!(
                !text.contains("secret") && !text.contains("SECRET"),
                "{text}"
            );
        }
        insta::assert_debug_snapshot!(texts);
        // The derived id is stable.
        let again = map_sheets(
            &[Sheet::new(
                "Providers",
                vec![
                    row(1, &["name", "email", "organization_name"]),
                    row(2, &["Walking  group", "walk@example.org", "green paths"]),
                ],
            )],
            &Limits::default(),
            today,
        )
        .0;
        assert_eq!(again[0].service.id, mapped[0].service.id);
    }

    #[test]
    fn sheets_without_a_name_column_or_rows_are_reported() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let sheets = [
            Sheet::new("Notes", vec![row(1, &["Read me first"])]),
            Sheet::new("Empty", vec![]),
        ];
        let (mapped, errors) = map_sheets(&sheets, &Limits::default(), today);
        assert!(mapped.is_empty());
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].row, 1);
    }

    #[test]
    fn serial_dates_and_numbers_become_text() {
        assert_eq!(serial_text(46082.0).as_deref(), Some("2026-03-01"));
        assert_eq!(serial_text(0.375).as_deref(), Some("09:00"));
        assert_eq!(serial_text(f64::NAN), None);
        assert_eq!(number_text(18.0), "18");
        assert_eq!(number_text(51.4545), "51.4545");
        assert_eq!(
            column_of("$.service_at_locations[0].location.addresses[0].postal_code").as_deref(),
            Some("postal_code")
        );
        assert_eq!(column_of("$"), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn cell() -> impl Strategy<Value = Cell> {
        prop_oneof![
            Just(Cell::Empty),
            "Zq[a-z@. 0-9-]{0,12}".prop_map(Cell::Text),
            any::<f64>().prop_map(Cell::Number),
            any::<f64>().prop_map(Cell::DateTime),
            any::<bool>().prop_map(Cell::Bool),
            Just(Cell::Formula),
            Just(Cell::NotText),
            Just(Cell::ErrorValue),
        ]
    }

    proptest! {
        /// Whatever the cells, mapping never panics, every error names a row that exists, and
        /// no error repeats a cell's content (every text cell starts with the marker `Zq`).
        #[test]
        fn errors_never_repeat_cells(rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..12), 0..20)) {
            let header = ["name", "email", "organization_name", "postal_code", "address_1",
                "city", "minimum_age", "maximum_age", "assured_date", "opens_at", "closes_at", "days"];
            let mut all = vec![(1u64, header.iter().map(|h| Cell::Text((*h).to_owned())).collect())];
            all.extend(rows.into_iter().enumerate().map(|(i, r)| (i as u64 + 2, r)));
            let last = all.len() as u64;
            let sheet = Sheet::new("S", all);
            let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
            let (mapped, errors) = map_sheets(&[sheet], &Limits::default(), today);
            for error in &errors {
                prop_assert!(error.row >= 1 && error.row <= last);
                prop_assert!(!error.to_string().contains("Zq"), "{}", error);
            }
            for row in &mapped {
                prop_assert!(crate::formats::is_uuid(&row.service.id));
            }
        }
    }
}
