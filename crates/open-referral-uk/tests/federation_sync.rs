#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Directories that feed each other: two in-process directories, each with its own store and
//! its own axum server on loopback, sync from each other and converge; an entry edited on
//! both sides resolves by the documented rule; hostile feeds (wrong shapes, endless or looping
//! `next` pages, huge pages, a slow drip) are bounded and reported without touching the
//! listings; provenance and cursors survive a restart (SQLite) and are kept in PostgreSQL.
#![cfg(feature = "federation")]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::routing::get;
use chrono::{TimeZone, Utc};
use open_referral_uk::api::{ServeOptions, serve_router};
use open_referral_uk::federation::page::PageLimits;
use open_referral_uk::federation::record::listing_state;
use open_referral_uk::federation::{Federation, Peer, SyncOptions};
use open_referral_uk::live::core::{ListingInput, Principal};
use open_referral_uk::live::{Live, LiveOptions, ManualClock};
use open_referral_uk::provider_api::{AuthKeys, app};
use open_referral_uk::search::Directory;
use open_referral_uk::store::{MemoryStore, PostgresStore, SqliteStore, Store};
use serde_json::{Value, json};

fn examples() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/services.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap())
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve_router(listener, router, ServeOptions::default()));
    format!("http://{address}/")
}

struct Instance {
    live: Arc<Live>,
    url: String,
    federation: Federation,
}

async fn instance(id: &str, store: Arc<dyn Store>, clock: &ManualClock) -> Instance {
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
    let url = serve(app(Arc::clone(&live), AuthKeys::new())).await;
    let federation =
        Federation::new(Arc::clone(&live), id, SyncOptions::default().per_page(2)).unwrap();
    Instance {
        live,
        url,
        federation,
    }
}

async fn publish(live: &Live, service: Value) {
    let input: ListingInput = serde_json::from_value(json!({ "service": service })).unwrap();
    let id = service["id"].as_str().unwrap().to_owned();
    live.create_listing(&Principal::Admin, input).await.unwrap();
    live.review(&Principal::Admin, &id, true).await.unwrap();
}

async fn edit(live: &Live, service: Value) {
    let input: ListingInput = serde_json::from_value(json!({ "service": service })).unwrap();
    let id = service["id"].as_str().unwrap().to_owned();
    live.edit_listing(&Principal::Admin, &id, input)
        .await
        .unwrap();
}

/// Every listing's service as JSON, by id.
async fn contents(live: &Live) -> Vec<(String, Value)> {
    live.read(|core| {
        core.listings()
            .map(|l| {
                (
                    l.service.id.clone(),
                    serde_json::to_value(&l.service).unwrap(),
                )
            })
            .collect()
    })
    .await
}

#[tokio::test]
async fn two_directories_sync_from_each_other_and_converge() {
    let clock = clock();
    let a = instance("dir-a", Arc::new(MemoryStore::new()), &clock).await;
    let b = instance("dir-b", Arc::new(MemoryStore::new()), &clock).await;
    let services = examples();
    for service in &services[..3] {
        publish(&a.live, service.clone()).await;
    }
    for service in &services[3..5] {
        publish(&b.live, service.clone()).await;
    }
    let peer_a = Peer::new("dir-a", &a.url).unwrap();
    let peer_b = Peer::new("dir-b", &b.url).unwrap();

    let report = b.federation.sync(&peer_a).await.unwrap();
    assert!(
        report.complete && report.entry_errors.is_empty(),
        "{report:?}"
    );
    assert_eq!((report.pages, report.counts.imported), (2, 3));
    let report = a.federation.sync(&peer_b).await.unwrap();
    assert_eq!(
        (report.counts.imported, report.counts.unchanged),
        (2, 3),
        "{report:?}"
    );
    assert_eq!(contents(&a.live).await, contents(&b.live).await);
    assert_eq!(contents(&a.live).await.len(), 5);

    // Provenance: where each import came from.
    let id = services[0]["id"].as_str().unwrap();
    let state = b.live.read(|core| listing_state(core, id)).await;
    let provenance = state.provenance.unwrap();
    assert_eq!(provenance.directory, "dir-a");
    assert_eq!(
        provenance.remote_modified.as_deref(),
        Some("2026-10-01T09:00:00.000Z")
    );
    // Imported entries are searchable.
    assert!(b.live.directory().read().unwrap().service(id).is_some());

    // Nothing changes any more: no write ping-pongs between them.
    for _ in 0..2 {
        for (federation, peer) in [(&a.federation, &peer_b), (&b.federation, &peer_a)] {
            let report = federation.sync(peer).await.unwrap();
            assert_eq!(report.counts.unchanged, 5, "{report:?}");
            assert_eq!(
                report.counts.imported + report.counts.updated + report.counts.conflict_imported,
                0
            );
        }
    }

    // An edit on one side (date left alone) is stamped and reaches the other.
    clock.advance(chrono::Duration::minutes(5));
    let mut changed = services[3].clone();
    changed["name"] = json!("Avon Befriending (renamed)");
    edit(&b.live, changed).await;
    let report = b.federation.sync(&peer_a).await.unwrap();
    assert_eq!(report.counts.kept_local_edit, 1, "{report:?}");
    let report = a.federation.sync(&peer_b).await.unwrap();
    assert_eq!(report.counts.updated, 1, "{report:?}");
    assert_eq!(contents(&a.live).await, contents(&b.live).await);
    let renamed = services[3]["id"].as_str().unwrap();
    let stamped = a
        .live
        .read(|core| core.listing(renamed).unwrap().service.last_modified.clone())
        .await;
    assert_eq!(stamped.as_deref(), Some("2026-11-02T09:05:00.000Z"));
}

