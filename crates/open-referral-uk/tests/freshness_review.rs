#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Review cycles and public "out of date" reports: listings without a website join the
//! due-for-review queue three months after their last confirmation (injected clock), the
//! state survives a restart on SQLite and PostgreSQL, and a public report suspends a listing
//! pending its provider's answer, within bounds.
#![cfg(feature = "live")]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use open_referral_uk::freshness::routes::{ReportLimiter, router_with};
use open_referral_uk::live::core::{ListingInput, NotificationKind, Principal};
use open_referral_uk::live::{Live, LiveOptions, ManualClock};
use open_referral_uk::marketplace::ListingState;
use open_referral_uk::provider_api::{AuthKeys, MarketState, app};
use open_referral_uk::search::Directory;
use open_referral_uk::store::{PostgresStore, SqliteStore, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

fn keys() -> AuthKeys {
    AuthKeys::new()
        .with("admin-key", Principal::Admin)
        .with("provider-a", Principal::Provider("org-a".into()))
        .with("provider-b", Principal::Provider("org-b".into()))
}

/// The example service without any website.
fn offline_service(n: u32) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/services.json");
    let all: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut service = all[0].clone();
    service["id"] = json!(format!("0c7e2a5b-9d41-4f7a-8b1e-3a5c7e9d2{n:03}"));
    service["name"] = json!(format!("Knit and natter {n}"));
    service.as_object_mut().unwrap().remove("url");
    if let Some(org) = service["organization"].as_object_mut() {
        org.remove("website");
    }
    service
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Vec<u8>>,
) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let request = match body {
        Some(bytes) => request
            .header("content-type", "application/json")
            .body(Body::from(bytes))
            .unwrap(),
        None => request.body(Body::empty()).unwrap(),
    };
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn open(store: Arc<dyn Store>, clock: &ManualClock) -> (Arc<Live>, Router) {
    let live = Arc::new(
        Live::open(
            store,
            Arc::new(clock.clone()),
            Directory::builder(),
            LiveOptions::default(),
        )
        .await
        .unwrap(),
    );
    let app = app(Arc::clone(&live), keys());
    (live, app)
}

async fn list(live: &Live, n: u32) -> String {
    let service = offline_service(n);
    let id = service["id"].as_str().unwrap().to_owned();
    let input: ListingInput = serde_json::from_value(json!({"service": service})).unwrap();
    live.create_listing(&Principal::Provider("org-a".into()), input)
        .await
        .unwrap();
    live.review(&Principal::Admin, &id, true).await.unwrap();
    id
}

