#![no_main]
// ORUK directory requests: any query string (search queries included) is a typed error or a
// query whose indexed answer equals the linear scan, within the page size; any body either
// loads as a directory or is a JSON error. The same invariants run in CI in
// crates/open-referral-uk/tests/hostile_and_properties.rs (`query_invariants`).
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use open_referral_uk::{Directory, OrukError, SearchQuery, synthetic};

fn directory() -> &'static Directory {
    static DIRECTORY: OnceLock<Directory> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let mut services = synthetic::services(120, 7);
        let mut rng = synthetic::Rng::new(11);
        for service in &mut services {
            for sal in &mut service.service_at_locations {
                if let Some(location) = sal.location.as_mut() {
                    let (lat, lon) = match rng.below(3) {
                        0 => (rng.between(85.0, 90.0), rng.between(-180.0, 180.0)),
                        1 => (rng.between(-60.0, 60.0), rng.between(179.0, 180.0)),
                        _ => (rng.between(-90.0, 90.0), rng.between(-180.0, 180.0)),
                    };
                    location.latitude = serde_json::Number::from_f64(lat);
                    location.longitude = serde_json::Number::from_f64(lon);
                }
            }
        }
        Directory::new(services)
    })
}

fuzz_target!(|data: &[u8]| {
    match Directory::from_json(data) {
        Ok(directory) => {
            let _ = directory
                .search(&SearchQuery::default())
                .expect("a default query runs");
        }
        Err(error) => assert!(matches!(error, OrukError::Json { .. })),
    }
    let raw = String::from_utf8_lossy(data);
    let directory = directory();
    match SearchQuery::from_query_string(&raw) {
        Ok(query) => {
            // A well-formed query can still be refused by the directory (a postcode it cannot
            // locate): then both the indexed and the linear search refuse it, with a
            // parameter error.
            let (indexed, linear) =
                match (directory.search(&query), directory.search_linear(&query)) {
                    (Ok(indexed), Ok(linear)) => (indexed, linear),
                    (Err(OrukError::BadParameter { .. }), Err(OrukError::BadParameter { .. })) => {
                        assert!(directory.search_service_at_locations(&query).is_err());
                        return;
                    }
                    (indexed, linear) => panic!(
                        "indexed and linear search disagree: {:?} vs {:?}",
                        indexed.map(|p| p.total_items),
                        linear.map(|p| p.total_items)
                    ),
                };
            assert_eq!(indexed.total_items, linear.total_items);
            let a: Vec<&str> = indexed
                .contents
                .iter()
                .map(|h| h.service.id.as_str())
                .collect();
            let b: Vec<&str> = linear
                .contents
                .iter()
                .map(|h| h.service.id.as_str())
                .collect();
            assert_eq!(a, b);
            assert!(indexed.size <= u64::from(query.page.per_page()));
            let items = directory
                .search_service_at_locations(&query)
                .expect("a query the search accepted runs");
            assert!(items.size <= u64::from(query.page.per_page()));
        }
        Err(OrukError::BadParameter { .. }) => {}
        Err(other) => panic!("unexpected error kind {other}"),
    }
});
