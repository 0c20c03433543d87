#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The marketplace rules driving the public directory, with time injected: unanswered
//! referrals suspend a listing, the directory mirrors the state change and the service leaves
//! public search until the provider confirms.

use chrono::{DateTime, Duration, TimeZone, Utc};
use open_referral_uk::SearchQuery;
use open_referral_uk::marketplace::{
    EntryKind, ListingState, Marketplace, MarketplaceEvent, MarketplaceRules,
};
use open_referral_uk::model::Service;
use open_referral_uk::search::Directory;

fn sample() -> (Vec<Service>, Directory) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/services.json");
    let services: Vec<Service> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let directory = Directory::new(services.clone());
    (services, directory)
}

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::days(n)
}

fn mirror(directory: &mut Directory, events: &[MarketplaceEvent]) {
    for event in events {
        if let MarketplaceEvent::StateChanged { service_id, state } = event {
            assert!(directory.set_listing_state(service_id, *state));
        }
    }
}

fn public_ids(directory: &Directory) -> Vec<String> {
    let query = SearchQuery::from_params([("per_page", "1000")]).unwrap();
    directory
        .search(&query)
        .unwrap()
        .contents
        .iter()
        .map(|hit| hit.service.id.clone())
        .collect()
}

#[test]
fn suspension_and_unlisting_reach_public_search() {
    let (services, mut directory) = sample();
    let mut market = Marketplace::new(MarketplaceRules::default());
    let walking = &services[0];
    let yoga = &services[1];
    market
        .list(walking, EntryKind::Referral, ListingState::Public)
        .unwrap();
    market
        .list(yoga, EntryKind::SignpostingOnly, ListingState::Public)
        .unwrap();
    // Three referrals nobody answers: each is declined after 30 days and the third in a row
    // suspends the listing.
    for n in 0..3 {
        market.refer(&format!("r{n}"), &walking.id, day(n)).unwrap();
    }
    assert!(market.tick(day(29)).is_empty());
    let events = market.tick(day(32));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, MarketplaceEvent::ListingSuspended { unanswered: 3, .. }))
    );
    mirror(&mut directory, &events);
    assert!(!public_ids(&directory).contains(&walking.id));
    assert!(directory.service(&walking.id).is_none());
    // Unlisting the signposting entry hides it from search but not from a direct link.
    mirror(
        &mut directory,
        &market.set_unlisted(&yoga.id, true).unwrap(),
    );
    assert!(!public_ids(&directory).contains(&yoga.id));
    assert!(directory.service(&yoga.id).is_some());
    // The provider confirms: the walking group is public again.
    mirror(
        &mut directory,
        &market.provider_confirms(&walking.id).unwrap(),
    );
    assert!(public_ids(&directory).contains(&walking.id));
    assert_eq!(public_ids(&directory).len(), services.len() - 1);
}