#[tokio::test]
async fn an_entry_edited_on_both_sides_resolves_by_the_rule() {
    let clock = clock();
    let a = instance("dir-a", Arc::new(MemoryStore::new()), &clock).await;
    let b = instance("dir-b", Arc::new(MemoryStore::new()), &clock).await;
    let service = examples()[0].clone();
    let id = service["id"].as_str().unwrap().to_owned();
    publish(&a.live, service.clone()).await;
    let peer_a = Peer::new("dir-a", &a.url).unwrap();
    let peer_b = Peer::new("dir-b", &b.url).unwrap();
    b.federation.sync(&peer_a).await.unwrap();
    a.federation.sync(&peer_b).await.unwrap();

    // Both edit: A's edit is dated 10:00, B's 11:00. The later `last_modified` wins on both
    // sides, whichever pulls first.
    let mut on_a = service.clone();
    on_a["name"] = json!("Edited at A");
    on_a["last_modified"] = json!("2026-11-02T10:00:00.000Z");
    let mut on_b = service.clone();
    on_b["name"] = json!("Edited at B");
    on_b["last_modified"] = json!("2026-11-02T11:00:00.000Z");
    clock.advance(chrono::Duration::hours(3));
    edit(&a.live, on_a.clone()).await;
    edit(&b.live, on_b.clone()).await;
    let report = a.federation.sync(&peer_b).await.unwrap();
    assert_eq!(report.counts.conflict_imported, 1, "{report:?}");
    let report = b.federation.sync(&peer_a).await.unwrap();
    assert_eq!(report.counts.unchanged, 1, "{report:?}");
    for live in [&a.live, &b.live] {
        let name = live
            .read(|core| core.listing(&id).unwrap().service.name.clone())
            .await;
        assert_eq!(name, "Edited at B");
    }

    // Both edit with the same date: the directory id that sorts first ("dir-a") wins, again
    // on both sides, and B pulling first changes nothing about the outcome.
    on_a["name"] = json!("Tie at A");
    on_a["last_modified"] = json!("2026-11-02T12:00:00.000Z");
    on_b["name"] = json!("Tie at B");
    on_b["last_modified"] = json!("2026-11-02T12:00:00.000Z");
    edit(&a.live, on_a).await;
    edit(&b.live, on_b).await;
    let report = b.federation.sync(&peer_a).await.unwrap();
    assert_eq!(report.counts.conflict_imported, 1, "{report:?}");
    let report = a.federation.sync(&peer_b).await.unwrap();
    assert_eq!(report.counts.unchanged, 1, "{report:?}");
    for live in [&a.live, &b.live] {
        let name = live
            .read(|core| core.listing(&id).unwrap().service.name.clone())
            .await;
        assert_eq!(name, "Tie at A");
    }
    // And from then on, quiet.
    for (federation, peer) in [(&a.federation, &peer_b), (&b.federation, &peer_a)] {
        let report = federation.sync(peer).await.unwrap();
        assert_eq!(report.counts.unchanged, 1, "{report:?}");
    }
}

