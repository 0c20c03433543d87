#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The marketplace as a running service, over HTTP: provider creates, admin approves,
//! referrals, five declines pause, 30 days on an injected clock auto-decline, restart on the
//! same SQLite file keeps every state; bad input changes nothing.
#![cfg(feature = "live")]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use open_referral_uk::live::core::Principal;
use open_referral_uk::live::{Live, LiveOptions, ManualClock};
use open_referral_uk::provider_api::{AuthKeys, app};
use open_referral_uk::search::Directory;
use open_referral_uk::store::{SqliteStore, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

fn keys() -> AuthKeys {
    AuthKeys::new()
        .with("admin-key", Principal::Admin)
        .with("provider-a", Principal::Provider("org-a".into()))
        .with("provider-b", Principal::Provider("org-b".into()))
        .with("gp-key", Principal::Professional("gp-surgery".into()))
}

fn example_service() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/services.json");
    let all: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    all[0].clone()
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    call_raw(
        app,
        method,
        path,
        key,
        body.map(|b| b.to_string().into_bytes()),
    )
    .await
}

async fn call_raw(
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

async fn open(path: &std::path::Path, clock: &ManualClock) -> (Arc<Live>, Router) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path).unwrap());
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

fn temp_db(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "oruk-live-{name}-{}-{}.sqlite",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    let _ = std::fs::remove_file(&path);
    path
}

async fn snapshot(app: &Router, id: &str) -> (Value, Value, Value) {
    let (_, listing) = call(
        app,
        Method::GET,
        &format!("/provider/services/{id}"),
        Some("admin-key"),
        None,
    )
    .await;
    let (_, referrals) = call(
        app,
        Method::GET,
        "/provider/referrals",
        Some("admin-key"),
        None,
    )
    .await;
    let (_, outbox) = call(app, Method::GET, "/admin/outbox", Some("admin-key"), None).await;
    (listing, referrals, outbox)
}

