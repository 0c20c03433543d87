//! Retries, against a scripted local HTTP server (no sandbox needed): every call but the first
//! POST of a send retries with backoff on 425/429/502/503/504 and then succeeds; the first
//! POST is never retried (its failure says `CheckFirst`, and the outbox tracks by local id);
//! 4xx answers are not retried; the retry budget is bounded and the last error says what a
//! caller may do; `Retry-After` is honoured up to the policy's longest wait.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/scripted.rs"]
mod scripted;

use std::sync::Arc;
use std::time::Duration;

use nhs_mesh::store::OutboxState;
use nhs_mesh::{
    ClientConfig, Credentials, Downloaded, Envelope, MailboxId, MemoryStore, MeshClient, MeshError,
    MessageId, Outbox, OutboxStore, Retry, RetryPolicy,
};
use scripted::{Reply, Seen, scripted};
use serde_json::json;

const MB: &str = "/messageexchange/X26ABC1";
const ID: &str = "0123456789ABCDEF0123456789ABCDEF";
const BUSY: [u16; 5] = [425, 429, 502, 503, 504];

/// Tiny backoff so the tests are fast: 1 ms, 2 ms, 4 ms.
fn fast(attempts: u32) -> RetryPolicy {
    RetryPolicy::new(
        attempts,
        Duration::from_millis(1),
        Duration::from_millis(20),
    )
}

fn client(url: &str, retry: RetryPolicy) -> MeshClient {
    MeshClient::new(
        ClientConfig::new(
            url,
            Credentials::new(MailboxId::new("X26ABC1").unwrap(), "password", "TestKey"),
        )
        .retry(retry)
        .chunk_size(4)
        .compress(false)
        .timeout(Duration::from_secs(10)),
    )
    .unwrap()
}

fn id() -> MessageId {
    MessageId::new(ID).unwrap()
}

/// The successful answer to each operation the tests use.
fn success(req: &Seen) -> Reply {
    let t = req.target.as_str();
    match req.method.as_str() {
        "GET" if t.starts_with(&format!("{MB}/inbox/")) => Reply::status(200)
            .with_header("mex-MessageID", ID)
            .with_header("mex-MessageType", "DATA")
            .with_header("mex-WorkflowID", "TEST_WORKFLOW")
            .with_header("mex-Chunk-Range", "1:1")
            .with_header("Content-Type", "application/octet-stream")
            .with_body(b"hello"),
        "GET" if t.starts_with(&format!("{MB}/inbox")) => Reply::json(
            200,
            &json!({"messages": [ID], "links": {"self": format!("{MB}/inbox")}, "approx_inbox_count": 1}),
        ),
        "GET" if t.starts_with(&format!("{MB}/outbox/tracking")) => Reply::json(
            200,
            &json!({"message_id": ID, "local_id": "L1", "status": "accepted", "status_success": true}),
        ),
        "GET" if t.starts_with("/messageexchange/endpointlookup/") => Reply::json(
            200,
            &json!({"results": [{"mailbox_id": "X26ABC2", "mailbox_name": "GP"}]}),
        ),
        "PUT" => Reply::status(200),
        "POST" if t == MB => Reply::status(200),
        "POST" if t == format!("{MB}/outbox") => Reply::json(202, &json!({"message_id": ID})),
        "POST" => Reply::json(202, &serde_json::Value::Null),
        _ => Reply::status(404),
    }
}

/// Answers `status` to the first `times` requests of each method and path, then succeeds.
async fn busy_then_ok(status: u16, times: usize) -> scripted::Scripted {
    scripted(move |req, n| {
        if n < times {
            Reply::json(
                status,
                &json!({"detail": [{"event": "x", "code": "99", "msg": "busy"}]}),
            )
        } else {
            success(req)
        }
    })
    .await
}

