#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bulk onboarding from CSV and XLSX: row errors that name sheet, row and column (never the
//! cell), unclaimed listings, one claim e-mail per provider read from the outbox, claiming
//! with the link, re-uploads that never duplicate, hostile sheets bounded and reported.
#![cfg(feature = "xlsx")]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use open_referral_uk::live::core::{NotificationKind, Principal, Recipient};
use open_referral_uk::live::{Live, LiveError, LiveOptions, ManualClock};
use open_referral_uk::onboarding::{Limits, onboard, read_csv, read_xlsx};
use open_referral_uk::search::Directory;
use open_referral_uk::store::{MemoryStore, SqliteStore, Store};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

async fn live(store: Arc<dyn Store>) -> Live {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    Live::open(
        store,
        Arc::new(clock),
        Directory::builder(),
        LiveOptions::default(),
    )
    .await
    .unwrap()
}

const SHEET: &str = "\
Name,Email,Organization_Name,Postal_Code,Address_1,City,Description
Walking for health,hello@greenpaths.example.org,Green Paths,BS1 5TR,1 Quay Street,Bristol,Weekly walks
Cycle buddies,hello@greenpaths.example.org,Green Paths,BS1 5TR,1 Quay Street,Bristol,Bikes to borrow
Community choir,sing@avonvoices.example.org,Avon Voices,BA1 1LT,2 Abbey Green,Bath,Tuesday evenings
Pottery for Pat Secretname,,Clay Corner,,,,
Knit and natter,knit@example.org,Knitters,NOT A CODE,3 Lane,Bath,
";

