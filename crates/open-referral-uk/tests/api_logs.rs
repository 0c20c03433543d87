#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Log capture: refused requests are logged, and no log line or error body of the directory
//! carries an NHS-number-like value, a name or any other text the caller sent. Alone in its
//! own test binary because it installs the global tracing subscriber.
#![cfg(feature = "api")]

use std::net::SocketAddr;

use nhs_identifiers::NhsNumber;
use open_referral_uk::api::{ApiState, serve};
use open_referral_uk::search::Directory;
use open_referral_uk::synthetic;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn exchange(address: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identifier_name_or_received_text_in_logs_or_error_bodies() {
    let capture = nhs_test_support::logs::LogCapture::global("trace");

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve(
        listener,
        ApiState::new(Directory::new(synthetic::services(50, 3))),
    ));

    let nhs = NhsNumber::fictitious(42);
    let number = nhs.expose().to_owned();
    let spaced = format!("{}%20{}%20{}", &number[..3], &number[3..6], &number[6..]);
    let name = "Zebedee%20Quartermaine";
    let received = [
        format!("/services/{number}"),
        format!("/services/{name}"),
        format!("/service_at_locations/{number}"),
        format!("/taxonomies/{name}"),
        format!("/taxonomy_terms/{number}"),
        format!("/services?postcode={number}"),
        format!("/services?postcode=BS1%205TR&proximity={number}e300"),
        format!("/services?search={name}%FF"),
        format!("/services?search={}", "x".repeat(600)),
        format!("/services?minimum_age={number}"),
        format!("/services?maximum_age={spaced}"),
        format!("/services?page={number}{number}"),
        format!("/services?per_page={number}"),
        format!("/services?latitude={number}&longitude=1"),
        format!("/services?latitude=1&longitude={name}"),
        format!("/services?day={name}"),
        format!("/services?start_time={number}"),
        format!("/services?cost={name}"),
        format!("/services?maximum_cost={number}"),
        format!("/services?max_cost={name}"),
        format!("/services?taxonomy_term_id={}", "y".repeat(300)),
        format!("/service_at_locations?{name}=%FF"),
        format!("/nowhere/{number}/{name}"),
    ];
    let mut bodies = String::new();
    for path in &received {
        let reply = exchange(
            address,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(
            reply.starts_with("HTTP/1.1 4"),
            "{path}: {}",
            reply.lines().next().unwrap_or("")
        );
        bodies.push_str(&reply);
    }
    bodies.push_str(
        &exchange(
            address,
            &format!("POST /services/{number} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 22\r\n\r\nZebedee Quartermaine\r\n"),
        )
        .await,
    );

    let logs = capture.text();
    let refused = logs
        .lines()
        .filter(|l| l.contains("request refused"))
        .count();
    assert_eq!(refused, received.len() + 1, "{logs}");
    for (what, text) in [("logs", &logs), ("error bodies", &bodies)] {
        assert!(
            !nhs_identifiers::scan::contains_nhs_number(text),
            "an NHS number in the {what}: {text}"
        );
        for forbidden in [
            number.as_str(),
            &number[..6],
            "Zebedee",
            "Quartermaine",
            "xxxxxxxxxx",
            "yyyyyyyyyy",
            "e300",
        ] {
            assert!(
                !text.contains(forbidden),
                "{forbidden:?} in the {what}: {text}"
            );
        }
    }
}