#[tokio::test]
async fn every_call_but_a_send_retries_each_busy_status_then_succeeds() {
    for status in BUSY {
        let server = busy_then_ok(status, 2).await;
        let c = client(&server.url, fast(3));
        c.handshake().await.unwrap();
        let page = c.inbox_page(None, None).await.unwrap();
        assert_eq!(page.messages, vec![id()]);
        let Downloaded::Data(m) = c.download(&id()).await.unwrap() else {
            panic!("not data")
        };
        assert_eq!(m.body, b"hello");
        c.acknowledge(&id()).await.unwrap();
        assert_eq!(c.track(&id()).await.unwrap().message_id, id());
        assert!(c.track_local_id("L1").await.unwrap().is_some());
        assert_eq!(c.lookup("X26", "TEST_WORKFLOW").await.unwrap().len(), 1);
        // Each call: two busy answers, then the success: three requests.
        for (method, path) in [
            ("POST", MB.to_owned()),
            ("GET", format!("{MB}/inbox")),
            ("GET", format!("{MB}/inbox/{ID}")),
            ("PUT", format!("{MB}/inbox/{ID}/status/acknowledged")),
            ("GET", format!("{MB}/outbox/tracking?messageID={ID}")),
            ("GET", format!("{MB}/outbox/tracking/L1")),
            (
                "GET",
                "/messageexchange/endpointlookup/X26/TEST_WORKFLOW".to_owned(),
            ),
        ] {
            let n = server
                .seen()
                .iter()
                .filter(|s| s.method == method && s.target == path)
                .count();
            assert_eq!(n, 3, "{status}: {method} {path}");
        }
    }
}

#[tokio::test]
async fn the_backoff_grows_between_attempts() {
    // base 40 ms: waits of 40, 80 and 160 ms between the four requests.
    let server = busy_then_ok(503, 3).await;
    let c = client(
        &server.url,
        RetryPolicy::new(3, Duration::from_millis(40), Duration::from_secs(1)),
    );
    c.inbox_page(None, None).await.unwrap();
    let at: Vec<_> = server.seen().iter().map(|s| s.at).collect();
    assert_eq!(at.len(), 4);
    for (i, want) in [40u64, 80, 160].into_iter().enumerate() {
        let gap = at[i + 1] - at[i];
        assert!(
            gap >= Duration::from_millis(want),
            "wait {i} was {gap:?}, expected at least {want} ms"
        );
    }
}

#[tokio::test]
async fn the_retry_budget_is_bounded_and_the_last_error_says_retry_later() {
    for status in BUSY {
        let server = busy_then_ok(status, usize::MAX).await;
        let err = client(&server.url, fast(3))
            .inbox_page(None, None)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.retry(), Retry::Later, "{err}");
        assert_eq!(
            server.count("GET", &format!("{MB}/inbox")),
            4,
            "1 + 3 retries"
        );

        let err = client(&server.url, fast(3))
            .acknowledge(&id())
            .await
            .unwrap_err();
        assert_eq!(err.retry(), Retry::Later, "{err}");
        assert_eq!(server.count("PUT", &format!("{MB}/inbox/{ID}")), 4);
    }
    // No retries at all: one request.
    let server = busy_then_ok(503, usize::MAX).await;
    let err = client(&server.url, RetryPolicy::none())
        .handshake()
        .await
        .unwrap_err();
    assert_eq!(err.retry(), Retry::Later);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for status in [400u16, 401, 403, 404, 417] {
        let server = busy_then_ok(status, usize::MAX).await;
        let c = client(&server.url, fast(3));
        let err = c.inbox_page(None, None).await.unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.retry(), Retry::Never, "{err}");
        let err = c.acknowledge(&id()).await.unwrap_err();
        assert_eq!(err.retry(), Retry::Never, "{err}");
        let err = c
            .send(&Envelope::new("X26ABC2", "TEST_WORKFLOW"), b"abc")
            .await
            .unwrap_err();
        assert_eq!(err.retry(), Retry::Never, "{err}");
        assert_eq!(server.seen().len(), 3, "{status}: one request per call");
    }
    // A 500 is not in the notes' list: not retried either (but a caller may try later).
    let server = busy_then_ok(500, usize::MAX).await;
    let err = client(&server.url, fast(3))
        .inbox_page(None, None)
        .await
        .unwrap_err();
    assert_eq!(server.seen().len(), 1);
    assert_eq!(err.retry(), Retry::Later);
}