#[tokio::test]
async fn whole_lifecycle_over_http_survives_a_restart() {
    let db = temp_db("lifecycle");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let (live, app) = open(&db, &clock).await;
    let service = example_service();
    let id = service["id"].as_str().unwrap().to_owned();
    let listing = json!({
        "service": service,
        "entry": "referral",
        "referral_route": {"form": {"fields": [{"name": "reason", "label": "Why", "required": true}]}}
    });

    // Bad input first: each is refused and changes nothing.
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/provider/services",
            None,
            Some(listing.clone())
        )
        .await
        .0,
        401
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/provider/services",
            Some("wrong"),
            Some(listing.clone())
        )
        .await
        .0,
        401
    );
    let (status, body) = call_raw(
        &app,
        Method::POST,
        "/provider/services",
        Some("provider-a"),
        Some(b"{\"service\": ".to_vec()),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = call_raw(
        &app,
        Method::POST,
        "/provider/services",
        Some("provider-a"),
        Some(vec![b' '; 300 * 1024]),
    )
    .await;
    assert_eq!(status, 413);
    let mut invalid = listing.clone();
    invalid["service"]["name"] = Value::Null;
    invalid["service"]["email"] = json!("secret-value-not-an-email");
    let (status, body) = call(
        &app,
        Method::POST,
        "/provider/services",
        Some("provider-a"),
        Some(invalid),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let paths: Vec<&str> = body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"$.name"), "{paths:?}");
    assert!(
        !body.to_string().contains("secret-value"),
        "an error echoed a received value"
    );
    assert_eq!(live.read(|core| core.listings().count()).await, 0);

    // Provider creates; it waits for review and is not searchable.
    let (status, body) = call(
        &app,
        Method::POST,
        "/provider/services",
        Some("provider-a"),
        Some(listing.clone()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["warnings"].is_array());
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/provider/services",
            Some("provider-a"),
            Some(listing.clone())
        )
        .await
        .0,
        409
    );
    let (_, page) = call(&app, Method::GET, "/services?search=riverside", None, None).await;
    assert_eq!(page["total_items"], 0);
    let (_, queue) = call(&app, Method::GET, "/admin/review", Some("admin-key"), None).await;
    assert_eq!(queue["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(queue["overdue"], 0);
    assert_eq!(
        call(&app, Method::GET, "/admin/review", Some("provider-a"), None)
            .await
            .0,
        403
    );

    // Another provider cannot touch it.
    assert_eq!(
        call(
            &app,
            Method::PUT,
            &format!("/provider/services/{id}"),
            Some("provider-b"),
            Some(listing.clone())
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("/provider/services/{id}"),
            Some("provider-b"),
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/provider/services/no-such-id",
            Some("provider-a"),
            None
        )
        .await
        .0,
        404
    );

    // 49 hours later the review queue reports it; the admin approves; approving twice is 409.
    clock.advance(Duration::hours(49));
    live.tick().await.unwrap();
    let (_, queue) = call(&app, Method::GET, "/admin/review", Some("admin-key"), None).await;
    assert_eq!(queue["overdue"], 1);
    assert!(
        live.outbox()
            .await
            .iter()
            .any(|n| format!("{:?}", n.kind) == "ReviewOverdue")
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/admin/review/{id}/approve"),
            Some("admin-key"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/admin/review/{id}/approve"),
            Some("admin-key"),
            None
        )
        .await
        .0,
        409
    );
    let (_, page) = call(&app, Method::GET, "/services?search=riverside", None, None).await;
    assert_eq!(page["total_items"], 1, "{page}");

    // Referrals: a missing required field is refused; five declines in a row pause.
    let refer = format!("/marketplace/services/{id}/referrals");
    assert_eq!(
        call(
            &app,
            Method::POST,
            &refer,
            None,
            Some(json!({"answers": {}}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &refer,
            None,
            Some(json!({"answers": {"other": "x", "reason": "y"}}))
        )
        .await
        .0,
        400
    );
    for n in 0..5 {
        let key = if n % 2 == 0 { None } else { Some("gp-key") };
        let (status, body) = call(
            &app,
            Method::POST,
            &refer,
            key,
            Some(json!({"answers": {"reason": "lonely"}})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let referral = body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            call(
                &app,
                Method::POST,
                &format!("/provider/referrals/{referral}/decline"),
                Some("provider-b"),
                None
            )
            .await
            .0,
            403
        );
        assert_eq!(
            call(
                &app,
                Method::POST,
                &format!("/provider/referrals/{referral}/decline"),
                Some("provider-a"),
                None
            )
            .await
            .0,
            200
        );
        assert_eq!(
            call(
                &app,
                Method::POST,
                &format!("/provider/referrals/{referral}/accept"),
                Some("provider-a"),
                None
            )
            .await
            .0,
            409
        );
    }
    let (_, view) = call(
        &app,
        Method::GET,
        &format!("/provider/services/{id}"),
        Some("provider-a"),
        None,
    )
    .await;
    assert_eq!(view["state"], "paused");
    assert!(
        live.outbox()
            .await
            .iter()
            .any(|n| format!("{:?}", n.kind) == "ListingPaused")
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &refer,
            None,
            Some(json!({"answers": {"reason": "x"}}))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/provider/services/{id}/state"),
            Some("provider-a"),
            Some(json!({"action": "unfreeze"}))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/provider/services/{id}/state"),
            Some("provider-a"),
            Some(json!({"action": "confirm"}))
        )
        .await
        .0,
        200
    );

    // An accepted referral gets an attendance follow-up, attendance and a score.
    let (_, body) = call(
        &app,
        Method::POST,
        &refer,
        None,
        Some(json!({"answers": {"reason": "walks"}})),
    )
    .await;
    let accepted = body["id"].as_str().unwrap().to_owned();
    let token = body["feedback_token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/provider/referrals/{accepted}/accept"),
            Some("provider-a"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/provider/referrals/{accepted}/decline"),
            Some("provider-a"),
            None
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/marketplace/referrals/{accepted}/feedback"),
            None,
            Some(json!({"token": "wrong", "score": 5}))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/marketplace/referrals/{accepted}/feedback"),
            None,
            Some(json!({"token": token, "score": 9}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/marketplace/referrals/{accepted}/feedback"),
            None,
            Some(json!({"token": token, "score": 4, "met_needs": true}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/provider/referrals/{accepted}/attendance"),
            Some("provider-a"),
            Some(json!({"attended": true}))
        )
        .await
        .0,
        200
    );

    // A referral nobody answers: reminders, then declined automatically after 30 days.
    let (_, body) = call(
        &app,
        Method::POST,
        &refer,
        Some("gp-key"),
        Some(json!({"answers": {"reason": "x"}})),
    )
    .await;
    let unanswered = body["id"].as_str().unwrap().to_owned();
    clock.advance(Duration::days(8));
    live.tick().await.unwrap();
    clock.advance(Duration::days(22));
    live.tick().await.unwrap();
    let outbox = live.outbox().await;
    let kinds: Vec<String> = outbox.iter().map(|n| format!("{:?}", n.kind)).collect();
    assert!(kinds.contains(&"ReferralReminder".to_owned()), "{kinds:?}");
    assert!(
        kinds.contains(&"ReferralAutoDeclined".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"AttendanceFollowUp".to_owned()),
        "{kinds:?}"
    );
    let status = live
        .read(|core| core.referral(&unanswered).unwrap().status)
        .await;
    assert_eq!(format!("{status:?}"), "AutoDeclined");
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/provider/referrals/{unanswered}/accept"),
            Some("provider-a"),
            None
        )
        .await
        .0,
        409
    );

    // Frozen at full capacity with a note and a waiting time: still found, no referrals.
    let freeze = json!({"action": "freeze", "note": "Full until spring", "waiting_weeks": 6});
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/provider/services/{id}/state"),
            Some("provider-a"),
            Some(freeze)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            &refer,
            None,
            Some(json!({"answers": {"reason": "x"}}))
        )
        .await
        .0,
        409
    );
    let (_, page) = call(&app, Method::GET, "/services?search=riverside", None, None).await;
    assert_eq!(page["total_items"], 1);
    let (_, public) = call(
        &app,
        Method::GET,
        &format!("/marketplace/services/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(public["waiting_weeks"], 6);
    assert_eq!(public["statistics"]["declined"], 5);
    assert_eq!(public["statistics"]["accepted"], 1);
    assert_eq!(public["statistics"]["auto_declined"], 1);
    assert_eq!(public["statistics"]["attendance_rate"], 1.0);
    assert_eq!(public["statistics"]["mean_score"], 4.0);

    // Status needs a key on public search.
    assert_eq!(
        call(&app, Method::GET, "/services?status=inactive", None, None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(
            &app,
            Method::GET,
            "/services?status=all",
            Some("provider-a"),
            None
        )
        .await
        .0,
        200
    );

    // Restart on the same database: every state is kept.
    let before = snapshot(&app, &id).await;
    let (_, search_before) =
        call(&app, Method::GET, "/services?search=riverside", None, None).await;
    drop(app);
    drop(live);
    let (_live, app) = open(&db, &clock).await;
    assert_eq!(snapshot(&app, &id).await, before);
    let (_, search_after) = call(&app, Method::GET, "/services?search=riverside", None, None).await;
    assert_eq!(search_after, search_before);
    assert_eq!(before.0["state"], "frozen");
    assert_eq!(before.0["note"], "Full until spring");

    // Deleting hides it; approving a deleted listing is refused.
    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("/provider/services/{id}"),
            Some("provider-a"),
            None
        )
        .await
        .0,
        204
    );
    let (_, page) = call(&app, Method::GET, "/services?search=riverside", None, None).await;
    assert_eq!(page["total_items"], 0);
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("/admin/review/{id}/approve"),
            Some("admin-key"),
            None
        )
        .await
        .0,
        409
    );
    // The id may be listed again after deletion: a new review starts.
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/provider/services",
            Some("provider-a"),
            Some(listing.clone())
        )
        .await
        .0,
        201
    );
    let (_, queue) = call(&app, Method::GET, "/admin/review", Some("admin-key"), None).await;
    assert_eq!(queue["waiting"].as_array().unwrap().len(), 1);
    let _ = std::fs::remove_file(&db);
}

