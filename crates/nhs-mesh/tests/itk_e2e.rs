//! End to end over the sandbox (`NHSI_TEST_MESH_URL`): a ward hub (X26ABC1) sends a GP
//! Connect Send Document message to a GP practice (X26ABC2); the practice validates it and
//! answers; the hub sees MESH acceptance, the recipient's download, then the infrastructure
//! and business acks; a resend of the same message gets 20007.
//!
//! The only test in this crate on the GPCONNECT_SEND_DOCUMENT workflows, so it shares the
//! sandbox safely with the other tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use common::config;
use gpconnect_fhir::{
    AttachmentData, ItkMessage, OrganisationDetails, PatientDetails, Responder, ResponseCode,
    SendDocument, SequentialIds,
};
use nhs_identifiers::{NhsNumber, OdsCode};
use nhs_mesh::itk::ItkStatus;
use nhs_mesh::store::StoredKind;
use nhs_mesh::{ItkReceiver, ItkSender, MeshClient, Outbox, Poller, RetryPolicy, SqliteStore};

fn document(seed: u64) -> ItkMessage {
    let patient = PatientDetails::new(
        NhsNumber::fictitious(7),
        "Testpatient",
        ["Jordan"],
        NaiveDate::from_ymd_opt(1972, 6, 15).unwrap(),
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
    // The sandbox cannot route GPPROVIDER_ addresses: send to its fixture mailbox.
    m.mesh.to = "X26ABC2".to_owned();
    m
}

fn outbox(url: &str, mailbox: &str, store: Arc<SqliteStore>) -> Outbox {
    let c = MeshClient::new(config(url, mailbox).retry(RetryPolicy::none())).unwrap();
    Outbox::new(c, store).reconcile_delay(Duration::ZERO)
}

/// The GP practice: poll Send Document messages, validate, answer. Returns the codes sent.
async fn gp_round(url: &str, gp_store: &Arc<SqliteStore>, receiver: &ItkReceiver) -> Vec<String> {
    let gp_out = outbox(url, "X26ABC2", gp_store.clone());
    let poller = Poller::new(
        MeshClient::new(config(url, "X26ABC2")).unwrap(),
        gp_store.clone(),
    )
    .workflow_filter("GPCONNECT_SEND_DOCUMENT");
    let codes = Arc::new(std::sync::Mutex::new(Vec::new()));
    poller
        .poll_once_async(|m| {
            let gp_out = gp_out.clone();
            let receiver = receiver.clone();
            let codes = codes.clone();
            async move {
                let StoredKind::Data(meta) = &m.kind else {
                    return Ok::<(), String>(());
                };
                let responder = Responder::new(
                    OdsCode::try_from("X26").unwrap(),
                    "X26ABC2",
                    meta.from.clone().unwrap_or_default(),
                    "GPCONNECT_SEND_DOCUMENT_ACK",
                );
                let d = receiver
                    .answer(&m.body, &responder, &gp_out, Utc::now())
                    .await
                    .map_err(|e| e.to_string())?;
                let mut codes = codes.lock().unwrap();
                codes.push(d.infrastructure.code.code().to_owned());
                if let Some(b) = &d.business {
                    codes.push(b.code.code().to_owned());
                }
                Ok(())
            }
        })
        .await
        .unwrap();
    codes.lock().unwrap().clone()
}

#[tokio::test]
async fn send_document_hub_to_gp_with_infrastructure_then_business_ack_and_20007_on_resend() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let seed = u64::from(uuid::Uuid::new_v4().as_u128() as u32);
    let hub_store = Arc::new(SqliteStore::in_memory().unwrap());
    let gp_store = Arc::new(SqliteStore::in_memory().unwrap());
    let hub = ItkSender::new(
        outbox(&url, "X26ABC1", hub_store.clone()),
        Poller::new(
            MeshClient::new(config(&url, "X26ABC1")).unwrap(),
            hub_store.clone(),
        )
        .workflow_filter("GPCONNECT_SEND_DOCUMENT_ACK"),
    );
    let receiver = ItkReceiver::new(gp_store.clone());

    let message = document(seed);
    let header = hub.send(&message, Utc::now()).await.unwrap();
    assert_eq!(header, message.message_id.as_str());
    assert_eq!(
        hub.status(&header).unwrap().status,
        ItkStatus::AcceptedByMesh
    );

    let codes = gp_round(&url, &gp_store, &receiver).await;
    assert!(
        codes.ends_with(&["20013".to_owned(), "30001".to_owned()]),
        "{codes:?}"
    );

    let changes = hub.poll(Utc::now()).await.unwrap();
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
            ItkStatus::BusinessAck {
                code: "30001".into()
            },
        ]
    );
    assert!(hub.status(&header).unwrap().is_complete());

    // The same message again (same MessageHeader id, new mex-LocalID): 20007.
    hub.send(&message, Utc::now()).await.unwrap();
    let codes = gp_round(&url, &gp_store, &receiver).await;
    assert_eq!(
        codes,
        vec![ResponseCode::DuplicateMessage.code().to_owned()]
    );
    hub.poll(Utc::now()).await.unwrap();
    match hub.status(&header).unwrap().status {
        ItkStatus::Failed { reason } => assert!(reason.contains("20007"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
