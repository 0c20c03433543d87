#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Website change checks against a local hostile website: pages that change contact details,
//! vanish (404/410), redirect in loops or to another site, drip slowly, send an endless or
//! declared-huge body, send invalid UTF-8, change only cosmetically or cosmetically on every
//! fetch, and a domain under `.invalid`. Each gives its expected outcome; none crashes the
//! checker or corrupts a listing.
#![cfg(feature = "freshness")]

#[path = "support/hostile_site.rs"]
mod hostile_site;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use open_referral_uk::freshness::fetch::{Checker, CheckerOptions};
use open_referral_uk::freshness::{
    FreshnessRules, Inconclusive, Observation, Snapshot, SuspendedBy,
};
use open_referral_uk::live::core::{
    ListingInput, LiveRules, NotificationKind, Principal, StateAction,
};
use open_referral_uk::live::{Live, LiveOptions, ManualClock};
use open_referral_uk::marketplace::ListingState;
use open_referral_uk::provider_api::{AuthKeys, app};
use open_referral_uk::search::{Directory, SearchQuery};
use open_referral_uk::store::{MemoryStore, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

const HOSTS: &[&str] = &[
    "riverside.test",
    "www.riverside.test",
    "cosmetic.test",
    "gone.test",
    "loop.test",
    "slow.test",
    "huge.test",
    "latin.test",
    "elsewhere.test",
    "a.test",
    "b.test",
];

fn checker(site: &hostile_site::Running, politeness_ms: u64) -> Arc<Checker> {
    let mut options = CheckerOptions::default();
    options.timeout = StdDuration::from_millis(1_500);
    options.connect_timeout = StdDuration::from_millis(1_000);
    options.max_body_bytes = 256 * 1024;
    options.politeness = StdDuration::from_millis(politeness_ms);
    options.resolve = HOSTS.iter().map(|h| ((*h).to_owned(), site.addr)).collect();
    Arc::new(Checker::new(options).unwrap())
}

#[tokio::test]
async fn each_hostile_site_gives_its_outcome() {
    let site = hostile_site::start().await;
    let checker = checker(&site, 20);
    let fetch = |host: &str, path: &str| {
        let checker = Arc::clone(&checker);
        let url = site.url(host, path);
        async move { checker.fetch(&url).await }
    };
    let page = fetch("riverside.test", "/page").await;
    let Observation::Page { body } = &page else {
        panic!("{page:?}")
    };
    let snapshot = Snapshot::of_page(body);
    assert!(snapshot.contacts.phones.contains("0118 496 0000"));
    assert!(snapshot.contacts.emails.contains("walks@riverside.example"));
    assert!(snapshot.contacts.postcodes.contains("RG1 1AA"));
    assert!(snapshot.contacts.opening_times.contains("tue 10:00-12:00"));

    let (gone404, gone410, looped, chain, elsewhere, moved) = tokio::join!(
        fetch("gone.test", "/gone404"),
        fetch("a.test", "/gone410"),
        fetch("loop.test", "/loop-a"),
        fetch("b.test", "/chain/0"),
        fetch("elsewhere.test", "/elsewhere"),
        fetch("www.riverside.test", "/moved"),
    );
    assert_eq!(gone404, Observation::Gone { status: 404 });
    assert_eq!(gone410, Observation::Gone { status: 410 });
    assert_eq!(
        looped,
        Observation::Inconclusive(Inconclusive::RedirectLoop)
    );
    assert_eq!(
        chain,
        Observation::Inconclusive(Inconclusive::TooManyRedirects)
    );
    assert_eq!(
        elsewhere,
        Observation::RedirectedElsewhere {
            host: "parked.test".into()
        }
    );
    assert!(matches!(moved, Observation::Page { .. }), "{moved:?}");

    let (slow, huge, declared, latin, pdf, error) = tokio::join!(
        fetch("slow.test", "/slow"),
        fetch("huge.test", "/huge"),
        fetch("cosmetic.test", "/declared"),
        fetch("latin.test", "/latin1"),
        fetch("gone.test", "/pdf"),
        fetch("loop.test", "/error"),
    );
    assert_eq!(slow, Observation::Inconclusive(Inconclusive::TimedOut));
    assert_eq!(huge, Observation::Inconclusive(Inconclusive::TooLarge));
    assert_eq!(declared, Observation::Inconclusive(Inconclusive::TooLarge));
    let Observation::Page { body } = &latin else {
        panic!("{latin:?}")
    };
    assert!(std::str::from_utf8(body).is_err());
    let snapshot = Snapshot::of_page(body);
    assert!(snapshot.contacts.phones.contains("0118 496 0000"));
    assert!(
        snapshot
            .lines
            .iter()
            .any(|l| l.contains("Caf\u{fffd} open"))
    );
    assert_eq!(pdf, Observation::Inconclusive(Inconclusive::NotText));
    assert_eq!(
        error,
        Observation::Inconclusive(Inconclusive::Status { status: 503 })
    );

    assert_eq!(
        checker.fetch("http://riverside-walks.invalid/").await,
        Observation::Unresolved
    );
    assert_eq!(
        checker.fetch("ftp://riverside.test/").await,
        Observation::Inconclusive(Inconclusive::BadUrl)
    );
    // The directory never fetches its own network for a listing.
    let direct = site.url("127.0.0.1", "/page");
    assert_eq!(
        checker.fetch(&direct).await,
        Observation::Inconclusive(Inconclusive::PrivateAddress)
    );
    let local = site.url("localhost", "/page");
    assert_eq!(
        checker.fetch(&local).await,
        Observation::Inconclusive(Inconclusive::PrivateAddress)
    );
    // The checker still works after all that.
    assert!(matches!(
        fetch("riverside.test", "/page").await,
        Observation::Page { .. }
    ));
}

#[tokio::test]
async fn one_request_at_a_time_per_host_politely_and_hosts_in_parallel() {
    let site = hostile_site::start().await;
    let politeness = StdDuration::from_millis(250);
    let checker = checker(&site, 250);
    let mut jobs = Vec::new();
    for i in 0..4 {
        jobs.push((i, site.url("a.test", "/page")));
        jobs.push((10 + i, site.url("b.test", "/page")));
    }
    // A redirect hop is a request too: same host, same politeness.
    jobs.push((20, site.url("a.test", "/moved")));
    let mut results = checker.fetch_many(jobs);
    let mut answered = 0;
    while let Some((_, _, observation)) = results.recv().await {
        assert!(matches!(observation, Observation::Page { .. }));
        answered += 1;
    }
    assert_eq!(answered, 9);
    for host in ["a.test", "b.test"] {
        let arrivals = site.arrivals(host);
        for pair in arrivals.windows(2) {
            assert!(
                pair[1] - pair[0] >= politeness - StdDuration::from_millis(5),
                "{host}: {:?}",
                pair[1] - pair[0]
            );
        }
    }
    assert_eq!(site.arrivals("a.test").len(), 6);
    assert_eq!(
        site.site
            .max_active_per_host
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // The two hosts were served side by side, not one after the other.
    assert!(site.arrivals("b.test")[0] < *site.arrivals("a.test").last().unwrap());
}

fn keys() -> AuthKeys {
    AuthKeys::new()
        .with("admin-key", Principal::Admin)
        .with("provider-a", Principal::Provider("org-a".into()))
        .with("provider-b", Principal::Provider("org-b".into()))
}

fn service(n: u32, url: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/services.json");
    let all: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut service = all[0].clone();
    service["id"] = json!(format!("6e704245-a4ff-41e3-a794-9b80dcb0b{n:03}"));
    service["name"] = json!(format!("Walking group {n}"));
    service["url"] = json!(url);
    service
}

struct Market {
    live: Arc<Live>,
    clock: ManualClock,
    app: axum::Router,
}

async fn market(rules: FreshnessRules) -> Market {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut live_rules = LiveRules::default();
    live_rules.freshness = rules;
    let live = Arc::new(
        Live::open(
            store,
            Arc::new(clock.clone()),
            Directory::builder(),
            LiveOptions::default().rules(live_rules),
        )
        .await
        .unwrap(),
    );
    let app = app(Arc::clone(&live), keys());
    Market { live, clock, app }
}

impl Market {
    async fn list(&self, n: u32, url: &str) -> String {
        let service = service(n, url);
        let id = service["id"].as_str().unwrap().to_owned();
        let input: ListingInput = serde_json::from_value(json!({"service": service})).unwrap();
        self.live
            .create_listing(&Principal::Provider("org-a".into()), input)
            .await
            .unwrap();
        self.live
            .review(&Principal::Admin, &id, true)
            .await
            .unwrap();
        id
    }

    async fn state(&self, id: &str) -> ListingState {
        self.live.read(|core| core.listing(id).unwrap().state).await
    }

    fn searchable(&self, n: u32) -> bool {
        let directory = self.live.directory();
        let directory = directory.read().unwrap();
        let words = format!("group {n}");
        let query = SearchQuery::from_params([("search", words.as_str())]).unwrap();
        directory
            .search(&query)
            .unwrap()
            .contents
            .iter()
            .any(|s| s.service.name == format!("Walking group {n}"))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let request = match body {
            Some(b) => request
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn notices(&self, kind: NotificationKind) -> Vec<String> {
        self.live
            .outbox()
            .await
            .into_iter()
            .filter(|n| n.kind == kind)
            .map(|n| n.detail.unwrap_or_default())
            .collect()
    }
}

#[tokio::test]
async fn a_contact_change_suspends_until_the_provider_confirms_or_edits() {
    let site = hostile_site::start().await;
    let checker = checker(&site, 10);
    let m = market(FreshnessRules::default()).await;
    let url = site.url("riverside.test", "/page");
    let id = m.list(1, &url).await;

    let first = m.live.check_websites(&checker).await.unwrap();
    assert_eq!((first.checked, first.baselines), (1, 1));
    // Not due again until a week has passed.
    assert_eq!(m.live.check_websites(&checker).await.unwrap().checked, 0);
    m.clock.advance(Duration::days(7));
    let second = m.live.check_websites(&checker).await.unwrap();
    assert_eq!(
        (second.checked, second.unchanged, second.suspended),
        (1, 1, 0)
    );
    assert_eq!(m.state(&id).await, ListingState::Public);

    site.site
        .version
        .store(1, std::sync::atomic::Ordering::SeqCst);
    m.clock.advance(Duration::days(7));
    let third = m.live.check_websites(&checker).await.unwrap();
    assert_eq!(third.suspended, 1);
    assert_eq!(m.state(&id).await, ListingState::Suspended);
    assert!(!m.searchable(1));
    let notices = m.notices(NotificationKind::WebsiteChanged).await;
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].contains("- phone number removed: 0118 496 0000"),
        "{}",
        notices[0]
    );
    assert!(notices[0].contains("- phone number added: 0118 496 0999"));
    let record = m.live.freshness(&id).await.unwrap();
    assert_eq!(record.suspended_by, Some(SuspendedBy::WebsiteChange));

    // While it waits for the provider, it is not checked again.
    m.clock.advance(Duration::days(8));
    assert_eq!(m.live.check_websites(&checker).await.unwrap().checked, 0);

    // Another provider cannot confirm it; the public cannot either.
    let path = format!("/provider/services/{id}/freshness/confirm");
    assert_eq!(
        m.call(Method::POST, &path, Some("provider-b"), None)
            .await
            .0,
        403
    );
    assert_eq!(m.call(Method::POST, &path, None, None).await.0, 401);
    let (status, view) = m
        .call(
            Method::GET,
            &format!("/provider/services/{id}/freshness"),
            Some("provider-a"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        view["changes_readable"]
            .as_str()
            .unwrap()
            .contains("0118 496 0999")
    );
    let (status, view) = m.call(Method::POST, &path, Some("provider-a"), None).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(m.state(&id).await, ListingState::Public);
    assert!(m.searchable(1));
    assert!(
        view["confirmed_contacts"]["phones"]
            .as_array()
            .unwrap()
            .contains(&json!("0118 496 0999"))
    );
    assert_eq!(view["suspended_by"], Value::Null);

    // The confirmed page no longer triggers.
    m.clock.advance(Duration::days(7));
    let after = m.live.check_websites(&checker).await.unwrap();
    assert_eq!((after.checked, after.suspended), (1, 0));

    // Another change; this time the provider edits the listing, which also restores it.
    site.site
        .version
        .store(2, std::sync::atomic::Ordering::SeqCst);
    m.clock.advance(Duration::days(7));
    assert_eq!(m.live.check_websites(&checker).await.unwrap().suspended, 1);
    assert_eq!(m.state(&id).await, ListingState::Suspended);
    let mut edited = service(1, &url);
    edited["description"] = json!("Walks; call 0118 496 0777.");
    let input: ListingInput = serde_json::from_value(json!({"service": edited})).unwrap();
    m.live
        .edit_listing(&Principal::Provider("org-a".into()), &id, input)
        .await
        .unwrap();
    assert_eq!(m.state(&id).await, ListingState::Public);
    let record = m.live.freshness(&id).await.unwrap();
    assert_eq!(record.suspended_by, None);
    assert!(
        record
            .confirmed
            .unwrap()
            .contacts
            .phones
            .contains("0118 496 0777")
    );
}

#[tokio::test]
async fn cosmetic_changes_never_trigger_even_on_every_fetch() {
    let site = hostile_site::start().await;
    let checker = checker(&site, 10);
    let m = market(FreshnessRules::default()).await;
    let id = m.list(2, &site.url("cosmetic.test", "/cosmetic")).await;
    for _ in 0..5 {
        let summary = m.live.check_websites(&checker).await.unwrap();
        assert_eq!(
            (summary.checked, summary.suspended, summary.content_changed),
            (1, 0, 0)
        );
        m.clock.advance(Duration::days(7));
    }
    assert_eq!(m.state(&id).await, ListingState::Public);
    assert!(m.notices(NotificationKind::WebsiteChanged).await.is_empty());
    assert!(site.site.counter.load(std::sync::atomic::Ordering::SeqCst) >= 5);
}

#[tokio::test]
async fn gone_unresolved_and_elsewhere_suspend_after_a_second_check() {
    let site = hostile_site::start().await;
    let checker = checker(&site, 10);
    let m = market(FreshnessRules::default()).await;
    let gone = m.list(3, &site.url("gone.test", "/gone410")).await;
    let unresolved = m.list(4, "http://riverside-walks.invalid/").await;
    let elsewhere = m.list(5, &site.url("elsewhere.test", "/elsewhere")).await;

    let first = m.live.check_websites(&checker).await.unwrap();
    assert_eq!(
        (first.checked, first.unreachable, first.suspended),
        (3, 3, 0)
    );
    for id in [&gone, &unresolved, &elsewhere] {
        assert_eq!(m.state(id).await, ListingState::Public);
    }
    m.clock.advance(Duration::days(1));
    let second = m.live.check_websites(&checker).await.unwrap();
    assert_eq!((second.checked, second.suspended), (3, 3));
    for id in [&gone, &unresolved, &elsewhere] {
        assert_eq!(m.state(id).await, ListingState::Suspended);
    }
    let notices = m.notices(NotificationKind::WebsiteChanged).await;
    assert_eq!(notices.len(), 3);
    assert!(
        notices
            .iter()
            .any(|n| n.contains("- the page is gone (HTTP 410)")),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.contains("- the website's domain no longer resolves"))
    );
    assert!(
        notices
            .iter()
            .any(|n| n.contains("- the website now redirects to another site: parked.test"))
    );
}

#[tokio::test]
async fn hostile_pages_leave_listings_alone() {
    let site = hostile_site::start().await;
    let checker = checker(&site, 10);
    let m = market(FreshnessRules::default().unreachable_checks(1)).await;
    let slow = m.list(6, &site.url("slow.test", "/slow")).await;
    let huge = m.list(7, &site.url("huge.test", "/huge")).await;
    let looped = m.list(8, &site.url("loop.test", "/loop-a")).await;
    let latin = m.list(9, &site.url("latin.test", "/latin1")).await;
    let error = m.list(10, &site.url("a.test", "/error")).await;
    let before: Vec<Value> = m
        .live
        .read(|core| {
            core.listings()
                .map(|l| serde_json::to_value(&l.service).unwrap())
                .collect()
        })
        .await;

    let summary = m.live.check_websites(&checker).await.unwrap();
    assert_eq!(
        (
            summary.checked,
            summary.inconclusive,
            summary.baselines,
            summary.suspended
        ),
        (5, 4, 1, 0)
    );
    for (id, why) in [
        (&slow, "timed_out"),
        (&huge, "too_large"),
        (&looped, "redirect_loop"),
        (&error, "status"),
    ] {
        assert_eq!(m.state(id).await, ListingState::Public);
        let record = m.live.freshness(id).await.unwrap();
        let result = serde_json::to_value(record.last_result.unwrap()).unwrap();
        assert_eq!(result["why"]["reason"], why, "{id}");
        assert_eq!(record.next_check_at, Some(m.live.now() + Duration::days(1)));
        assert_eq!(record.confirmed, None);
    }
    assert_eq!(m.state(&latin).await, ListingState::Public);
    let after: Vec<Value> = m
        .live
        .read(|core| {
            core.listings()
                .map(|l| serde_json::to_value(&l.service).unwrap())
                .collect()
        })
        .await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_change_on_an_already_suspended_listing_is_told_once() {
    let site = hostile_site::start().await;
    let checker = checker(&site, 10);
    let m = market(FreshnessRules::default()).await;
    let id = m.list(11, &site.url("b.test", "/page")).await;
    site.site
        .version
        .store(0, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(m.live.check_websites(&checker).await.unwrap().baselines, 1);
    let admin = Principal::Admin;
    m.live
        .set_state(&admin, &id, StateAction::Suspend)
        .await
        .unwrap();
    site.site
        .version
        .store(1, std::sync::atomic::Ordering::SeqCst);
    m.clock.advance(Duration::days(7));
    assert_eq!(m.live.check_websites(&checker).await.unwrap().suspended, 1);
    let record = m.live.freshness(&id).await.unwrap();
    // Suspended before: an edit alone does not lift the other suspension; a confirmation does.
    assert_eq!(record.suspended_by, None);
    assert!(record.pending.is_some());
    m.clock.advance(Duration::days(7));
    assert_eq!(m.live.check_websites(&checker).await.unwrap().checked, 0);
    assert_eq!(m.notices(NotificationKind::WebsiteChanged).await.len(), 1);
    m.live
        .set_state(
            &Principal::Provider("org-a".into()),
            &id,
            StateAction::Confirm,
        )
        .await
        .unwrap();
    assert_eq!(m.state(&id).await, ListingState::Public);
    let record = m.live.freshness(&id).await.unwrap();
    assert!(record.pending.is_none());
    assert!(
        record
            .confirmed
            .unwrap()
            .contacts
            .phones
            .contains("0118 496 0999")
    );
}
