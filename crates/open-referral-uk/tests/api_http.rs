#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The ORUK 3.0 API over a real loopback socket.
#![cfg(feature = "api")]

use std::collections::BTreeSet;

use chrono::NaiveDate;
use open_referral_uk::api::{ApiState, serve};
use open_referral_uk::marketplace::ListingState;
use open_referral_uk::model::{Service, Taxonomy};
use open_referral_uk::search::Directory;
use open_referral_uk::validate::{self, PageKind, Severity, ValidationContext};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Reply {
    status: u16,
    headers: String,
    body: Value,
}

async fn start(suspend_first: bool) -> (std::net::SocketAddr, Vec<Service>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/");
    let services: Vec<Service> =
        serde_json::from_slice(&std::fs::read(format!("{dir}services.json")).unwrap()).unwrap();
    let taxonomies: Vec<Taxonomy> =
        serde_json::from_slice(&std::fs::read(format!("{dir}taxonomies.json")).unwrap()).unwrap();
    let mut directory = Directory::builder()
        .taxonomies(taxonomies)
        .build(services.clone());
    if suspend_first {
        directory.set_listing_state(&services[0].id, ListingState::Suspended);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, ApiState::new(directory)));
    (address, services)
}

async fn get(address: std::net::SocketAddr, path: &str) -> Reply {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: head.to_ascii_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

fn context() -> ValidationContext {
    ValidationContext::on(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap())
}

fn no_errors(report: &validate::Report) {
    let errors: Vec<_> = report.of(Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn root_and_cors() {
    let (address, _) = start(false).await;
    let reply = get(address, "/").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.headers.contains("access-control-allow-origin: *"),
        "{}",
        reply.headers
    );
    no_errors(&validate::validate_api_details(&reply.body, &context()));
    insta::assert_json_snapshot!("api_root", reply.body);
    let page = get(
        address,
        "/services?search=walking&postcode=BS1%205TR&proximity=5000&per_page=1",
    )
    .await;
    assert_eq!(page.status, 200);
    insta::assert_json_snapshot!("api_services_page", page.body);
}

#[tokio::test]
async fn services_pages_are_consistent() {
    let (address, services) = start(false).await;
    let first = get(address, "/services?per_page=5").await;
    assert_eq!(first.status, 200);
    assert!(first.headers.contains("access-control-allow-origin: *"));
    assert_eq!(first.body["total_items"], 12);
    assert_eq!(first.body["total_pages"], 3);
    let mut seen = Vec::new();
    for page in 1..=3 {
        let reply = get(address, &format!("/services?per_page=5&page={page}")).await;
        assert_eq!(reply.status, 200);
        let body = &reply.body;
        no_errors(&validate::validate_page(
            body,
            PageKind::Services,
            &context(),
        ));
        assert_eq!(body["page_number"], page);
        assert_eq!(body["first_page"], page == 1);
        assert_eq!(body["last_page"], page == 3);
        assert_eq!(body["total_items"], 12);
        assert_eq!(body["empty"], false);
        let contents = body["contents"].as_array().unwrap();
        assert_eq!(body["size"], contents.len());
        assert_eq!(contents.len(), if page == 3 { 2 } else { 5 });
        for item in contents {
            // List items are the compact form: no child arrays.
            assert!(item.get("schedules").is_none() && item.get("attributes").is_none());
            assert!(item.get("organization").is_some());
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), 12, "pages overlap or miss items");
    assert_eq!(unique, services.iter().map(|s| s.id.clone()).collect());
    // Past the end: an empty page with the true totals.
    let past = get(address, "/services?per_page=5&page=4").await;
    assert_eq!(
        (
            past.status,
            past.body["size"].clone(),
            past.body["total_items"].clone()
        ),
        (200, 0.into(), 12.into())
    );
}

#[tokio::test]
async fn service_detail_and_404() {
    let (address, services) = start(false).await;
    let reply = get(address, &format!("/services/{}", services[3].id)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, serde_json::to_value(&services[3]).unwrap());
    no_errors(&validate::validate_service(&reply.body, &context()));
    let missing = get(address, "/services/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(missing.status, 404);
    assert!(missing.headers.contains("access-control-allow-origin: *"));
    insta::assert_json_snapshot!("api_service_404", missing.body);
    assert_eq!(get(address, "/nowhere").await.status, 404);
}

#[tokio::test]
async fn bad_parameters_are_400_with_a_clear_message() {
    let (address, _) = start(false).await;
    for (path, message) in [
        (
            "/services?page=0",
            "bad parameter `page`: expected a whole number from 1 to 4294967295",
        ),
        (
            "/services?per_page=abc",
            "bad parameter `per_page`: expected a whole number from 1 to 1000",
        ),
        (
            "/services?minimum_age=old",
            "bad parameter `minimum_age`: expected a number of years from 0 to 150",
        ),
        (
            "/service_at_locations?postcode=NOT%20A%20POSTCODE&proximity=1000",
            "bad parameter `postcode`: not a UK postcode",
        ),
        (
            "/service_at_locations?proximity=1000",
            "bad parameter `proximity`: needs a postcode to measure from",
        ),
        (
            "/services?day=Funday",
            "bad parameter `day`: expected a day such as MO or Monday",
        ),
        (
            "/services?modified_after=last%20week",
            "bad parameter `modified_after`: expected an RFC 3339 date-time such as 2026-11-30T09:00:00Z, or a date YYYY-MM-DD",
        ),
        (
            "/taxonomies?page=-2",
            "bad parameter `page`: expected a whole number from 1 to 4294967295",
        ),
    ] {
        let reply = get(address, path).await;
        assert_eq!(reply.status, 400, "{path}");
        assert_eq!(reply.body["error"], "bad_request");
        assert_eq!(reply.body["message"], message, "{path}");
    }
    insta::assert_json_snapshot!("api_400", get(address, "/services?page=0").await.body);
}

#[tokio::test]
async fn service_at_locations_by_postcode_and_id() {
    let (address, services) = start(false).await;
    let reply = get(
        address,
        "/service_at_locations?postcode=BS1%205TR&proximity=1000&per_page=2",
    )
    .await;
    assert_eq!(reply.status, 200);
    no_errors(&validate::validate_page(
        &reply.body,
        PageKind::ServiceAtLocations,
        &context(),
    ));
    let total = reply.body["total_items"].as_u64().unwrap();
    assert!(total >= 2, "{}", reply.body);
    let mut seen = BTreeSet::new();
    for page in 1..=reply.body["total_pages"].as_u64().unwrap() {
        let reply = get(
            address,
            &format!(
                "/service_at_locations?postcode=BS1%205TR&proximity=1000&per_page=2&page={page}"
            ),
        )
        .await;
        for item in reply.body["contents"].as_array().unwrap() {
            assert_eq!(item["location"]["addresses"][0]["postal_code"], "BS1 5TR");
            seen.insert(item["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(seen.len() as u64, total);
    let sal = &services[0].service_at_locations[0];
    let one = get(address, &format!("/service_at_locations/{}", sal.id)).await;
    assert_eq!(one.status, 200);
    // A service-at-location document, as the ORUK validator checks it (not the service
    // document the UK openapi.json names by mistake).
    assert_eq!(one.body["id"], sal.id.as_str());
    assert_eq!(one.body["service_id"], services[0].id.as_str());
    assert!(one.body["location"].is_object());
    assert!(one.body.get("name").is_none() && one.body.get("status").is_none());
    assert_eq!(one.body["service"]["id"], services[0].id.as_str());
    assert_eq!(one.body["location_id"], sal.location_id.as_deref().unwrap());
    assert_eq!(get(address, "/service_at_locations/nope").await.status, 404);
}

#[tokio::test]
async fn taxonomies_and_terms() {
    let (address, services) = start(false).await;
    let taxonomies = get(address, "/taxonomies").await;
    assert_eq!(taxonomies.status, 200);
    no_errors(&validate::validate_page(
        &taxonomies.body,
        PageKind::Taxonomies,
        &context(),
    ));
    let taxonomy_id = taxonomies.body["contents"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        get(address, &format!("/taxonomies/{taxonomy_id}"))
            .await
            .status,
        200
    );
    assert_eq!(get(address, "/taxonomies/unknown").await.status, 404);
    let terms = get(address, "/taxonomy_terms?per_page=3").await;
    no_errors(&validate::validate_page(
        &terms.body,
        PageKind::TaxonomyTerms,
        &context(),
    ));
    assert_eq!(terms.body["total_items"], 7);
    assert_eq!(terms.body["total_pages"], 3);
    let last = get(address, "/taxonomy_terms?per_page=3&page=3").await;
    assert_eq!(
        (last.body["size"].clone(), last.body["last_page"].clone()),
        (1.into(), true.into())
    );
    let term = services[0].attributes[0].taxonomy_term.as_ref().unwrap();
    let one = get(address, &format!("/taxonomy_terms/{}", term.id)).await;
    assert_eq!(one.body["name"], term.name.as_str());
    assert_eq!(get(address, "/taxonomy_terms/unknown").await.status, 404);
    // Searching services by taxonomy through the API.
    let by_term = get(address, &format!("/services?taxonomy_term_id={}", term.id)).await;
    assert!(
        by_term.body["contents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == services[0].id.as_str())
    );
}

#[tokio::test]
async fn suspended_listing_is_hidden_from_the_api() {
    let (address, services) = start(true).await;
    let all = get(address, "/services?per_page=100").await;
    assert_eq!(all.body["total_items"], 11);
    assert!(
        all.body["contents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != services[0].id.as_str())
    );
    assert_eq!(
        get(address, &format!("/services/{}", services[0].id))
            .await
            .status,
        404
    );
}
