//! ITK3 statuses survive restarts (`NHSI_TEST_MESH_URL`): a hub sends a Send Document message
//! with its statuses in a SQLite file, stops, starts again from the same file, sees the GP's
//! download and infrastructure ack, stops again, and on the next start the business ack's
//! time-out still counts from the time the message was first queued.
//!
//! Runs on a workflow of its own (the sandbox ignores workflows except in lookups), so it
//! shares the sandbox with `itk_e2e` and the other tests safely.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use common::{client, config, unique_workflow};
use gpconnect_fhir::{
    AttachmentData, ItkMessage, ItkResponse, OrganisationDetails, PatientDetails, Responder,
    ResponseCode, SendDocument, SequentialIds,
};
use nhs_identifiers::{NhsNumber, OdsCode};
use nhs_mesh::itk::ItkStatus;
use nhs_mesh::{
    AckTimeouts, Downloaded, ItkSender, MeshClient, Outbox, Poller, RetryPolicy, SqliteStore,
};

fn document(seed: u64, workflow: &str) -> ItkMessage {
    let patient = PatientDetails::new(
        NhsNumber::fictitious(11),
        "Testpatient",
        ["Robin"],
        NaiveDate::from_ymd_opt(1980, 2, 29).unwrap(),
    );
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
    let mut m = SendDocument::new(
        patient,
        OrganisationDetails::new(OdsCode::try_from("X26").unwrap(), "Example Ward Hub"),
        "X26ABC1",
        "Consultation report",
        at,
    )
    .attachment(AttachmentData::text(
        "Consultation note",
        "Seen on the ward.",
    ))
    .build(&mut SequentialIds::new(seed))
    .unwrap();
    // The sandbox cannot route GPPROVIDER_ addresses: send to its fixture mailbox, on a
    // workflow no other test uses.
    m.mesh.to = "X26ABC2".to_owned();
    m.mesh.workflow_id = workflow.to_owned();
    m
}

/// One "start" of the hub: everything built afresh from the SQLite file.
fn start_hub(url: &str, path: &Path, ack_workflow: &str) -> ItkSender {
    let store = Arc::new(SqliteStore::open(path).unwrap());
    let c = MeshClient::new(config(url, "X26ABC1").retry(RetryPolicy::none())).unwrap();
    let outbox = Outbox::new(c, store.clone()).reconcile_delay(Duration::ZERO);
    let acks = Poller::new(client(url, "X26ABC1"), store.clone()).workflow_filter(ack_workflow);
    ItkSender::with_store(outbox, acks, store)
        .unwrap()
        .timeouts(AckTimeouts::new(
            Duration::from_secs(3600),
            Duration::from_secs(2 * 3600),
        ))
}