#[tokio::test]
async fn bulk_upload_gives_claim_links() {
    let db = temp_db("bulk");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let (live, app) = open(&db, &clock).await;
    let service = example_service();
    let id = service["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/admin/bulk",
            Some("provider-a"),
            Some(json!([service.clone()]))
        )
        .await
        .0,
        403
    );
    let (status, links) = call(
        &app,
        Method::POST,
        "/admin/bulk",
        Some("admin-key"),
        Some(json!([service])),
    )
    .await;
    assert_eq!(status, 201, "{links}");
    let link = links[0]["claim_link"].as_str().unwrap().to_owned();
    assert!(
        live.outbox()
            .await
            .iter()
            .any(|n| n.detail.as_deref() == Some(link.trim_start_matches("/provider")))
    );
    assert_eq!(
        call(
            &app,
            Method::PUT,
            &format!("/provider/services/{id}"),
            Some("provider-a"),
            Some(json!({"service": example_service(), "entry": "signposting_only"}))
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/provider/claim/not-a-token",
            Some("provider-a"),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        call(&app, Method::POST, &link, Some("provider-a"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        call(&app, Method::POST, &link, Some("provider-b"), None)
            .await
            .0,
        404
    );
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!("/provider/services/{id}"),
        Some("provider-a"),
        Some(json!({"service": example_service(), "entry": "signposting_only"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let _ = std::fs::remove_file(&db);
}