#[tokio::test]
async fn a_read_dropped_without_an_answer_is_retried() {
    let server = scripted(|req, n| if n < 2 { Reply::Drop } else { success(req) }).await;
    let c = client(&server.url, fast(3));
    assert_eq!(c.inbox_page(None, None).await.unwrap().messages, vec![id()]);
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn the_first_post_of_a_send_is_never_retried() {
    let env = Envelope::new("X26ABC2", "TEST_WORKFLOW").local_id("L1");
    // 5xx: MESH may have stored it. One POST, and the caller must check first.
    for status in [502u16, 503, 504] {
        let server = busy_then_ok(status, usize::MAX).await;
        let err = client(&server.url, fast(3))
            .send(&env, b"abc")
            .await
            .unwrap_err();
        assert_eq!(err.retry(), Retry::CheckFirst, "{status}: {err}");
        assert_eq!(server.seen().len(), 1, "{status}: never retried");
    }
    // 425/429: MESH refused it before taking it: not retried by the client, safe later.
    for status in [425u16, 429] {
        let server = busy_then_ok(status, usize::MAX).await;
        let err = client(&server.url, fast(3))
            .send(&env, b"abc")
            .await
            .unwrap_err();
        assert_eq!(err.retry(), Retry::Later, "{status}: {err}");
        assert_eq!(server.seen().len(), 1, "{status}: never retried");
    }
    // The connection closed after the request went out: ambiguous, never retried.
    let server = scripted(|_, _| Reply::Drop).await;
    let err = client(&server.url, fast(3))
        .send(&env, b"abc")
        .await
        .unwrap_err();
    assert_eq!(err.retry(), Retry::CheckFirst, "{err}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn later_chunks_of_a_send_are_retried_but_the_first_is_not() {
    // 10 bytes in chunks of 4: three chunks. Chunks 2 and 3 are busy twice each.
    let server = scripted(|req, n| {
        if req.target.starts_with(&format!("{MB}/outbox/{ID}/")) && n < 2 {
            Reply::status(503)
        } else {
            success(req)
        }
    })
    .await;
    let id = client(&server.url, fast(3))
        .send(&Envelope::new("X26ABC2", "TEST_WORKFLOW"), b"0123456789")
        .await
        .unwrap();
    assert_eq!(id, self::id());
    let seen = server.seen();
    let targets: Vec<_> = seen
        .iter()
        .map(|s| (s.target.as_str(), s.header("mex-chunk-range").unwrap_or("")))
        .collect();
    let first = format!("{MB}/outbox");
    let two = format!("{MB}/outbox/{ID}/2");
    let three = format!("{MB}/outbox/{ID}/3");
    assert_eq!(
        targets,
        vec![
            (first.as_str(), "1:3"),
            (two.as_str(), "2:3"),
            (two.as_str(), "2:3"),
            (two.as_str(), "2:3"),
            (three.as_str(), "3:3"),
            (three.as_str(), "3:3"),
            (three.as_str(), "3:3"),
        ]
    );
}

/// The outbox after an ambiguous 503 to the first POST: it tracks by local id and sends
/// again only when MESH does not have the message.
async fn outbox_after_a_503(
    mesh_has_it: bool,
) -> (scripted::Scripted, Result<MessageId, MeshError>) {
    let server = scripted(move |req, n| {
        let t = req.target.as_str();
        if req.method == "POST" && t == format!("{MB}/outbox") && n == 0 {
            Reply::status(503)
        } else if t.starts_with(&format!("{MB}/outbox/tracking/")) && !mesh_has_it {
            Reply::status(404)
        } else {
            success(req)
        }
    })
    .await;
    let store = Arc::new(MemoryStore::new());
    let outbox =
        Outbox::new(client(&server.url, fast(3)), store.clone()).reconcile_delay(Duration::ZERO);
    let result = outbox
        .send(&Envelope::new("X26ABC2", "TEST_WORKFLOW"), b"abc".to_vec())
        .await
        .map(|(local_id, id)| {
            assert_eq!(
                store.get(&local_id).unwrap().unwrap().state,
                OutboxState::Accepted {
                    message_id: ID.to_owned()
                }
            );
            id
        });
    (server, result)
}

#[tokio::test]
async fn after_an_ambiguous_send_the_outbox_tracks_by_local_id_first() {
    // Not at MESH: sent again, once, with the same local id.
    let (server, result) = outbox_after_a_503(false).await;
    assert_eq!(result.unwrap(), id());
    let seen = server.seen();
    let steps: Vec<_> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.target.trim_start_matches(MB)))
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(steps[0], ("POST", "/outbox"));
    assert_eq!(steps[1].0, "GET");
    assert!(steps[1].1.starts_with("/outbox/tracking/"), "{steps:?}");
    assert_eq!(steps[2], ("POST", "/outbox"));
    let local_ids: Vec<_> = seen
        .iter()
        .filter(|s| s.method == "POST")
        .map(|s| s.header("mex-localid").unwrap().to_owned())
        .collect();
    assert_eq!(local_ids[0], local_ids[1]);
    assert_eq!(
        seen[1].target,
        format!("{MB}/outbox/tracking/{}", local_ids[0])
    );

    // Already at MESH: never sent again.
    let (server, result) = outbox_after_a_503(true).await;
    assert_eq!(result.unwrap(), id());
    assert_eq!(server.count("POST", &format!("{MB}/outbox")), 1);
    assert_eq!(server.count("GET", &format!("{MB}/outbox/tracking/")), 1);
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_longest_wait() {
    // 429 with Retry-After: 1 (second), then 200: the client waits at least a second, though
    // its own backoff would wait 1 ms.
    let server = scripted(|req, n| {
        if n == 0 {
            Reply::status(429).with_header("Retry-After", "1")
        } else {
            success(req)
        }
    })
    .await;
    let c = client(
        &server.url,
        RetryPolicy::new(3, Duration::from_millis(1), Duration::from_secs(5)),
    );
    c.inbox_page(None, None).await.unwrap();
    let at: Vec<_> = server.seen().iter().map(|s| s.at).collect();
    assert_eq!(at.len(), 2);
    assert!(
        at[1] - at[0] >= Duration::from_secs(1),
        "{:?}",
        at[1] - at[0]
    );

    // A Retry-After longer than the policy's longest wait: no retry; the error says how long.
    let server = scripted(|_, _| Reply::status(503).with_header("Retry-After", "3600")).await;
    let err = client(&server.url, fast(3))
        .inbox_page(None, None)
        .await
        .unwrap_err();
    assert_eq!(server.seen().len(), 1);
    assert_eq!(err.retry(), Retry::Later);
    assert!(
        matches!(
            err,
            MeshError::Http {
                status: 503,
                retry_after: Some(d),
                ..
            } if d == Duration::from_secs(3600)
        ),
        "{err:?}"
    );

    // Without Retry-After the policy's own backoff applies (covered above); a 429 to a send
    // carries the server's wish for the caller.
    let server = scripted(|_, _| Reply::status(429).with_header("Retry-After", "7")).await;
    let err = client(&server.url, fast(3))
        .send(&Envelope::new("X26ABC2", "TEST_WORKFLOW"), b"abc")
        .await
        .unwrap_err();
    assert_eq!(server.seen().len(), 1);
    assert!(
        matches!(err, MeshError::Http { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{err:?}"
    );
}