/// A hostile feed: `/services` answers `page`, `/services/{id}` answers `service`.
async fn feed(
    page: impl Fn(u64) -> (u16, Vec<u8>) + Clone + Send + Sync + 'static,
    service: impl Fn(&str) -> (u16, Value) + Clone + Send + Sync + 'static,
) -> String {
    let router = Router::new()
        .route(
            "/services",
            get(move |RawQuery(query): RawQuery| {
                let page = page.clone();
                async move {
                    let number = query
                        .unwrap_or_default()
                        .split('&')
                        .find_map(|p| p.strip_prefix("page=").map(str::to_owned))
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1);
                    let (status, body) = page(number);
                    (axum::http::StatusCode::from_u16(status).unwrap(), body)
                }
            }),
        )
        .route(
            "/services/{id}",
            get(move |Path(id): Path<String>| {
                let service = service.clone();
                async move {
                    let (status, body) = service(&id);
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        axum::Json(body),
                    )
                }
            }),
        );
    serve(router).await
}

fn page_body(contents: Vec<Value>, extra: Value) -> Vec<u8> {
    let mut page = json!({ "total_items": contents.len(), "contents": contents });
    if let (Some(page), Some(extra)) = (page.as_object_mut(), extra.as_object()) {
        page.extend(extra.clone());
    }
    serde_json::to_vec(&page).unwrap()
}

async fn victim(clock: &ManualClock) -> (Arc<Live>, Vec<(String, Value)>) {
    let live = Arc::new(
        Live::open(
            Arc::new(MemoryStore::new()),
            Arc::new(clock.clone()),
            Directory::builder(),
            LiveOptions::default(),
        )
        .await
        .unwrap(),
    );
    publish(&live, examples()[5].clone()).await;
    let before = contents(&live).await;
    (live, before)
}

fn federation(live: &Arc<Live>, options: SyncOptions) -> Federation {
    Federation::new(Arc::clone(live), "victim", options).unwrap()
}

#[tokio::test]
async fn wrong_shapes_are_reported_per_entry_and_the_rest_imported() {
    let clock = clock();
    let (live, _) = victim(&clock).await;
    let services = examples();
    let good = services[0].clone();
    let mut bad_email = services[1].clone();
    bad_email["email"] = json!(42);
    let (good_id, bad_id, gone_id) = (
        good["id"].as_str().unwrap().to_owned(),
        bad_email["id"].as_str().unwrap().to_owned(),
        services[2]["id"].as_str().unwrap().to_owned(),
    );
    let listed = vec![
        json!({"id": good_id}),
        json!(7),
        json!({"id": "not-a-uuid"}),
        json!({"id": bad_id}),
        json!({"id": gone_id}),
        json!({"id": services[3]["id"]}),
    ];
    let other = services[4].clone();
    let url = feed(
        move |_| (200, page_body(listed.clone(), json!({"last_page": true}))),
        move |id| {
            if id == good["id"] {
                (200, good.clone())
            } else if id == bad_email["id"] {
                (200, bad_email.clone())
            } else if id == gone_id {
                (500, json!({}))
            } else {
                // Answers another service than the one listed.
                (200, other.clone())
            }
        },
    )
    .await;
    let report = federation(&live, SyncOptions::default())
        .sync(&Peer::new("hostile", &url).unwrap())
        .await
        .unwrap();
    assert!(report.complete);
    assert_eq!(report.counts.imported, 1);
    // The whole report, as a caller (or a log shipper) gets it.
    insta::assert_json_snapshot!(report);
    assert!(live.read(|core| core.listing(&good_id).is_some()).await);
    assert!(live.read(|core| core.listing(&bad_id).is_none()).await);
}

#[test]
fn peers_are_checked_and_their_keys_never_shown() {
    assert!(Peer::new("x", "ftp://directory.example/").is_err());
    assert!(Peer::new("x", "not a url").is_err());
    assert!(Peer::new("", "https://directory.example/").is_err());
    let peer = Peer::new("dir-a", "https://directory.example/api?x=1")
        .unwrap()
        .with_key("secret-key-123");
    let shown = format!("{peer:?}");
    assert!(!shown.contains("secret-key-123"), "{shown}");
    assert!(shown.contains("https://directory.example/api/"), "{shown}");
}

