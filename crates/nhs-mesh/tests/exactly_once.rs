//! Exactly-once sending through the outbox, with a fault-injecting TCP proxy between the
//! client and the sandbox (`NHSI_TEST_MESH_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{client, config, fault_proxy, payload, unique_workflow};
use nhs_mesh::store::OutboxState;
use nhs_mesh::{
    Downloaded, Envelope, MeshClient, Outbox, OutboxStore, Retry, RetryPolicy, SqliteStore,
};

fn outbox_via(url: &str, store: Arc<SqliteStore>, chunk_size: usize) -> Outbox {
    let c = MeshClient::new(
        config(url, "X26ABC1")
            .retry(RetryPolicy::none())
            .chunk_size(chunk_size)
            .timeout(Duration::from_secs(30)),
    )
    .unwrap();
    Outbox::new(c, store).reconcile_delay(Duration::ZERO)
}

fn first_post(line: &str) -> bool {
    line.starts_with("POST /messageexchange/X26ABC1/outbox HTTP/1.1")
}

fn second_chunk(line: &str) -> bool {
    line.starts_with("POST /messageexchange/X26ABC1/outbox/") && line.contains("/2 HTTP/1.1")
}

async fn delivered_once(url: &str, wf: &str, body: &[u8]) -> nhs_mesh::MessageId {
    let receiver = client(url, "X26ABC2");
    let ids = receiver.inbox_all(Some(wf)).await.unwrap();
    assert_eq!(ids.len(), 1, "exactly once: {ids:?}");
    let Downloaded::Data(m) = receiver.download(&ids[0]).await.unwrap() else {
        panic!()
    };
    assert!(m.body == body, "body differs");
    receiver.acknowledge(&ids[0]).await.unwrap();
    ids[0].clone()
}

#[tokio::test]
async fn a_connection_dropped_after_the_post_was_accepted_sends_once() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let proxy = fault_proxy(&url, 1, first_post).await;
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let outbox = outbox_via(&proxy.url, store.clone(), 1 << 20);
    let wf = unique_workflow("EXO");

    // Without the outbox, the raw client reports the ambiguity as CheckFirst.
    let raw_proxy = fault_proxy(&url, 1, first_post).await;
    let raw =
        MeshClient::new(config(&raw_proxy.url, "X26ABC1").retry(RetryPolicy::none())).unwrap();
    let wf_raw = unique_workflow("EXORAW");
    let err = raw
        .send(&Envelope::new("X26ABC2", &wf_raw), b"raw")
        .await
        .unwrap_err();
    assert_eq!(err.retry(), Retry::CheckFirst, "{err}");
    delivered_once(&url, &wf_raw, b"raw").await;

    let (local_id, id) = outbox
        .send(
            &Envelope::new("X26ABC2", &wf).subject("exactly once"),
            b"once only".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(
        proxy.drops_left.load(Ordering::SeqCst),
        0,
        "the fault fired"
    );
    assert_eq!(
        store.get(&local_id).unwrap().unwrap().state,
        OutboxState::Accepted {
            message_id: id.to_string()
        }
    );
    assert_eq!(delivered_once(&url, &wf, b"once only").await, id);
}

#[tokio::test]
async fn an_ambiguous_first_chunk_resumes_the_upload_on_the_same_id() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let proxy = fault_proxy(&url, 1, first_post).await;
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let outbox = outbox_via(&proxy.url, store, 4096);
    let wf = unique_workflow("EXOCH");
    let body = payload(3 * 4096 - 100, 7);
    let (_, id) = outbox
        .send(&Envelope::new("X26ABC2", &wf), body.clone())
        .await
        .unwrap();
    assert_eq!(proxy.drops_left.load(Ordering::SeqCst), 0);
    assert_eq!(delivered_once(&url, &wf, &body).await, id);
}

#[tokio::test]
async fn a_part_sent_chunked_upload_resumes_after_a_restart() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let wf = unique_workflow("EXORES");
    let body = payload(3 * 4096, 9);
    let local_id = {
        let proxy = fault_proxy(&url, 1, second_chunk).await;
        let outbox = outbox_via(
            &proxy.url,
            Arc::new(SqliteStore::open(&path).unwrap()),
            4096,
        );
        let local_id = outbox
            .enqueue(&Envelope::new("X26ABC2", &wf), body.clone())
            .unwrap();
        let err = outbox.deliver(&local_id).await.unwrap_err();
        assert!(
            matches!(err.retry(), Retry::Safe | Retry::CheckFirst),
            "{err}"
        );
        assert!(matches!(
            outbox.store().get(&local_id).unwrap().unwrap().state,
            OutboxState::Uploading {
                chunks_sent: 1,
                total: 3,
                ..
            }
        ));
        local_id
    };
    // Not in the inbox while uploading.
    assert!(
        client(&url, "X26ABC2")
            .inbox_all(Some(&wf))
            .await
            .unwrap()
            .is_empty()
    );
    // "Restart": a new outbox on the same file, straight to the sandbox.
    let outbox = outbox_via(&url, Arc::new(SqliteStore::open(&path).unwrap()), 4096);
    let results = outbox.deliver_pending().await.unwrap();
    let (lid, id) = &results[0];
    assert_eq!(lid, &local_id);
    assert_eq!(
        &delivered_once(&url, &wf, &body).await,
        id.as_ref().unwrap()
    );
}

#[tokio::test]
async fn a_send_found_in_flight_after_a_crash_is_sent_only_if_absent() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let outbox = outbox_via(&url, store.clone(), 1 << 20);
    let wf = unique_workflow("EXOCRASH");
    // Crashed before the POST left: "Sending" but MESH has nothing.
    let lid = outbox
        .enqueue(&Envelope::new("X26ABC2", &wf), b"a".to_vec())
        .unwrap();
    store.set_state(&lid, &OutboxState::Sending).unwrap();
    let id = outbox.deliver(&lid).await.unwrap();
    assert_eq!(delivered_once(&url, &wf, b"a").await, id);
    // Crashed after MESH accepted: "Sending" again, MESH has it: not sent twice.
    store.set_state(&lid, &OutboxState::Sending).unwrap();
    assert_eq!(outbox.deliver(&lid).await.unwrap(), id);
    assert!(
        client(&url, "X26ABC2")
            .inbox_all(Some(&wf))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_nhs_number_in_the_local_id_is_refused_before_it_is_stored() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let outbox = outbox_via("http://127.0.0.1:9", store.clone(), 1 << 20);
    let n = nhs_identifiers::NhsNumber::fictitious(5);
    let err = outbox
        .enqueue(
            &Envelope::new("X26ABC2", "WF").local_id(n.expose().to_string()),
            b"x".to_vec(),
        )
        .unwrap_err();
    assert!(!err.to_string().contains(n.expose().as_str()));
    assert!(store.pending().unwrap().is_empty());
}
