#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Public search rules: inactive services hidden by default (named statuses include them),
//! `postcode` limited to services whose `service_area` covers it when area data exists,
//! free/paid/maximum cost filters.

use open_referral_uk::model::{CostOption, Service, ServiceArea, ServiceStatus, number};
use open_referral_uk::search::{Directory, SearchQuery};
use open_referral_uk::synthetic;

fn ids(directory: &Directory, query: &str) -> Vec<String> {
    let query = SearchQuery::from_query_string(query).unwrap();
    let mut ids: Vec<String> = directory
        .search(&query)
        .unwrap()
        .contents
        .iter()
        .map(|hit| hit.service.name.clone())
        .collect();
    ids.sort();
    ids
}

fn service(n: usize, name: &str, status: ServiceStatus) -> Service {
    let mut service = synthetic::services(n + 1, 1).pop().unwrap();
    service.name = name.into();
    service.status = status;
    service.cost_options.clear();
    service.service_areas.clear();
    service
}

fn area(text: &str, extent_type: Option<&str>) -> ServiceArea {
    serde_json::from_value(serde_json::json!({
        "id": "3f1c0e5a-0000-4000-8000-000000000001",
        "extent": text,
        "extent_type": extent_type,
    }))
    .unwrap()
}

fn cost(amount: f64) -> CostOption {
    serde_json::from_value(serde_json::json!({
        "id": "c0000000-0000-4000-8000-000000000009",
        "amount": number(amount),
    }))
    .unwrap()
}

#[test]
fn inactive_services_are_left_out_unless_asked_for() {
    let directory = Directory::new(vec![
        service(0, "open", ServiceStatus::Active),
        service(1, "closed", ServiceStatus::Inactive),
        service(2, "gone", ServiceStatus::Defunct),
        service(3, "paused", ServiceStatus::TemporarilyClosed),
    ]);
    assert_eq!(ids(&directory, ""), ["open"]);
    let all = SearchQuery::from_query_string("").unwrap();
    assert_eq!(directory.search(&all).unwrap().total_items, 1);
    assert_eq!(
        ids(&directory, "status=all"),
        ["closed", "gone", "open", "paused"]
    );
    assert_eq!(
        ids(&directory, "status=inactive,defunct"),
        ["closed", "gone"]
    );
    assert_eq!(ids(&directory, "status=temporarily%20closed"), ["paused"]);
    for bad in ["status=", "status=shut", "status=active,shut"] {
        let error = SearchQuery::from_query_string(bad).unwrap_err().to_string();
        assert!(error.starts_with("bad parameter `status`"), "{error}");
        assert!(!error.contains("shut"));
    }
    assert_eq!(
        directory
            .list_services(open_referral_uk::PageRequest::default())
            .total_items,
        1
    );
}

#[test]
fn postcode_limits_to_service_areas_that_contain_it() {
    let mut district = service(0, "district", ServiceStatus::Active);
    district.service_areas.push(area("BS1, BS2", Some("text")));
    let mut sector = service(1, "sector", ServiceStatus::Active);
    sector.service_areas.push(area("BS1 6", None));
    let mut whole_area = service(2, "area", ServiceStatus::Active);
    whole_area.service_areas.push(area("BS; GL", None));
    let mut elsewhere = service(3, "elsewhere", ServiceStatus::Active);
    elsewhere.service_areas.push(area("BS10", None));
    let mut polygon = service(4, "polygon", ServiceStatus::Active);
    polygon
        .service_areas
        .push(area("{\"type\":\"Polygon\"}", Some("geojson")));
    let no_area = service(5, "no area", ServiceStatus::Active);
    let mut text_area = service(6, "named area", ServiceStatus::Active);
    text_area.service_areas.push(area("Bristol", None));
    let postcodes = open_referral_uk::search::PostcodeTable::from_csv_reader(
        "postcode,latitude,longitude\nBS1 5TR,51.45,-2.58\nBS10 7HG,51.51,-2.6\n".as_bytes(),
    )
    .unwrap()
    .0;
    let directory = Directory::builder()
        .geocoder(std::sync::Arc::new(postcodes))
        .build(vec![
            district, sector, whole_area, elsewhere, polygon, no_area, text_area,
        ]);
    // Services without usable area data are not limited (the ORUK text: "if service_area
    // data exists").
    assert_eq!(
        ids(&directory, "postcode=BS1%205TR"),
        ["area", "district", "named area", "no area", "polygon"]
    );
    assert_eq!(
        ids(&directory, "postcode=BS10%207HG"),
        ["area", "elsewhere", "named area", "no area", "polygon"]
    );
}

#[test]
fn free_paid_and_maximum_cost() {
    let free = service(0, "free", ServiceStatus::Active);
    let mut cheap = service(1, "cheap", ServiceStatus::Active);
    cheap.cost_options.push(cost(3.0));
    let mut dear = service(2, "dear", ServiceStatus::Active);
    dear.cost_options.push(cost(25.0));
    let mut either = service(3, "either", ServiceStatus::Active);
    either.cost_options.push(cost(0.0));
    either.cost_options.push(cost(40.0));
    let directory = Directory::new(vec![free, cheap, dear, either]);
    assert_eq!(ids(&directory, "cost=free"), ["free"]);
    assert_eq!(ids(&directory, "cost=paid"), ["cheap", "dear", "either"]);
    assert_eq!(
        ids(&directory, "maximum_cost=5"),
        ["cheap", "either", "free"]
    );
    assert_eq!(
        ids(&directory, "cost=paid&max_cost=10"),
        ["cheap", "either"]
    );
    assert!(SearchQuery::from_query_string("maximum_cost=-1").is_err());
    assert!(SearchQuery::from_query_string("maximum_cost=abc").is_err());
}
