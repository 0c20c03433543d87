#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 12 for the assurance endpoint: half-sent requests are closed (header and body read
//! time-outs), and no log line or error body repeats an NHS-number-like value, a name or
//! received free text. This binary installs the global tracing subscriber, so it holds these
//! tests alone.
#![cfg(feature = "http")]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::client::request;
use common::*;
use nhs_test_support::logs::LogCapture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ward_assurance::http::{
    HttpTimeouts, SharedEndpoint, TracingAdminAlerts, TracingAuditLog, lock, router_with,
    serve_with, shared,
};
use ward_assurance::*;

const KEY: &str = "hardening-key";

fn capture_logs() -> LogCapture {
    LogCapture::global("trace")
}

async fn start(timeouts: HttpTimeouts) -> (SocketAddr, SharedEndpoint<InMemoryTaskStore>) {
    let file = TaskFile::from_json(include_bytes!("../examples-data/tasks.json")).unwrap();
    let access = StaffWardAccess::from_table(file.ward_access.as_ref().unwrap());
    let store = InMemoryTaskStore::from_tasks(file.tasks).unwrap();
    let engine = SyncEngine::new(store, access, TracingAuditLog, TracingAdminAlerts);
    let auth = Authenticator::new(AuthConfig::default().with_api_key(ApiKey::new("pa", KEY)));
    let endpoint = shared(SyncEndpoint::new(auth, engine));
    let clock = ManualClock::new(at("2026-01-27T08:15:01Z"));
    let app = router_with(Arc::clone(&endpoint), Arc::new(clock), timeouts, None);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_with(listener, app, timeouts));
    (addr, endpoint)
}

/// Values that must never come back: names, an NHS number (plain and spaced), e-mail, note
/// text, mistyped numbers, unknown codes.
const SECRETS: [&str; 12] = [
    "Sarah",
    "Johnson",
    "9990000018",
    "999 000 0018",
    "sarah.johnson",
    "Jane Doe",
    "Alex",
    "1.5e300",
    "hand_hygiene",
    "AUDIT_DELETED",
    "Keats",
    "S-SECRET",
];

fn bodies() -> Vec<String> {
    let design =
        String::from_utf8(include_bytes!("fixtures/design/sync_request.json").to_vec()).unwrap();
    let webhook =
        String::from_utf8(include_bytes!("fixtures/design/webhook.json").to_vec()).unwrap();
    vec![
        // Succeeds; the audit id and notes carry a name and an NHS number.
        design
            .replace("audit-12345", "Sarah Johnson 9990000018")
            .replace(
                "\"values\"",
                "\"notes\": \"Patient Jane Doe 999 000 0018 said hello\", \"values\"",
            ),
        // Redelivered.
        design.replace("audit-12345", "Sarah Johnson 9990000018"),
        // Another ward: 403 and an admin alert.
        design.replace("\"Byron\"", "\"Keats\""),
        // A name as the ward.
        design.replace("\"Byron\"", "\"Alex Example\""),
        // Numbers where strings belong: 400.
        design.replace("\"Byron\"", "9990000018"),
        design.replace("\"Byron\"", "1.5e300"),
        design.replace("\"audit-12345\"", "true"),
        // Unknown codes: 422.
        design.replace("fridge_temps", "hand_hygiene"),
        webhook.replace("AUDIT_COMPLETED", "AUDIT_DELETED"),
        webhook
            .replace("NHS123456", "S-SECRET")
            .replace("\"Byron\"", "\"Keats\""),
        // A staff id where a name belongs, an NHS number as the staff id.
        webhook.replace("\"NHS123456\"", "9990000018"),
        webhook.replace("sarah.johnson@nhs.net", "Sarah Johnson"),
        // No matching task (another day): 404, the design's wording.
        design
            .replace("audit-12345", "audit-x")
            .replace("2026-01-27T08:14:32Z", "2026-01-26T08:14:32Z"),
        // Not JSON at all, with a name in it.
        "Sarah Johnson 9990000018".to_owned(),
    ]
}

#[tokio::test]
async fn no_log_line_or_error_body_repeats_a_received_value() {
    let logs = capture_logs();
    let (addr, endpoint) = start(HttpTimeouts::default()).await;
    let mut statuses = Vec::new();
    for body in bodies() {
        let reply = request(
            addr,
            "POST",
            "/api/assurance/sync",
            Some("application/json"),
            &[("X-Api-Key", KEY.to_owned())],
            body.as_bytes(),
        )
        .await;
        statuses.push(reply.status);
        for secret in SECRETS {
            assert!(
                !reply.body.contains(secret),
                "{secret} in the {} body {}",
                reply.status,
                reply.body
            );
        }
    }
    assert_eq!(
        statuses,
        [
            200, 200, 403, 403, 400, 400, 400, 422, 422, 403, 422, 422, 404, 400
        ]
    );
    // The task was completed with the audit's data (kept in the store, not logged).
    let task = lock(&endpoint)
        .engine()
        .store()
        .get(&TaskId::new("wt123").unwrap())
        .cloned()
        .unwrap();
    assert_eq!(task.status, TaskStatus::Completed);
    let text = logs.text();
    assert!(text.contains("ward_assurance::audit"), "{text}");
    assert!(text.contains("ward_assurance::admin_alert"), "{text}");
    assert!(text.contains("wt123"), "{text}");
    for line in text.lines() {
        for secret in SECRETS.iter().chain(&["Byron", "audit-12345", "audit-x"]) {
            assert!(!line.contains(secret), "{secret} in the log line {line}");
        }
    }
}

#[tokio::test]
async fn half_sent_requests_are_closed() {
    let timeouts = HttpTimeouts::new(Duration::from_millis(300), Duration::from_millis(300));
    let (addr, endpoint) = start(timeouts).await;
    let started = Instant::now();
    // Half a request head, on many sockets at once: every one is closed.
    let mut heads = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /api/assurance/sync HTTP/1.1\r\nHost: x\r\nContent-Ty")
            .await
            .unwrap();
        heads.push(s);
    }
    for mut s in heads {
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        assert!(read.is_ok(), "a half-sent head was still open after 5 s");
    }
    // A whole head and half a body: 408, JSON, and the connection is closed.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "POST /api/assurance/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Api-Key: {KEY}\r\nContent-Length: 200\r\n\r\n{{\"auditType\":"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("a half-sent body was still open after 5 s")
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\":\"REQUEST_TIMEOUT\""), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing changed, and ordinary requests are still served.
    let reply = request(addr, "GET", "/api/assurance/audit-types", None, &[], b"").await;
    assert_eq!(reply.status, 200);
    let pending = lock(&endpoint)
        .engine()
        .store()
        .tasks()
        .iter()
        .all(|t| t.completion.is_none());
    assert!(pending);
}

/// A connection that never sends a byte, and a keep-alive connection left idle after a
/// complete exchange, are closed too (500 such sockets must not be held open).
#[tokio::test]
async fn silent_and_idle_connections_are_closed() {
    let timeouts = HttpTimeouts::new(Duration::from_millis(300), Duration::from_millis(300));
    let (addr, _endpoint) = start(timeouts).await;
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /api/assurance/audit-types HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Read the whole answer (it has a Content-Length), then stay silent.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        idle.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    let length: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    idle.read_exact(&mut body).await.unwrap();
    silent.push(idle);
    for (i, mut s) in silent.into_iter().enumerate() {
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        assert!(
            read.is_ok(),
            "connection {i} (50 = idle keep-alive) still open after 5 s"
        );
    }
}