#[tokio::test]
async fn endless_looping_huge_and_slow_feeds_are_bounded() {
    let clock = clock();
    let (live, before) = victim(&clock).await;
    let one = json!({"id": "9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80"});
    let missing = |_: &str| (404, json!({}));

    // Endless `next` pages with new addresses: the page limit stops it.
    let item = one.clone();
    let url = feed(
        move |n| {
            let next = format!("/services?page={}", n + 1);
            (
                200,
                page_body(
                    vec![item.clone()],
                    json!({"last_page": false, "next": next}),
                ),
            )
        },
        missing,
    )
    .await;
    let report = federation(&live, SyncOptions::default().max_pages(5))
        .sync(&Peer::new("endless", &url).unwrap())
        .await
        .unwrap();
    assert!(!report.complete);
    assert_eq!(report.pages, 5);
    assert_eq!(
        report.problem.as_deref(),
        Some("stopped after 5 pages (the limit)")
    );

    // Endless by numbers: total_pages says a billion.
    let item = one.clone();
    let url = feed(
        move |_| {
            (
                200,
                page_body(vec![item.clone()], json!({"total_pages": 1_000_000_000u64})),
            )
        },
        missing,
    )
    .await;
    let report = federation(&live, SyncOptions::default().max_pages(3))
        .sync(&Peer::new("numbers", &url).unwrap())
        .await
        .unwrap();
    assert_eq!((report.complete, report.pages), (false, 3));

    // A `next` that comes back to a page already read.
    let item = one.clone();
    let url = feed(
        move |n| {
            let next = if n == 1 {
                "/services?page=2"
            } else {
                "/services?page=1&per_page=2"
            };
            (200, page_body(vec![item.clone()], json!({"next": next})))
        },
        missing,
    )
    .await;
    let federation_looping = federation(&live, SyncOptions::default().per_page(2));
    let report = federation_looping
        .sync(&Peer::new("loop", &url).unwrap())
        .await
        .unwrap();
    assert_eq!(
        report.problem.as_deref(),
        Some("the `next` links go round in a loop")
    );
    assert_eq!(report.pages, 2);

    // A `next` to another host.
    let item = one.clone();
    let url = feed(
        move |_| {
            (
                200,
                page_body(
                    vec![item.clone()],
                    json!({"next": "http://elsewhere.invalid/services"}),
                ),
            )
        },
        missing,
    )
    .await;
    let report = federation(&live, SyncOptions::default())
        .sync(&Peer::new("away", &url).unwrap())
        .await
        .unwrap();
    assert_eq!(
        report.problem.as_deref(),
        Some("a `next` link points outside the peer's API")
    );

    // A huge page (by bytes, streamed without a length) and one with too many entries.
    let url = feed(
        |_| {
            (
                200,
                format!(
                    "{{\"contents\":[], \"pad\":\"{}\"}}",
                    "x".repeat(2 * 1024 * 1024)
                )
                .into_bytes(),
            )
        },
        missing,
    )
    .await;
    let limits = PageLimits::default();
    let mut small = limits;
    small.max_bytes = 1024 * 1024;
    let report = federation(&live, SyncOptions::default().page_limits(small))
        .sync(&Peer::new("huge", &url).unwrap())
        .await
        .unwrap();
    assert_eq!(
        report.problem.as_deref(),
        Some("page 1: the answer is larger than 1048576 bytes")
    );
    let crowd: Vec<Value> = (0..1001).map(|_| one.clone()).collect();
    let url = feed(move |_| (200, page_body(crowd.clone(), json!({}))), missing).await;
    let report = federation(&live, SyncOptions::default())
        .sync(&Peer::new("crowd", &url).unwrap())
        .await
        .unwrap();
    assert_eq!(
        report.problem.as_deref(),
        Some("page 1: the page has 1001 entries, more than 1000")
    );

    // Wrong shapes for the whole page.
    let url = feed(|_| (200, b"[1,2,3]".to_vec()), missing).await;
    let report = federation(&live, SyncOptions::default())
        .sync(&Peer::new("array", &url).unwrap())
        .await
        .unwrap();
    assert_eq!(
        report.problem.as_deref(),
        Some("page 1: not an ORUK 3.0 page: the body is not a JSON object")
    );

    // A slow drip: headers at once, then a byte every 300 ms; the time-out ends it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n";
                if socket.write_all(head).await.is_err() {
                    return;
                }
                while socket.write_all(b" ").await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            });
        }
    });
    let started = std::time::Instant::now();
    let report = federation(
        &live,
        SyncOptions::default().timeout(Duration::from_secs(1)),
    )
    .sync(&Peer::new("drip", &url).unwrap())
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        report.problem.as_deref(),
        Some("page 1: the peer did not answer within the time-out")
    );

    // A peer that answers each request slowly (but inside the time-out) is stopped by the
    // run's own limit.
    let listed: Vec<Value> = examples().iter().map(|s| json!({"id": s["id"]})).collect();
    let url = feed(
        move |_| (200, page_body(listed.clone(), json!({"last_page": true}))),
        |_| {
            std::thread::sleep(Duration::from_millis(150));
            (404, json!({}))
        },
    )
    .await;
    let report = federation(
        &live,
        SyncOptions::default().max_run_time(Duration::from_millis(400)),
    )
    .sync(&Peer::new("slow", &url).unwrap())
    .await
    .unwrap();
    assert!(!report.complete);
    assert_eq!(
        report.problem.as_deref(),
        Some("the run took longer than its limit")
    );
    assert!(report.listed < 12, "{report:?}");

    // None of it touched the listings, and no cursor moved.
    assert_eq!(contents(&live).await, before);
    let cursor = federation(&live, SyncOptions::default())
        .cursor("endless")
        .await;
    assert_eq!((cursor.runs, cursor.modified_after), (1, None));
    assert!(cursor.last_problem.is_some());
}

