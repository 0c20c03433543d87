#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The legacy ORUK validator's level-2 feature tests, as our own: for every service found in
//! the data, searching by its name, its age range, its postcode within 1000 m, its taxonomy
//! and its day and time returns it. Plus the other filters and the public-search rule.

use open_referral_uk::SearchQuery;
use open_referral_uk::marketplace::ListingState;
use open_referral_uk::model::{Service, Taxonomy};
use open_referral_uk::search::Directory;

fn sample() -> Directory {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/");
    let services: Vec<Service> =
        serde_json::from_slice(&std::fs::read(format!("{dir}services.json")).unwrap()).unwrap();
    let taxonomies: Vec<Taxonomy> =
        serde_json::from_slice(&std::fs::read(format!("{dir}taxonomies.json")).unwrap()).unwrap();
    Directory::builder().taxonomies(taxonomies).build(services)
}

fn found(directory: &Directory, params: &[(&str, String)], id: &str) -> bool {
    let mut params: Vec<(&str, String)> = params.to_vec();
    params.push(("per_page", "1000".to_owned()));
    let query = SearchQuery::from_params(params.clone()).unwrap();
    let indexed = directory.search(&query).unwrap();
    let linear = directory.search_linear(&query).unwrap();
    let ids: Vec<&str> = indexed
        .contents
        .iter()
        .map(|h| h.service.id.as_str())
        .collect();
    let linear_ids: Vec<&str> = linear
        .contents
        .iter()
        .map(|h| h.service.id.as_str())
        .collect();
    assert_eq!(
        ids, linear_ids,
        "index and linear scan disagree for {params:?}"
    );
    ids.contains(&id)
}

#[test]
fn every_service_is_found_by_the_level_2_tests() {
    let directory = sample();
    let mut tests_run = 0;
    for service in directory.services() {
        let id = service.id.as_str();
        // Text test.
        assert!(
            found(&directory, &[("search", service.name.clone())], id),
            "text: {}",
            service.name
        );
        // Age test.
        let mut age = Vec::new();
        if let Some(min) = &service.minimum_age {
            age.push(("minimum_age", min.to_string()));
        }
        if let Some(max) = &service.maximum_age {
            age.push(("maximum_age", max.to_string()));
        }
        assert!(found(&directory, &age, id), "age: {}", service.name);
        // Postcode test: within 1000 m of its own postcode.
        let address = &service.service_at_locations[0]
            .location
            .as_ref()
            .unwrap()
            .addresses[0];
        let postcode = [
            ("postcode", address.postal_code.clone()),
            ("proximity", "1000".to_owned()),
        ];
        assert!(
            found(&directory, &postcode, id),
            "postcode: {}",
            service.name
        );
        // Taxonomy test, by term and by taxonomy.
        let term = service.attributes[0].taxonomy_term.as_ref().unwrap();
        assert!(found(
            &directory,
            &[("taxonomy_term_id", term.id.clone())],
            id
        ));
        assert!(found(
            &directory,
            &[("taxonomy_id", term.taxonomy_id.clone().unwrap())],
            id
        ));
        // Time search test: its own day and opening hours.
        let schedule = &service.schedules[0];
        let day = schedule
            .byday
            .as_deref()
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_owned();
        let time = [
            ("day", day),
            ("start_time", schedule.opens_at.clone().unwrap()),
            ("end_time", schedule.closes_at.clone().unwrap()),
        ];
        assert!(found(&directory, &time, id), "time: {}", service.name);
        tests_run += 6;
    }
    assert_eq!(tests_run, 6 * directory.len());
}

#[test]
fn filters_exclude_what_they_should() {
    let directory = sample();
    let count = |params: &[(&str, &str)]| {
        let query =
            SearchQuery::from_params(params.iter().copied().chain([("per_page", "1000")])).unwrap();
        let page = directory.search(&query).unwrap();
        assert_eq!(
            page.total_items,
            directory.search_linear(&query).unwrap().total_items
        );
        page.contents
            .iter()
            .map(|h| h.service.name.clone())
            .collect::<Vec<_>>()
    };
    // Young carers (8-17) only for a 10 year old, with the open-ended services.
    let ten = count(&[("minimum_age", "10"), ("maximum_age", "10")]);
    assert!(ten.contains(&"Young Carers Club".to_owned()));
    assert!(ten.contains(&"Family Cookery Sessions".to_owned()));
    assert!(!ten.contains(&"Chair Yoga for Older Adults".to_owned()));
    // Within 1000 m of Bath: only the Bath venue.
    let bath = count(&[("postcode", "BA1 1LP"), ("proximity", "1000")]);
    assert_eq!(bath, ["Young Carers Club"]);
    // Free vs paid partition the directory.
    let free = count(&[("cost", "free")]);
    let paid = count(&[("cost", "paid")]);
    assert_eq!(free.len() + paid.len(), directory.len());
    assert!(paid.contains(&"Dance Fit".to_owned()));
    // Words must all match; ranking puts the name match first.
    assert_eq!(
        count(&[("search", "walking group")])[0],
        "Riverside Walking Group"
    );
    assert!(count(&[("search", "walking zebra")]).is_empty());
    // Evening sessions on Monday.
    assert_eq!(
        count(&[("day", "MO"), ("start_time", "18:00")]),
        ["Dance Fit", "Singing for Wellbeing"]
    );
    // Text + taxonomy + distance together.
    let combined = count(&[
        ("search", "group"),
        ("postcode", "BS1 5TR"),
        ("proximity", "5000"),
    ]);
    assert_eq!(combined[0], "Riverside Walking Group");
}

#[test]
fn distance_orders_results_and_unknown_postcodes_are_reported() {
    let directory = sample();
    let query = SearchQuery::from_params([("postcode", "BS1 5TR"), ("per_page", "1000")]).unwrap();
    let page = directory.search(&query).unwrap();
    let distances: Vec<f64> = page
        .contents
        .iter()
        .map(|h| h.distance_metres.unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert_eq!(distances[0], 0.0);
    let unknown =
        SearchQuery::from_params([("postcode", "SW1A 1AA"), ("proximity", "1000")]).unwrap();
    assert_eq!(
        directory.search(&unknown).unwrap_err().to_string(),
        "bad parameter `postcode`: could not be located (not in the directory's gazetteer)"
    );
}

#[test]
fn suspended_and_unlisted_entries_never_appear_in_public_search() {
    let mut directory = sample();
    let walking = directory.services()[0].id.clone();
    let yoga = directory.services()[1].id.clone();
    assert!(directory.set_listing_state(&walking, ListingState::Suspended));
    assert!(directory.set_listing_state(&yoga, ListingState::Unlisted));
    let everything = SearchQuery::from_params([("per_page", "1000")]).unwrap();
    for page in [
        directory.search(&everything).unwrap(),
        directory.search_linear(&everything).unwrap(),
    ] {
        assert_eq!(page.total_items as usize, directory.len() - 2);
        assert!(
            page.contents
                .iter()
                .all(|h| h.service.id != walking && h.service.id != yoga)
        );
    }
    let locations = directory.search_service_at_locations(&everything).unwrap();
    assert!(
        locations
            .contents
            .iter()
            .all(|i| i.service.id != walking && i.service.id != yoga)
    );
    assert!(directory.service(&walking).is_none());
    assert!(directory.service(&yoga).is_some());
    // Paused listings stay visible (they only stop taking referrals).
    directory.set_listing_state(&walking, ListingState::Paused);
    assert_eq!(
        directory.search(&everything).unwrap().total_items as usize,
        directory.len() - 1
    );
}