#[tokio::test]
async fn statuses_and_time_outs_survive_restarts() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.sqlite");
    let workflow = unique_workflow("ITKDUR");
    let ack_workflow = format!("{workflow}_ACK");
    let seed = u64::from(uuid::Uuid::new_v4().as_u128() as u32);
    let message = document(seed, &workflow);
    let t0 = Utc::now();

    // First start: send.
    let hub = start_hub(&url, &path, &ack_workflow);
    let header = hub.send(&message, t0).await.unwrap();
    let before = hub.status(&header).unwrap();
    assert_eq!(before.status, ItkStatus::AcceptedByMesh);
    let mesh_id = before.mesh_message_id.clone().unwrap();
    drop(hub);

    // Second start: the status is back, with its history and MESH id.
    let hub = start_hub(&url, &path, &ack_workflow);
    let after = hub.status(&header).unwrap();
    assert_eq!(after, before);

    // The GP practice downloads and acknowledges the message, and answers 20013 on the ack
    // workflow.
    let gp = client(&url, "X26ABC2");
    let id = nhs_mesh::MessageId::new(&mesh_id).unwrap();
    let Downloaded::Data(_) = gp.download(&id).await.unwrap() else {
        panic!("not data")
    };
    gp.acknowledge(&id).await.unwrap();
    let responder = Responder::new(
        OdsCode::try_from("X26").unwrap(),
        "X26ABC2",
        "X26ABC1",
        ack_workflow.clone(),
    );
    let ack = ItkResponse::answering(ResponseCode::Success, &message.bundle)
        .build(&responder, t0, &mut SequentialIds::new(seed + 1))
        .unwrap();
    gp.send(
        &nhs_mesh::Envelope::new("X26ABC1", &ack_workflow).content_type("application/fhir+json"),
        ack.to_json().unwrap().as_bytes(),
    )
    .await
    .unwrap();

    let changes = hub.poll(t0 + chrono::Duration::minutes(1)).await.unwrap();
    let mine: Vec<_> = changes
        .iter()
        .filter(|c| c.header_id == header)
        .map(|c| c.status.clone())
        .collect();
    assert_eq!(
        mine,
        vec![
            ItkStatus::AcknowledgedByRecipient,
            ItkStatus::InfrastructureAck {
                code: "20013".into()
            },
        ]
    );
    drop(hub);

    // Third start: the infrastructure ack is remembered; the business ack, asked for and
    // never sent, times out two hours after the first queueing, not after this start.
    let hub = start_hub(&url, &path, &ack_workflow);
    let m = hub.status(&header).unwrap();
    assert_eq!(
        m.status,
        ItkStatus::InfrastructureAck {
            code: "20013".into()
        }
    );
    assert_eq!(m.queued_at, t0);
    assert!(
        hub.poll(t0 + chrono::Duration::minutes(119))
            .await
            .unwrap()
            .iter()
            .all(|c| c.header_id != header),
        "not yet overdue"
    );
    let changes = hub.poll(t0 + chrono::Duration::minutes(121)).await.unwrap();
    assert!(
        changes.iter().any(|c| c.header_id == header
            && matches!(&c.status, ItkStatus::Failed { reason } if reason.contains("business"))),
        "{changes:?}"
    );
    drop(hub);

    // Fourth start: still failed, with the whole history.
    let hub = start_hub(&url, &path, &ack_workflow);
    let m = hub.status(&header).unwrap();
    assert!(matches!(m.status, ItkStatus::Failed { .. }));
    assert_eq!(
        m.history.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>()[..4],
        [
            ItkStatus::Queued,
            ItkStatus::Sent,
            ItkStatus::AcceptedByMesh,
            ItkStatus::AcknowledgedByRecipient
        ]
    );
    assert!(!m.is_complete());
}

#[tokio::test]
async fn a_send_interrupted_by_a_restart_takes_its_outcome_from_the_outbox() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.sqlite");
    let workflow = unique_workflow("ITKRES");
    let ack_workflow = format!("{workflow}_ACK");
    let seed = u64::from(uuid::Uuid::new_v4().as_u128() as u32);
    let message = document(seed, &workflow);
    let t0 = Utc::now();

    // The hub cannot reach MESH (nothing listens): the message stays queued in the outbox
    // and `Sent` here.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let hub = start_hub(&closed, &path, &ack_workflow);
    let err = hub.send(&message, t0).await.unwrap_err();
    assert_ne!(err.retry(), nhs_mesh::Retry::Never, "{err}");
    let header = message.message_id.as_str().to_owned();
    assert_eq!(hub.status(&header).unwrap().status, ItkStatus::Sent);
    drop(hub);

    // Restart against MESH: the outbox delivers, and the next poll takes the outcome from it.
    let hub = start_hub(&url, &path, &ack_workflow);
    assert_eq!(hub.status(&header).unwrap().status, ItkStatus::Sent);
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let outbox = Outbox::new(client(&url, "X26ABC1"), store).reconcile_delay(Duration::ZERO);
    let delivered = outbox.deliver_pending().await.unwrap();
    assert_eq!(delivered.len(), 1);
    let mesh_id = delivered[0].1.as_ref().unwrap().clone();
    let changes = hub.poll(t0).await.unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c.header_id == header && c.status == ItkStatus::AcceptedByMesh),
        "{changes:?}"
    );
    assert_eq!(
        hub.status(&header).unwrap().mesh_message_id.as_deref(),
        Some(mesh_id.as_str())
    );

    // Clean up: the GP side takes it off the sandbox.
    let gp = client(&url, "X26ABC2");
    gp.acknowledge(&mesh_id).await.unwrap();
}