fn due_ids(queue: &Value) -> Vec<String> {
    queue["due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The review cycle over a restart, on whatever store `reopen` opens.
async fn review_cycle_survives_restarts<F, Fut>(reopen: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 15, 9, 0, 0).unwrap());
    let (live, app) = open(reopen().await, &clock).await;
    let first = list(&live, 1).await;
    clock.advance(Duration::days(20));
    let second = list(&live, 2).await;

    // Not due before three months.
    clock.advance(Duration::days(60));
    live.tick().await.unwrap();
    let (status, queue) = call(
        &app,
        Method::GET,
        "/admin/freshness/due",
        Some("admin-key"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(due_ids(&queue).is_empty());
    // 15 January + 3 months = 15 April: the first is due, the second (4 February) not yet.
    clock.advance(Duration::days(11));
    live.tick().await.unwrap();
    let (_, queue) = call(
        &app,
        Method::GET,
        "/admin/freshness/due",
        Some("admin-key"),
        None,
    )
    .await;
    assert_eq!(due_ids(&queue), std::slice::from_ref(&first));
    let notices: Vec<_> = live
        .outbox()
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::ReviewDue)
        .collect();
    assert_eq!(notices.len(), 2, "{notices:?}");
    // A second tick does not queue or notify again.
    live.tick().await.unwrap();
    assert_eq!(
        live.outbox()
            .await
            .iter()
            .filter(|n| n.kind == NotificationKind::ReviewDue)
            .count(),
        2
    );
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/admin/freshness/due",
            Some("provider-a"),
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(&app, Method::GET, "/admin/freshness/due", None, None)
            .await
            .0,
        401
    );
    drop((live, app));

    // Restart: the queue is still there.
    let (live, app) = open(reopen().await, &clock).await;
    let (_, queue) = call(
        &app,
        Method::GET,
        "/admin/freshness/due",
        Some("admin-key"),
        None,
    )
    .await;
    assert_eq!(due_ids(&queue), std::slice::from_ref(&first));
    clock.advance(Duration::days(20));
    live.tick().await.unwrap();
    let (_, queue) = call(
        &app,
        Method::GET,
        "/admin/freshness/due",
        Some("admin-key"),
        None,
    )
    .await;
    assert_eq!(due_ids(&queue), [first.clone(), second.clone()]);

    // The provider confirms the first; an administrator's manual review clears the second.
    let (status, view) = call(
        &app,
        Method::POST,
        &format!("/provider/services/{first}/freshness/confirm"),
        Some("provider-a"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["review_due_since"], Value::Null);
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/admin/freshness/{second}/reviewed"),
        Some("admin-key"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let confirmed_at = live.now();
    drop((live, app));

    // Restart again: confirmed, not due, and due again three months after the confirmation.
    let (live, app) = open(reopen().await, &clock).await;
    live.tick().await.unwrap();
    let (_, queue) = call(
        &app,
        Method::GET,
        "/admin/freshness/due",
        Some("admin-key"),
        None,
    )
    .await;
    assert!(due_ids(&queue).is_empty());
    let record = live.freshness(&first).await.unwrap();
    assert_eq!(record.last_confirmed_at, Some(confirmed_at));
    clock.advance(Duration::days(93));
    live.tick().await.unwrap();
    let (_, queue) = call(
        &app,
        Method::GET,
        "/admin/freshness/due",
        Some("admin-key"),
        None,
    )
    .await;
    assert_eq!(due_ids(&queue).len(), 2);
}

#[tokio::test]
async fn review_cycle_survives_a_restart_on_sqlite() {
    let path = std::env::temp_dir().join(format!(
        "oruk-freshness-review-{}-{}.sqlite",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    let _ = std::fs::remove_file(&path);
    let opener = path.clone();
    review_cycle_survives_restarts(move || {
        let path = opener.clone();
        async move { Arc::new(SqliteStore::open(&path).unwrap()) as Arc<dyn Store> }
    })
    .await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn review_cycle_survives_a_restart_on_postgres() {
    let Some(url) = nhs_test_support::postgres_url() else {
        return;
    };
    let url = nhs_test_support::fresh_postgres_schema(&url, "oruk_freshness_review").await;
    review_cycle_survives_restarts(move || {
        let url = url.clone();
        async move { Arc::new(PostgresStore::connect(&url).await.unwrap()) as Arc<dyn Store> }
    })
    .await;
}

#[tokio::test]
async fn a_public_report_suspends_until_the_provider_answers() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let path = std::env::temp_dir().join(format!(
        "oruk-freshness-report-{}-{}.sqlite",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let (live, app) = open(Arc::clone(&store), &clock).await;
    let id = list(&live, 3).await;
    let report = format!("/marketplace/services/{id}/report");

    // Bad reports change nothing.
    let before = live.outbox().await.len();
    for (body, status) in [
        (b"not json".to_vec(), 400),
        (br#"{"reason": "   "}"#.to_vec(), 400),
        (br#"{"reason": "closed", "name": "x"}"#.to_vec(), 400),
        (
            json!({"reason": "x".repeat(1_001)})
                .to_string()
                .into_bytes(),
            400,
        ),
        (vec![b' '; 9 * 1024], 413),
    ] {
        assert_eq!(
            call(&app, Method::POST, &report, None, Some(body)).await.0,
            status
        );
    }
    let unknown = "/marketplace/services/00000000-0000-4000-8000-000000000000/report";
    assert_eq!(
        call(
            &app,
            Method::POST,
            unknown,
            None,
            Some(br#"{"reason": "gone"}"#.to_vec())
        )
        .await
        .0,
        404
    );
    assert_eq!(live.outbox().await.len(), before);
    assert_eq!(
        live.read(|c| c.listing(&id).unwrap().state).await,
        ListingState::Public
    );

    // A good one suspends and tells the provider why, the administrators that it happened.
    let reason = "The group now meets on Thursdays at the library.";
    let (status, answer) = call(
        &app,
        Method::POST,
        &report,
        None,
        Some(json!({"reason": reason}).to_string().into_bytes()),
    )
    .await;
    assert_eq!(status, 202);
    assert!(!answer.to_string().contains("Thursdays"));
    assert_eq!(
        live.read(|c| c.listing(&id).unwrap().state).await,
        ListingState::Suspended
    );
    let notices: Vec<_> = live
        .outbox()
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::ReportedOutOfDate)
        .collect();
    assert_eq!(notices.len(), 2);
    // The reporter's words stay out of the outbox; the owner reads them in the freshness view.
    assert!(notices.iter().all(|n| {
        !n.detail
            .as_deref()
            .unwrap_or_default()
            .contains("Thursdays")
    }));
    let mut details: Vec<String> = notices
        .iter()
        .map(|n| {
            format!(
                "{:?} {:?}: {}",
                n.to,
                n.kind,
                n.detail.as_deref().unwrap_or("-")
            )
        })
        .collect();
    details.sort();
    insta::assert_snapshot!("report_notifications", details.join("\n"));
    let record = live.freshness(&id).await.unwrap();
    assert!(!format!("{record:?}").contains("Thursdays"));
    // Suspended: not reportable again until the provider answers.
    assert_eq!(
        call(
            &app,
            Method::POST,
            &report,
            None,
            Some(br#"{"reason": "again"}"#.to_vec())
        )
        .await
        .0,
        404
    );

    // The report survives a restart; the provider's edit restores the listing.
    drop((live, app));
    let (live, app) = open(Arc::clone(&store), &clock).await;
    let (_, view) = call(
        &app,
        Method::GET,
        &format!("/provider/services/{id}/freshness"),
        Some("provider-a"),
        None,
    )
    .await;
    assert_eq!(view["open_reports"], 1);
    assert_eq!(view["reports"][0]["reason"], reason);
    insta::assert_json_snapshot!("freshness_view_after_a_report", view);
    assert_eq!(view["suspended_by"], "report");
    assert_eq!(
        call(
            &app,
            Method::GET,
            &format!("/provider/services/{id}/freshness"),
            Some("provider-b"),
            None
        )
        .await
        .0,
        403
    );
    let mut service = offline_service(3);
    service["description"] = json!("Thursdays at the library.");
    let input: ListingInput = serde_json::from_value(json!({"service": service})).unwrap();
    live.edit_listing(&Principal::Provider("org-a".into()), &id, input)
        .await
        .unwrap();
    assert_eq!(
        live.read(|c| c.listing(&id).unwrap().state).await,
        ListingState::Public
    );
    let (_, view) = call(
        &app,
        Method::GET,
        &format!("/provider/services/{id}/freshness"),
        Some("provider-a"),
        None,
    )
    .await;
    assert_eq!(view["open_reports"], 0);

    // Reported again, then confirmed through the `confirm` state action.
    assert_eq!(
        call(
            &app,
            Method::POST,
            &report,
            None,
            Some(br#"{"reason": "phone dead"}"#.to_vec())
        )
        .await
        .0,
        202
    );
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/provider/services/{id}/state"),
        Some("provider-a"),
        Some(br#"{"action": "confirm"}"#.to_vec()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        live.read(|c| c.listing(&id).unwrap().state).await,
        ListingState::Public
    );
    assert_eq!(live.freshness(&id).await.unwrap().reports.len(), 0);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn public_reports_are_rate_limited() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let store: Arc<dyn Store> = Arc::new(open_referral_uk::store::MemoryStore::new());
    let (live, _) = open(store, &clock).await;
    let ids = [
        list(&live, 4).await,
        list(&live, 5).await,
        list(&live, 6).await,
    ];
    let limited = router_with(
        MarketState {
            live: Arc::clone(&live),
            keys: Arc::new(keys()),
        },
        ReportLimiter::new(2, Duration::hours(1)),
    );
    let body = || Some(br#"{"reason": "closed down"}"#.to_vec());
    let path = |id: &str| format!("/marketplace/services/{id}/report");
    assert_eq!(
        call(&limited, Method::POST, &path(&ids[0]), None, body())
            .await
            .0,
        202
    );
    assert_eq!(
        call(&limited, Method::POST, &path(&ids[1]), None, body())
            .await
            .0,
        202
    );
    let (status, answer) = call(&limited, Method::POST, &path(&ids[2]), None, body()).await;
    assert_eq!(status, 429);
    assert_eq!(answer["error"], "too_many_reports");
    assert_eq!(
        live.read(|c| c.listing(&ids[2]).unwrap().state).await,
        ListingState::Public
    );
    clock.advance(Duration::hours(1));
    assert_eq!(
        call(&limited, Method::POST, &path(&ids[2]), None, body())
            .await
            .0,
        202
    );
}