fn claim_token(detail: Option<&str>) -> String {
    detail
        .unwrap()
        .strip_prefix("/provider/claim/")
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn csv_onboarding_sends_one_claim_email_per_provider_and_never_duplicates() {
    let path = std::env::temp_dir().join(format!(
        "oruk-onboarding-{}-{}.sqlite",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    let live = live(Arc::new(SqliteStore::open(&path).unwrap())).await;
    let mut bytes = SHEET.as_bytes().to_vec();
    bytes.extend_from_slice(b"Caf\xe9 club,cafe@example.org,Cafe,,,,\n");
    let sheet = read_csv(&bytes, &Limits::default()).unwrap();
    let report = onboard(&live, std::slice::from_ref(&sheet), &Limits::default())
        .await
        .unwrap();
    assert_eq!(report.planned.created.len(), 3);
    let errors: Vec<String> = report.row_errors.iter().map(ToString::to_string).collect();
    for error in &errors {
        assert!(
            !error.contains("Secretname") && !error.contains("NOT A CODE"),
            "{error}"
        );
    }
    insta::assert_debug_snapshot!(errors);

    // Listings: approved and public, unclaimed, awaiting their claim.
    let listed = live
        .read(|core| {
            core.listings()
                .map(|l| (l.owner.clone(), l.claim_hash.is_some(), l.state))
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(listed.len(), 3);
    assert!(
        listed
            .iter()
            .all(|(owner, claimable, _)| owner.is_none() && *claimable)
    );
    assert_eq!(live.directory().read().unwrap().len(), 3);

    // One claim e-mail per provider, in the outbox.
    let claims: Vec<_> = live
        .outbox()
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::ClaimLink)
        .collect();
    assert_eq!(claims.len(), 2);
    let green = report
        .planned
        .claims
        .iter()
        .find(|c| c.service_ids.len() == 2)
        .unwrap();
    let mail = claims
        .iter()
        .find(|n| n.id == green.notification_id)
        .unwrap();
    assert_eq!(
        mail.to,
        Recipient::ServiceContact(green.service_ids[0].clone())
    );
    assert_eq!(mail.detail.as_deref(), Some(green.claim_link.as_str()));
    assert!(mail.sent_at.is_none());

    // The one link claims both of the provider's entries.
    let token = claim_token(mail.detail.as_deref());
    live.claim(&Principal::Provider("green-paths".into()), &token)
        .await
        .unwrap();
    for id in &green.service_ids {
        let owner = live
            .read(|core| core.listing(id).unwrap().owner.clone())
            .await;
        assert_eq!(owner.as_deref(), Some("green-paths"));
    }

    // The same sheet again (after a restart): nothing new, no second e-mail.
    drop(live);
    let live = self::live(Arc::new(SqliteStore::open(&path).unwrap())).await;
    let report = onboard(&live, &[sheet], &Limits::default()).await.unwrap();
    assert!(report.planned.created.is_empty());
    assert_eq!(report.planned.kept_claimed.len(), 2);
    assert_eq!(report.planned.unchanged.len(), 1);
    assert_eq!(live.outbox().await.len(), 2);
    // A changed row of an unclaimed entry updates it, still without an e-mail.
    let changed = SHEET.replace("Tuesday evenings", "Wednesday evenings");
    let sheet = read_csv(changed.as_bytes(), &Limits::default()).unwrap();
    let report = onboard(&live, &[sheet], &Limits::default()).await.unwrap();
    assert_eq!(report.planned.updated.len(), 1);
    assert_eq!(live.outbox().await.len(), 2);
    assert_eq!(live.read(|core| core.listings().count()).await, 3);
    let _ = std::fs::remove_file(&path);
}

fn workbook(rows: usize, formula: bool) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Providers").unwrap();
    let header = [
        "name",
        "email",
        "organization_name",
        "minimum_age",
        "assured_date",
        "description",
    ];
    for (column, title) in header.iter().enumerate() {
        sheet.write_string(0, column as u16, *title).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for row in 1..=rows as u32 {
        sheet.write_string(row, 0, format!("Group {row}")).unwrap();
        sheet
            .write_string(row, 1, format!("group{}@example.org", row % 3))
            .unwrap();
        sheet
            .write_string(row, 2, format!("Provider {}", row % 3))
            .unwrap();
        sheet.write_number(row, 3, 18).unwrap();
        sheet
            .write_datetime_with_format(
                row,
                4,
                ExcelDateTime::from_ymd(2026, 10, 1).unwrap(),
                &date,
            )
            .unwrap();
        if formula && row == 2 {
            sheet
                .write_formula(row, 5, Formula::new("=A1&\" secret\""))
                .unwrap();
        } else {
            sheet.write_string(row, 5, "Meets weekly").unwrap();
        }
    }
    let notes = book.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes
        .write_string(0, 0, "How to fill in this sheet")
        .unwrap();
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn xlsx_onboarding_with_row_errors_and_claim_emails() {
    let live = live(Arc::new(MemoryStore::new())).await;
    let bytes = workbook(4, true);
    let sheets = read_xlsx(&bytes, &Limits::default()).unwrap();
    assert_eq!(sheets.len(), 2);
    let report = onboard(&live, &sheets, &Limits::default()).await.unwrap();
    let errors: Vec<String> = report.row_errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "Providers row 3, column description: holds a formula: paste the values instead",
            "Notes row 1: the header row has no `name` column: the sheet was skipped",
        ]
    );
    assert_eq!(report.planned.created.len(), 3);
    // Rows 2 and 5 are "Provider 2", row 4 "Provider 1" (row 3 had the formula): two
    // providers, two e-mails; numbers and dates became text.
    assert_eq!(report.planned.claims.len(), 2);
    let service = live
        .read(|core| {
            core.listing(&report.planned.created[0])
                .unwrap()
                .service
                .clone()
        })
        .await;
    assert_eq!(service.assured_date.as_deref(), Some("2026-10-01"));
    assert_eq!(service.minimum_age_years(), Some(18.0));
    let mails = live
        .outbox()
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::ClaimLink)
        .count();
    assert_eq!(mails, 2);
    // Uploading the same workbook again changes nothing.
    let report = onboard(&live, &sheets, &Limits::default()).await.unwrap();
    assert_eq!(report.planned.unchanged.len(), 3);
    assert!(report.planned.claims.is_empty());
}

#[tokio::test]
async fn hostile_sheets_are_bounded_and_reported() {
    let live = live(Arc::new(MemoryStore::new())).await;
    // Too many rows: the first ones are read, the rest reported.
    let limits = Limits::default().max_rows(5);
    let sheets = read_xlsx(&workbook(50, false), &limits).unwrap();
    assert!(sheets[0].truncated);
    let report = onboard(&live, &sheets, &limits).await.unwrap();
    assert_eq!(report.planned.created.len(), 5);
    assert!(
        report
            .row_errors
            .iter()
            .any(|e| e.message.contains("more rows than the limit"))
    );
    // Too large, not a workbook, unpacking too far.
    let big = Limits::default().max_bytes(1000);
    assert!(matches!(
        read_xlsx(&workbook(50, false), &big),
        Err(LiveError::BadRequest(_))
    ));
    assert!(matches!(
        read_xlsx(b"PK\x03\x04 not really a zip", &Limits::default()),
        Err(LiveError::BadRequest(_))
    ));
    let mut tight = Limits::default();
    tight.max_unpacked_bytes = 1000;
    let refused = read_xlsx(&workbook(50, false), &tight).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "the workbook unpacks to more than 1000 bytes"
    );
    // Parts that lie about their size (the central directory says 1 byte each): the bytes
    // really unpacked are counted, and the workbook is refused before calamine reads it.
    let mut lying = workbook(50, false);
    let mut at = 0;
    while let Some(found) = lying[at..].windows(4).position(|w| w == b"PK\x01\x02") {
        let header = at + found;
        lying[header + 24..header + 28].copy_from_slice(&1u32.to_le_bytes());
        at = header + 4;
    }
    let mut counted = Limits::default();
    counted.max_unpacked_bytes = 4000;
    assert!(matches!(
        read_xlsx(&lying, &counted),
        Err(LiveError::BadRequest(_))
    ));
    // Wrong columns: reported, nothing created.
    let sheet = read_csv(b"title,contact\nA,b@example.org\n", &Limits::default()).unwrap();
    let report = onboard(&live, &[sheet], &Limits::default()).await.unwrap();
    assert_eq!(report.row_errors.len(), 1);
    assert!(report.planned.created.is_empty());
    // A CSV header that is not UTF-8, and one of 10,000 columns.
    let sheet = read_csv(b"\xff\xfe,name\nx,y\n", &Limits::default()).unwrap();
    let report = onboard(&live, &[sheet], &Limits::default()).await.unwrap();
    assert_eq!(report.row_errors[0].column.as_deref(), Some("email"));
    let wide = format!("name,{}\n", vec!["x"; 10_000].join(","));
    let sheet = read_csv(wide.as_bytes(), &Limits::default()).unwrap();
    let report = onboard(&live, &[sheet], &Limits::default()).await.unwrap();
    assert!(report.row_errors[0].message.contains("more columns"));
    assert!(matches!(
        read_csv(&vec![b'a'; 11 * 1024 * 1024], &Limits::default()),
        Err(LiveError::BadRequest(_))
    ));
}

#[tokio::test]
async fn administrators_upload_spreadsheets_over_http() {
    // Fixed ids: the sheet has no `id` column, so they derive from provider and name.
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use open_referral_uk::provider_api::{AuthKeys, app};
    use tower::ServiceExt;

    let live = Arc::new(live(Arc::new(MemoryStore::new())).await);
    let keys = AuthKeys::new()
        .with("admin-key", Principal::Admin)
        .with("provider-key", Principal::Provider("org".into()));
    let router = app(Arc::clone(&live), keys);
    let send = |key: &'static str, media: &'static str, body: Vec<u8>| {
        let router = router.clone();
        async move {
            let request = Request::post("/admin/onboarding")
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", media)
                .body(Body::from(body))
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default(),
            )
        }
    };
    let (status, mut body) = send("admin-key", "text/csv", SHEET.as_bytes().to_vec()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["created"].as_array().unwrap().len(), 3);
    assert_eq!(body["row_errors"].as_array().unwrap().len(), 2);
    // The answer's shape (the random token and notification id replaced).
    for claim in body["claims"].as_array_mut().unwrap() {
        assert!(
            claim["claim_link"]
                .as_str()
                .unwrap()
                .starts_with("/provider/claim/")
        );
        claim["claim_link"] = serde_json::json!("/provider/claim/[token]");
        claim["notification_id"] = serde_json::json!("[uuid]");
    }
    insta::assert_json_snapshot!(body);
    let (status, body) = send("admin-key", rust_xlsx_type(), workbook(3, false)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["created"].as_array().unwrap().len(), 3);
    assert_eq!(send("provider-key", "text/csv", SHEET.into()).await.0, 403);
    assert_eq!(
        send("admin-key", "application/json", b"[]".to_vec())
            .await
            .0,
        415
    );
    assert_eq!(
        send("admin-key", rust_xlsx_type(), b"not a zip".to_vec())
            .await
            .0,
        400
    );
    let huge = vec![b'a'; 11 * 1024 * 1024];
    assert_eq!(send("admin-key", "text/csv", huge).await.0, 413);
}

fn rust_xlsx_type() -> &'static str {
    open_referral_uk::onboarding::routes::XLSX_TYPE
}
