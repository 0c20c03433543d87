#![no_main]
// ORUK bulk onboarding: the CSV and XLSX readers and the row mapping. Never panics; the
// limits hold; every row error names a sheet that was read and never holds more of the input
// than a header; every mapped row's service has a UUID id and the provider's e-mail column.
use libfuzzer_sys::fuzz_target;
use open_referral_uk::formats::is_uuid;
use open_referral_uk::onboarding::{Limits, map_sheets, read_csv, read_xlsx};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default().max_rows(200);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("a date");
    let mut sheets = Vec::new();
    if let Ok(sheet) = read_csv(data, &limits) {
        assert!(sheet.rows.len() <= limits.max_rows + 2);
        sheets.push(sheet);
    }
    if let Ok(book) = read_xlsx(data, &limits) {
        assert!(book.len() <= limits.max_sheets);
        sheets.extend(book);
    }
    let (rows, errors) = map_sheets(&sheets, &limits, today);
    for row in &rows {
        assert!(is_uuid(&row.service.id));
        assert!(row.service.email.is_some());
    }
    for error in &errors {
        assert!(sheets.iter().any(|s| s.name == error.sheet));
    }
});
