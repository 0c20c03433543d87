//! Mutual TLS against the sandbox served over TLS with client-certificate checking
//! (`NHSI_TEST_MESH_TLS_URL`, material in `NHSI_TEST_MESH_TLS_DIR`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::{config, unique_workflow};
use nhs_mesh::{Downloaded, Envelope, MeshClient, MeshError, RetryPolicy, TlsConfig};

fn tls() -> Option<(String, PathBuf)> {
    let url = nhs_test_support::service(
        nhs_test_support::MESH_TLS_URL_VAR,
        "mesh-sandbox over TLS with client-certificate checking",
    )?;
    let dir = nhs_test_support::service(
        nhs_test_support::MESH_TLS_DIR_VAR,
        "the throwaway CA, client certificate and key of the TLS sandbox",
    )?;
    Some((url, PathBuf::from(dir)))
}

#[tokio::test]
async fn mutual_tls_send_and_receive() {
    let Some((url, dir)) = tls() else { return };
    let material = TlsConfig::from_files(
        dir.join("client.pem"),
        dir.join("client-key.pem"),
        dir.join("ca.pem"),
    )
    .unwrap();
    let sender = MeshClient::new(config(&url, "X26ABC1").tls(material.clone())).unwrap();
    let receiver = MeshClient::new(config(&url, "X26ABC2").tls(material)).unwrap();
    sender.handshake().await.unwrap();
    let wf = unique_workflow("TLS");
    let id = sender
        .send(&Envelope::new("X26ABC2", &wf), b"over mutual TLS")
        .await
        .unwrap();
    let Downloaded::Data(m) = receiver.download(&id).await.unwrap() else {
        panic!()
    };
    assert_eq!(m.body, b"over mutual TLS");
    receiver.acknowledge(&id).await.unwrap();
}

#[tokio::test]
async fn without_a_client_certificate_or_with_another_ca_the_connection_fails() {
    let Some((url, dir)) = tls() else { return };
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();
    let no_cert = MeshClient::new(
        config(&url, "X26ABC1")
            .tls(TlsConfig::server_only(ca))
            .retry(RetryPolicy::none()),
    )
    .unwrap();
    let err = no_cert.handshake().await.unwrap_err();
    assert!(matches!(err, MeshError::Transport { .. }), "{err}");

    // A CA that did not sign the server certificate: the server is not trusted.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let wrong = TlsConfig::mutual(
        std::fs::read(dir.join("client.pem")).unwrap(),
        std::fs::read(dir.join("client-key.pem")).unwrap(),
        other.cert.pem().into_bytes(),
    );
    let err = MeshClient::new(
        config(&url, "X26ABC1")
            .tls(wrong)
            .retry(RetryPolicy::none()),
    )
    .unwrap()
    .handshake()
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            MeshError::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{err}"
    );
}