async fn restart_keeps(store: impl Fn() -> Arc<dyn Store>) {
    let clock = clock();
    let a = instance("dir-a", Arc::new(MemoryStore::new()), &clock).await;
    for service in &examples()[..2] {
        publish(&a.live, service.clone()).await;
    }
    let peer_a = Peer::new("dir-a", &a.url).unwrap();
    let id = examples()[0]["id"].as_str().unwrap().to_owned();
    {
        let b = instance("dir-b", store(), &clock).await;
        let report = b.federation.sync(&peer_a).await.unwrap();
        assert_eq!(report.counts.imported, 2);
    }
    let b = instance("dir-b", store(), &clock).await;
    let cursor = b.federation.cursor("dir-a").await;
    assert_eq!(cursor.runs, 1);
    assert_eq!(
        cursor.modified_after.as_deref(),
        Some("2026-10-01T09:00:00.000Z")
    );
    assert!(cursor.last_complete.is_some());
    let state = b.live.read(|core| listing_state(core, &id)).await;
    assert_eq!(state.provenance.unwrap().directory, "dir-a");
    assert!(b.live.directory().read().unwrap().service(&id).is_some());
    // The next run asks only for what changed after the cursor and finds everything agreed.
    let report = b.federation.sync(&peer_a).await.unwrap();
    assert!(!report.full);
    assert_eq!(report.counts.unchanged, 2, "{report:?}");
}

#[tokio::test]
async fn restart_keeps_provenance_and_cursors_in_sqlite() {
    let path = std::env::temp_dir().join(format!(
        "oruk-federation-{}-{}.sqlite",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    let store_path = path.clone();
    restart_keeps(move || Arc::new(SqliteStore::open(&store_path).unwrap()) as Arc<dyn Store>)
        .await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn provenance_and_cursors_are_kept_in_postgresql() {
    let Some(url) = nhs_test_support::postgres_url() else {
        return;
    };
    let url = nhs_test_support::fresh_postgres_schema(&url, "oruk_federation").await;
    let clock = clock();
    let a = instance("dir-a", Arc::new(MemoryStore::new()), &clock).await;
    publish(&a.live, examples()[0].clone()).await;
    let peer_a = Peer::new("dir-a", &a.url).unwrap();
    let id = examples()[0]["id"].as_str().unwrap().to_owned();
    {
        let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
        let b = instance("dir-b", store, &clock).await;
        assert_eq!(b.federation.sync(&peer_a).await.unwrap().counts.imported, 1);
    }
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let b = instance("dir-b", store, &clock).await;
    assert_eq!(b.federation.cursor("dir-a").await.runs, 1);
    let state = b.live.read(|core| listing_state(core, &id)).await;
    assert_eq!(state.provenance.unwrap().directory, "dir-a");
}

#[tokio::test]
async fn the_scheduler_pulls_both_ways() {
    let clock = clock();
    let a = instance("dir-a", Arc::new(MemoryStore::new()), &clock).await;
    let b = instance("dir-b", Arc::new(MemoryStore::new()), &clock).await;
    publish(&a.live, examples()[0].clone()).await;
    publish(&b.live, examples()[1].clone()).await;
    let (peer_a, peer_b) = (
        Peer::new("dir-a", &a.url).unwrap(),
        Peer::new("dir-b", &b.url).unwrap(),
    );
    let fa = Arc::new(a.federation);
    let fb = Arc::new(b.federation);
    let ha = fa.spawn(vec![peer_b], Duration::from_millis(100));
    let hb = fb.spawn(vec![peer_a], Duration::from_millis(100));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (ca, cb) = (contents(&a.live).await, contents(&b.live).await);
        if ca.len() == 2 && ca == cb {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no convergence");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ha.abort();
    hb.abort();
}
