//! Against NHS England's mesh-sandbox with full authentication (`NHSI_TEST_MESH_URL`).
//! The sandbox is shared by every test running at once: each test uses its own workflow id
//! and filters the inbox by it, and never resets the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, config, payload, unique_workflow};
use nhs_mesh::wire::{MessageType, TrackingStatus};
use nhs_mesh::{Downloaded, Envelope, MeshClient, MeshError, MessageId, Retry};

fn url() -> Option<String> {
    nhs_test_support::mesh_url()
}

async fn only_message(c: &MeshClient, wf: &str) -> MessageId {
    let ids = c.inbox_all(Some(wf)).await.unwrap();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids.into_iter().next().unwrap()
}

#[tokio::test]
async fn handshake_and_bad_credentials() {
    let Some(url) = url() else { return };
    client(&url, "X26ABC1").handshake().await.unwrap();
    let mut cfg = config(&url, "X26ABC1");
    cfg.credentials = nhs_mesh::Credentials::new(
        nhs_mesh::MailboxId::new("X26ABC1").unwrap(),
        "wrong",
        common::SHARED_KEY,
    );
    let err = MeshClient::new(cfg).unwrap().handshake().await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert_eq!(err.retry(), Retry::Never);
}

#[tokio::test]
async fn send_receive_track_and_acknowledge() {
    let Some(url) = url() else { return };
    let sender = client(&url, "X26ABC1");
    let receiver = client(&url, "X26ABC2");
    let wf = unique_workflow("SRA");
    let local_id = uuid::Uuid::new_v4().to_string();
    let env = Envelope::new("X26ABC2", &wf)
        .subject("A test letter")
        .local_id(&local_id)
        .file_name("letter.txt")
        .content_type("text/plain");
    let id = sender.send(&env, b"hello from rust").await.unwrap();

    let tracked = sender.track(&id).await.unwrap();
    assert_eq!(tracked.status, Some(TrackingStatus::Accepted));
    assert_eq!(tracked.local_id.as_deref(), Some(local_id.as_str()));
    let by_local = sender.track_local_id(&local_id).await.unwrap().unwrap();
    assert_eq!(by_local.message_id, id);
    assert!(
        sender
            .track_local_id("no-such-local-id-xyz")
            .await
            .unwrap()
            .is_none()
    );
    // Only the sender can track.
    assert_eq!(receiver.track(&id).await.unwrap_err().status(), Some(404));

    assert_eq!(only_message(&receiver, &wf).await, id);
    let head = receiver.head(&id).await.unwrap();
    assert_eq!(head.workflow_id.as_deref(), Some(wf.as_str()));
    let Downloaded::Data(msg) = receiver.download(&id).await.unwrap() else {
        panic!("report")
    };
    assert_eq!(msg.body, b"hello from rust");
    assert_eq!(msg.metadata.message_type, MessageType::Data);
    assert_eq!(msg.metadata.from.as_deref(), Some("X26ABC1"));
    assert_eq!(msg.metadata.subject.as_deref(), Some("A test letter"));
    assert_eq!(msg.metadata.local_id.as_deref(), Some(local_id.as_str()));
    assert_eq!(msg.metadata.file_name.as_deref(), Some("letter.txt"));
    receiver.acknowledge(&id).await.unwrap();
    assert!(receiver.inbox_all(Some(&wf)).await.unwrap().is_empty());
    assert_eq!(
        sender.track(&id).await.unwrap().status,
        Some(TrackingStatus::Acknowledged)
    );
}

#[tokio::test]
async fn unknown_recipient_is_a_typed_refusal() {
    let Some(url) = url() else { return };
    let err = client(&url, "X26ABC1")
        .send(&Envelope::new("NOSUCHBOX", "WF"), b"x")
        .await
        .unwrap_err();
    match &err {
        MeshError::Http {
            status: 417, code, ..
        } => assert_eq!(code.as_deref(), Some("12")),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.retry(), Retry::Never);
}

async fn thirty_megabytes(compress: bool) {
    let Some(url) = url() else { return };
    let sender = MeshClient::new(
        config(&url, "X26ABC1")
            .chunk_size(10 * 1024 * 1024)
            .compress(compress),
    )
    .unwrap();
    let receiver = client(&url, "X26ABC2");
    let wf = unique_workflow(if compress { "BIGZ" } else { "BIG" });
    let data = payload(30 * 1024 * 1024, u64::from(compress));
    let id = sender
        .send(&Envelope::new("X26ABC2", &wf), &data)
        .await
        .unwrap();
    assert_eq!(only_message(&receiver, &wf).await, id);
    let Downloaded::Data(msg) = receiver.download(&id).await.unwrap() else {
        panic!()
    };
    assert_eq!(msg.metadata.chunk_count(), 3);
    assert!(msg.body == data, "30 MB body differs");
    receiver.acknowledge(&id).await.unwrap();

    // The download cap stops a message bigger than allowed.
    let small = MeshClient::new(config(&url, "X26ABC2").max_download_size(1024 * 1024)).unwrap();
    let id2 = sender
        .send(&Envelope::new("X26ABC2", &wf), &data[..3 * 1024 * 1024])
        .await
        .unwrap();
    assert!(matches!(
        small.download(&id2).await,
        Err(MeshError::TooLarge { .. })
    ));
    receiver.acknowledge(&id2).await.unwrap();
}

