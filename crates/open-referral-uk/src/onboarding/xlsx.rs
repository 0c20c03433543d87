//! Reading XLSX workbooks (feature `xlsx`) with calamine, cell by cell so a huge sheet is
//! never held whole: only the first [`Limits::max_rows`] rows and [`Limits::max_columns`]
//! columns are read. The workbook's unpacked size (declared, then counted while unpacking
//! through a cap) is checked before calamine opens it: a small file that unpacks to
//! gigabytes is refused. Formulas are never evaluated:
//! a cell with one becomes [`Cell::Formula`], a row error.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx};

use super::sheet::{Cell, Limits, Sheet};
use crate::live::LiveError;

/// Most parts (files) in a workbook's zip.
const MAX_PARTS: usize = 10_000;

fn unreadable() -> LiveError {
    LiveError::BadRequest("the file is not a readable XLSX workbook".into())
}

fn cell(value: &DataRef<'_>, formula: bool) -> Cell {
    if formula {
        return Cell::Formula;
    }
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::Int(number) => Cell::Number(*number as f64),
        DataRef::Float(number) => Cell::Number(*number),
        DataRef::String(text) => Cell::Text(text.clone()),
        DataRef::SharedString(text) => Cell::Text((*text).to_owned()),
        DataRef::Bool(value) => Cell::Bool(*value),
        DataRef::DateTime(at) => Cell::DateTime(at.as_f64()),
        DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => Cell::Text(text.clone()),
        DataRef::Error(_) => Cell::ErrorValue,
    }
}

/// Reads every sheet (up to [`Limits::max_sheets`]) of an XLSX workbook.
pub fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Vec<Sheet>, LiveError> {
    if bytes.len() > limits.max_bytes {
        return Err(LiveError::BadRequest(format!(
            "the file is larger than {} bytes",
            limits.max_bytes
        )));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    if archive.len() > MAX_PARTS {
        return Err(LiveError::BadRequest(format!(
            "the workbook has more than {MAX_PARTS} parts"
        )));
    }
    let too_big = || {
        LiveError::BadRequest(format!(
            "the workbook unpacks to more than {} bytes",
            limits.max_unpacked_bytes
        ))
    };
    // The central directory's sizes first (present even when the parts carry data
    // descriptors), then the bytes each part really unpacks to, counted through a cap: a part
    // that lies about its size cannot make calamine (which reads the shared strings whole)
    // unpack more than the limit.
    let mut declared = 0u64;
    for index in 0..archive.len() {
        let part = archive.by_index_raw(index).map_err(|_| unreadable())?;
        declared = declared.saturating_add(part.size());
        if declared > limits.max_unpacked_bytes {
            return Err(too_big());
        }
    }
    let mut unpacked = 0u64;
    for index in 0..archive.len() {
        let part = archive.by_index(index).map_err(|_| unreadable())?;
        let room = limits.max_unpacked_bytes - unpacked;
        let read = std::io::copy(&mut part.take(room.saturating_add(1)), &mut std::io::sink())
            .map_err(|_| unreadable())?;
        unpacked += read;
        if read > room {
            return Err(too_big());
        }
    }
    drop(archive);
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let names: Vec<String> = workbook
        .sheet_names()
        .into_iter()
        .take(limits.max_sheets)
        .collect();
    let mut sheets = Vec::new();
    let max_row = u32::try_from(limits.max_rows).unwrap_or(u32::MAX);
    let max_column = u32::try_from(limits.max_columns).unwrap_or(u32::MAX);
    for name in names {
        let mut reader = workbook
            .worksheet_cells_reader(&name)
            .map_err(|_| unreadable())?;
        let mut rows: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
        let mut truncated = false;
        loop {
            let next = reader.next_cell_with_formula().map_err(|_| unreadable())?;
            let Some(record) = next else { break };
            let (row, column) = record.pos;
            // Row 0 is the header: max_rows data rows are rows 1..=max_rows.
            if row > max_row {
                truncated = true;
                break;
            }
            let column = if column >= max_column {
                // One cell past the limit marks the row too wide (reported by the mapping).
                max_column
            } else {
                column
            };
            let cells = rows.entry(row).or_default();
            let index = column as usize;
            if cells.len() <= index {
                cells.resize(index + 1, Cell::Empty);
            }
            cells[index] = cell(&record.value, record.formula.is_some());
        }
        let rows = rows
            .into_iter()
            .map(|(row, cells)| (u64::from(row) + 1, cells))
            .collect();
        let mut sheet = Sheet::new(name, rows);
        sheet.truncated = truncated;
        sheets.push(sheet);
    }
    Ok(sheets)
}
