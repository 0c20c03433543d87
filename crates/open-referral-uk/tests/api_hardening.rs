#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The directory under hostile HTTP input: every numeric parameter at its extremes answers
//! 4xx fast while other requests are served, every error is JSON and never repeats a received
//! value, and half-sent requests are closed.
#![cfg(feature = "api")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use open_referral_uk::api::{ApiState, ServeOptions, serve_with};
use open_referral_uk::model::Service;
use open_referral_uk::search::Directory;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn start(options: ServeOptions) -> SocketAddr {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/");
    let services: Vec<Service> =
        serde_json::from_slice(&std::fs::read(format!("{dir}services.json")).unwrap()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve_with(
        listener,
        ApiState::new(Directory::new(services)),
        options,
    ));
    address
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

async fn send(address: SocketAddr, request: &str) -> Reply {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    Reply {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        headers: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

async fn get(address: SocketAddr, path: &str) -> Reply {
    send(
        address,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// Every numeric parameter, each extreme, on both search endpoints (and the page parameters on
/// the taxonomy listings): a 4xx (or a 200 where the
/// value is inside the documented range) within a second, while an ordinary search sent at
/// the same time is answered within a second too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_extremes_answer_4xx_within_a_second_while_others_are_served() {
    let address = start(ServeOptions::default()).await;
    let extremes = [
        "0",
        "-0",
        "-1",
        "-1e308",
        "1e308",
        "1e23",
        "99999999999999999999",
        "4294967296",
        "NaN",
        "inf",
    ];
    // (parameter, context that makes it meaningful, in-range values).
    let parameters: [(&str, &str, &[&str]); 8] = [
        ("page", "", &[]),
        ("per_page", "", &[]),
        ("minimum_age", "", &["0", "-0"]),
        ("maximum_age", "", &["0", "-0"]),
        ("proximity", "postcode=BS1%205TR&", &[]),
        ("latitude", "longitude=-2.59&", &["0", "-0", "-1"]),
        ("longitude", "latitude=51.45&", &["0", "-0", "-1"]),
        ("maximum_cost", "", &["0", "-0"]),
    ];
    // The listing endpoints take only the page parameters.
    let page_only = ["page", "per_page"];
    for endpoint in [
        "/services",
        "/service_at_locations",
        "/taxonomies",
        "/taxonomy_terms",
    ] {
        for (name, context, in_range) in parameters {
            if endpoint.starts_with("/taxonom") && !page_only.contains(&name) {
                continue;
            }
            for value in extremes {
                let path = format!("{endpoint}?{context}{name}={value}");
                let started = Instant::now();
                let hostile = tokio::spawn(async move {
                    tokio::time::timeout(Duration::from_secs(1), get(address, &path)).await
                });
                let ordinary = tokio::spawn(async move {
                    tokio::time::timeout(
                        Duration::from_secs(1),
                        get(address, "/services?search=walking&per_page=2"),
                    )
                    .await
                });
                let hostile = hostile.await.unwrap().expect("answered within a second");
                let ordinary = ordinary.await.unwrap().expect("served within a second");
                assert!(started.elapsed() < Duration::from_secs(1));
                assert_eq!(ordinary.status, 200);
                let expected = if in_range.contains(&value) { 200 } else { 400 };
                assert_eq!(hostile.status, expected, "{endpoint} {name}={value}");
                let body: Value = serde_json::from_str(&hostile.body).unwrap();
                if expected == 400 {
                    assert_eq!(body["error"], "bad_request");
                    let message = body["message"].as_str().unwrap();
                    assert!(
                        message.starts_with(&format!("bad parameter `{name}`")),
                        "{message}"
                    );
                    // (Short values such as `0` can be part of the stated range.)
                    assert!(
                        value.len() < 4 || !message.contains(value),
                        "{message} repeats {value}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_error_is_json_and_repeats_nothing_received() {
    let address = start(ServeOptions::default()).await;
    let secret = "9990000018";
    for (request, status) in [
        (format!("GET /services/{secret} HTTP/1.1"), 404),
        ("GET /services/%FF%FE HTTP/1.1".to_owned(), 400),
        ("GET /service_at_locations/%C3%28 HTTP/1.1".to_owned(), 400),
        (format!("GET /taxonomies/Jo%20{secret} HTTP/1.1"), 404),
        (format!("GET /taxonomy_terms/{secret} HTTP/1.1"), 404),
        (format!("GET /services?postcode=ZZ{secret} HTTP/1.1"), 400),
        ("GET /services?postcode=SW1A%201AA HTTP/1.1".to_owned(), 400),
        (format!("GET /services?search=%FF{secret} HTTP/1.1"), 400),
        (format!("GET /services?{secret}=%FF HTTP/1.1"), 400),
        (format!("GET /services?per_page={secret} HTTP/1.1"), 400),
        (format!("GET /nowhere/{secret} HTTP/1.1"), 404),
        ("POST /services HTTP/1.1".to_owned(), 405),
        ("DELETE /services/x HTTP/1.1".to_owned(), 405),
    ] {
        let reply = send(
            address,
            &format!(
                "{request}\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(reply.status, status, "{request}");
        assert!(
            reply.headers.contains("content-type: application/json"),
            "{request}: {}",
            reply.headers
        );
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{body}"
        );
        for received in [secret, "SW1A", "ZZ", "Jo"] {
            assert!(!reply.body.contains(received), "{request}: {}", reply.body);
        }
    }
    let located = get(address, "/services?postcode=SW1A%201AA").await;
    assert_eq!(
        serde_json::from_str::<Value>(&located.body).unwrap()["message"],
        "bad parameter `postcode`: could not be located (not in the directory's gazetteer)"
    );
}

/// Reads until the server closes; the time it took, or `None` if still open after `limit`.
async fn closed_within(mut stream: TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut sink)).await {
        Ok(_) => Some(started.elapsed()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn half_sent_requests_are_closed() {
    let options = ServeOptions::default()
        .header_read_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_millis(600));
    let address = start(options).await;
    // Half a request head, then silence.
    let mut half_head = TcpStream::connect(address).await.unwrap();
    half_head
        .write_all(b"GET /services HTTP/1.1\r\nHost: 12")
        .await
        .unwrap();
    // A head dribbled a byte at a time, never finished: the header time-out, not the idle one.
    let mut dribble = TcpStream::connect(address).await.unwrap();
    dribble
        .write_all(b"GET /services HTTP/1.1\r\n")
        .await
        .unwrap();
    let dribbler = tokio::spawn(async move {
        for _ in 0..40 {
            if dribble.write_all(b"X").await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    });
    // A connection that never sends anything.
    let silent = TcpStream::connect(address).await.unwrap();
    // A head that promises a body and sends half of it.
    let mut half_body = TcpStream::connect(address).await.unwrap();
    half_body
        .write_all(b"GET /services HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .await
        .unwrap();
    let limit = Duration::from_secs(5);
    let (a, b, c) = tokio::join!(
        closed_within(half_head, limit),
        closed_within(silent, limit),
        closed_within(half_body, limit),
    );
    for (what, closed) in [("half head", a), ("silent", b), ("half body", c)] {
        assert!(
            closed.is_some(),
            "{what} connection still open after {limit:?}"
        );
    }
    assert!(dribbler.await.unwrap(), "a dribbled head was not cut off");
    // The server still answers.
    assert_eq!(get(address, "/services?per_page=1").await.status, 200);
}

/// A body that trickles in steadily (never idle, so the idle time-out never fires) is cut off
/// by the body-read time-out: 408, JSON, connection closed, and the server still answers.
#[tokio::test]
async fn a_dribbled_body_is_cut_off_with_408() {
    use axum::routing::post;
    let options = ServeOptions::default()
        .header_read_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(5))
        .body_read_timeout(Duration::from_millis(400));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // A handler that reads its body, as the marketplace and onboarding routes do, and maps a
    // failed read to its own answer.
    let app = axum::Router::new().route(
        "/upload",
        post(
            |body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>| async move {
                match body {
                    Ok(bytes) => (axum::http::StatusCode::OK, bytes.len().to_string()),
                    Err(_) => (
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "too large".to_owned(),
                    ),
                }
            },
        ),
    );
    tokio::spawn(open_referral_uk::api::serve_router(listener, app, options));

    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let dribbler = tokio::spawn(async move {
        // A byte every 50 ms: 1,000 bytes would take 50 s.
        for _ in 0..1000 {
            if writer.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), reader.read_to_end(&mut raw))
        .await
        .expect("a dribbled body was still being read after 5 s")
        .unwrap();
    dribbler.abort();
    assert!(started.elapsed() < Duration::from_secs(3));
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"], "request_timeout");
    // A body sent at once is unaffected.
    let reply = send(
        address,
        "POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "5"));
}
