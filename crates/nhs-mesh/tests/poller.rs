//! The receiving poller against the sandbox (`NHSI_TEST_MESH_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{client, unique_workflow};
use nhs_mesh::store::StoredKind;
use nhs_mesh::{Envelope, Poller, SqliteStore};

#[tokio::test]
async fn poll_stores_acknowledges_and_hands_over_once() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let sender = client(&url, "X26ABC1");
    let wf = unique_workflow("POLL");
    for i in 0..3 {
        sender
            .send(&Envelope::new("X26ABC2", &wf), format!("m{i}").as_bytes())
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("inbox.db")).unwrap());
    let poller = Poller::new(client(&url, "X26ABC2"), store.clone()).workflow_filter(wf.clone());

    // A failing handler: stored and acknowledged anyway, offered again later.
    let s = poller.poll_once(|_| Err::<(), _>("not now")).await.unwrap();
    assert_eq!(
        (s.listed, s.stored, s.handled, s.handler_failures),
        (3, 3, 0, 3)
    );
    assert!(
        client(&url, "X26ABC2")
            .inbox_all(Some(&wf))
            .await
            .unwrap()
            .is_empty()
    );

    let mut seen = Vec::new();
    let s = poller
        .poll_once(|m| {
            if let StoredKind::Data(meta) = &m.kind {
                assert_eq!(meta.workflow_id.as_deref(), Some(wf.as_str()));
            }
            seen.push(String::from_utf8(m.body.clone()).unwrap());
            Ok::<(), String>(())
        })
        .await
        .unwrap();
    assert_eq!((s.listed, s.handled), (0, 3));
    seen.sort();
    assert_eq!(seen, ["m0", "m1", "m2"]);

    // Crash between "stored" and "acknowledged": MESH lists the message again; it is
    // acknowledged but neither stored nor handed over twice.
    let id = sender
        .send(&Envelope::new("X26ABC2", &wf), b"dup")
        .await
        .unwrap();
    let mut stored = nhs_mesh::store::StoredMessage::clone(&{
        let m = nhs_mesh::wire::Metadata::from_headers([("mex-messageid", id.as_str())]).unwrap();
        nhs_mesh::store::StoredMessage::new(
            id.to_string(),
            StoredKind::Data(Box::new(m)),
            b"dup".to_vec(),
        )
    });
    stored.body = b"dup".to_vec();
    use nhs_mesh::InboxStore;
    assert!(store.store(&stored).unwrap());
    store.mark_handled(id.as_str()).unwrap();
    let mut calls = 0;
    let s = poller
        .poll_once(|_| {
            calls += 1;
            Ok::<(), String>(())
        })
        .await
        .unwrap();
    assert_eq!((s.listed, s.duplicates, s.stored, calls), (1, 1, 0, 0));
    assert!(
        client(&url, "X26ABC2")
            .inbox_all(Some(&wf))
            .await
            .unwrap()
            .is_empty()
    );
}