#[tokio::test]
async fn thirty_megabytes_in_three_gzip_chunks() {
    thirty_megabytes(true).await;
}

#[tokio::test]
async fn thirty_megabytes_in_three_plain_chunks() {
    thirty_megabytes(false).await;
}

#[tokio::test]
async fn more_than_500_messages_are_paged() {
    let Some(url) = url() else { return };
    let sender = client(&url, "X26ABC1");
    let receiver = client(&url, "X26ABC3");
    let wf = unique_workflow("PAGE");
    let mut set = tokio::task::JoinSet::new();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    for i in 0..520 {
        let (s, wf, sem) = (sender.clone(), wf.clone(), sem.clone());
        set.spawn(async move {
            let _p = sem.acquire().await.unwrap();
            s.send(&Envelope::new("X26ABC3", &wf), format!("m{i}").as_bytes())
                .await
                .unwrap()
        });
    }
    let mut sent: Vec<MessageId> = set.join_all().await;
    let first = receiver.inbox_page(Some(&wf), None).await.unwrap();
    assert_eq!(first.messages.len(), 500);
    assert!(first.next.is_some());
    let mut listed = receiver.inbox_all(Some(&wf)).await.unwrap();
    sent.sort();
    listed.sort();
    assert_eq!(listed, sent);
    let small = receiver.inbox_page(Some(&wf), Some(100)).await.unwrap();
    assert_eq!(small.messages.len(), 100);
    let mut set = tokio::task::JoinSet::new();
    for id in listed {
        let (r, sem) = (receiver.clone(), sem.clone());
        set.spawn(async move {
            let _p = sem.acquire().await.unwrap();
            r.acknowledge(&id).await.unwrap();
        });
    }
    set.join_all().await;
    assert!(receiver.inbox_all(Some(&wf)).await.unwrap().is_empty());
}

#[tokio::test]
async fn lookup_and_workflow_search() {
    let Some(url) = url() else { return };
    let c = client(&url, "X26ABC1");
    let found = c.lookup("X26", "TEST_WORKFLOW").await.unwrap();
    assert!(
        found.iter().any(|m| m.mailbox_id.as_str() == "X26ABC2"),
        "{found:?}"
    );
    let found = c.workflow_search("TEST_WORKFLOW_ACK").await.unwrap();
    assert!(!found.is_empty());
    assert!(
        c.lookup("ZZZ", "NO_SUCH_WORKFLOW")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_injected_non_delivery_report_is_a_report() {
    let Some(url) = url() else { return };
    let sender = client(&url, "X26ABC1");
    let wf = unique_workflow("NDR");
    let id = sender
        .send(&Envelope::new("X26ABC2", &wf), b"never collected")
        .await
        .unwrap();
    let status = common::admin_post(
        &url,
        "/messageexchange/admin/report",
        &serde_json::json!({
            "mailbox_id": "X26ABC1", "code": "14", "description": "Message not collected by recipient after 5 days",
            "workflow_id": wf, "linked_message_id": id.as_str(), "local_id": "ndr-test",
        }),
    )
    .await;
    assert!((200..300).contains(&status), "{status}");
    let report_id = only_message(&sender, &wf).await;
    let Downloaded::Report(report) = sender.download(&report_id).await.unwrap() else {
        panic!("expected a REPORT")
    };
    assert_eq!(report.linked_message_id.as_deref(), Some(id.as_str()));
    assert_eq!(report.status_code.as_deref(), Some("14"));
    assert_eq!(report.status_success, Some(false));
    sender.acknowledge(&report_id).await.unwrap();
    // Clean up the original at the recipient.
    client(&url, "X26ABC2").acknowledge(&id).await.unwrap();
}

#[test]
fn the_blocking_client_sends_and_receives() {
    let Some(url) = url() else { return };
    let sender = nhs_mesh::BlockingClient::new(config(&url, "X26ABC1")).unwrap();
    let receiver = nhs_mesh::BlockingClient::new(config(&url, "X26ABC2")).unwrap();
    sender.handshake().unwrap();
    let wf = unique_workflow("BLOCK");
    let id = sender
        .send(&Envelope::new("X26ABC2", &wf), b"blocking")
        .unwrap();
    assert_eq!(receiver.inbox_all(Some(&wf)).unwrap(), vec![id.clone()]);
    let Downloaded::Data(m) = receiver.download(&id).unwrap() else {
        panic!()
    };
    assert_eq!(m.body, b"blocking");
    receiver.acknowledge(&id).unwrap();
    assert_eq!(
        sender.track(&id).unwrap().status,
        Some(TrackingStatus::Acknowledged)
    );
}
