//! Spreadsheets as read, before any meaning is given to them: sheets of numbered rows of
//! [`Cell`]s, and the CSV reader (the XLSX one is in `xlsx`, feature `xlsx`).

use crate::live::LiveError;

/// One cell as the spreadsheet holds it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A date, time or date-time as a spreadsheet serial number (days since 1899-12-30).
    DateTime(f64),
    /// A formula (never evaluated: the sheet must hold values).
    Formula,
    /// Bytes that are not UTF-8 text (CSV).
    NotText,
    /// A spreadsheet error value (`#DIV/0!`, `#REF!`).
    ErrorValue,
}

/// One sheet: rows with their 1-based row numbers, the header first.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Sheet {
    /// The sheet's name (`csv` for a CSV file).
    pub name: String,
    /// (row number, cells), in order; empty rows may be absent.
    pub rows: Vec<(u64, Vec<Cell>)>,
    /// More rows than the limit: the rest was not read.
    pub truncated: bool,
}

impl Sheet {
    /// A sheet.
    pub fn new(name: impl Into<String>, rows: Vec<(u64, Vec<Cell>)>) -> Self {
        Self {
            name: name.into(),
            rows,
            truncated: false,
        }
    }
}

/// Bounds on an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest file, in bytes (default 10 MiB).
    pub max_bytes: usize,
    /// Most data rows read in one upload, all sheets together (default 10,000).
    pub max_rows: usize,
    /// Most columns (default 100).
    pub max_columns: usize,
    /// Longest cell, in characters (default 10,000).
    pub max_cell_chars: usize,
    /// Most sheets read from a workbook (default 20).
    pub max_sheets: usize,
    /// Largest declared unpacked size of an XLSX workbook (default 100 MiB).
    pub max_unpacked_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_rows: 10_000,
            max_columns: 100,
            max_cell_chars: 10_000,
            max_sheets: 20,
            max_unpacked_bytes: 100 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_rows`].
    #[must_use]
    pub fn max_rows(mut self, rows: usize) -> Self {
        self.max_rows = rows;
        self
    }

    /// Sets [`Limits::max_bytes`].
    #[must_use]
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }
}

/// Reads a CSV file (comma-separated, `"` quoting, any line ending) into one sheet named
/// `csv`. A field that is not UTF-8 becomes [`Cell::NotText`] (its row is reported, the
/// others are kept); reading stops after [`Limits::max_rows`] data rows.
pub fn read_csv(bytes: &[u8], limits: &Limits) -> Result<Sheet, LiveError> {
    if bytes.len() > limits.max_bytes {
        return Err(LiveError::BadRequest(format!(
            "the file is larger than {} bytes",
            limits.max_bytes
        )));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut sheet = Sheet::new("csv", Vec::new());
    let mut record = csv::ByteRecord::new();
    // Line numbers counted here: the reader's own lag by one after a CRLF.
    let (mut counted, mut newlines) = (0usize, 0u64);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => {
                return Err(LiveError::BadRequest(
                    "the file could not be read as CSV".into(),
                ));
            }
        }
        let mut start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(counted)
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > counted {
            newlines += bytes[counted..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted = start;
        }
        let line = newlines + 1;
        if sheet.rows.len() > limits.max_rows {
            sheet.truncated = true;
            break;
        }
        let cells = record
            .iter()
            .map(|field| match std::str::from_utf8(field) {
                Ok(text) if text.trim().is_empty() => Cell::Empty,
                Ok(text) => Cell::Text(text.trim().to_owned()),
                Err(_) => Cell::NotText,
            })
            .collect();
        sheet.rows.push((line, cells));
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_line_numbers_and_invalid_bytes_are_marked() {
        let sheet = read_csv(
            b"name,email\r\n\"A, B\",a@example.org\r\nC\xff,c@example.org\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(sheet.rows.len(), 3);
        assert_eq!(
            sheet.rows[1],
            (
                2,
                vec![
                    Cell::Text("A, B".into()),
                    Cell::Text("a@example.org".into())
                ]
            )
        );
        assert_eq!(sheet.rows[2].0, 3);
        assert_eq!(sheet.rows[2].1[0], Cell::NotText);
    }

    #[test]
    fn limits_hold() {
        let limits = Limits::default().max_rows(2).max_bytes(1000);
        let body = "name\n".to_owned() + &"x\n".repeat(10);
        let sheet = read_csv(body.as_bytes(), &limits).unwrap();
        assert!(sheet.truncated);
        assert_eq!(sheet.rows.len(), 3);
        assert!(read_csv(&vec![b'a'; 1001], &limits).is_err());
    }
}
