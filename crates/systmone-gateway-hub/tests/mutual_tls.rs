//! Certificates checked both ways: the hub requires a client certificate from the device CA and
//! takes the device id from its CN; the agent checks the hub's certificate against its CA. A
//! connection needs both a valid certificate and a valid device credential.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use systmone_api::get_organisation_meta_data;
use systmone_gateway::{DeviceCredential, Error, Secret, enrol, tls};
use systmone_gateway_hub::{DeviceId, DeviceRegistry};

/// Every log line of this test binary (the hub logs from its own tasks, on any thread).
fn logged() -> String {
    nhs_test_support::logs::LogCapture::global("info").text()
}

/// The hub refused the connection during the TLS handshake: the agent got no answer at all
/// (an alert or a closed connection), never a `Refused` frame.
fn refused_by_tls(result: Result<DeviceCredential, Error>) {
    match result {
        Err(Error::Io { .. } | Error::Protocol(_)) => {}
        other => panic!("expected the TLS handshake to fail, got {other:?}"),
    }
}

fn has_ten_digits_in_a_row(text: &str) -> bool {
    text.as_bytes()
        .split(|b| !b.is_ascii_digit())
        .any(|run| run.len() >= 10)
}

/// A mutual-TLS world, with this binary's log capture installed first.
async fn mtls_world() -> World {
    nhs_test_support::logs::LogCapture::global("info");
    mutual_world().await
}

fn device_ca(world: &World) -> &DeviceCa {
    world.device_ca.as_ref().unwrap()
}

async fn token(world: &World, practice: &str) -> Secret {
    world
        .hub
        .issue_token(&ods(practice), "test PC", Duration::from_secs(600))
        .await
        .unwrap()
        .token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_a_device_certificate_enrols_under_its_name_and_relays() {
    let world = mtls_world().await;
    let org = practice_a();
    let (sim, addr) = gateway(&org, "gateway0001", true).await;
    let cert = device_ca(&world).issue(Some("b11111-reception-1"));
    let config = world.mutual_agent_config(addr, &cert);
    let credential = enrol(&config, token(&world, "B11111").await).await.unwrap();
    assert_eq!(credential.device_id, "b11111-reception-1");
    let _agent = spawn_agent(config, credential.clone());
    wait_until("verified", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    let client = world
        .hub
        .client(&DeviceId::new("b11111-reception-1").unwrap())
        .unwrap();
    let meta = client
        .send(get_organisation_meta_data::v1::Request::new())
        .await
        .unwrap();
    assert!(!meta.sites.is_empty());
    assert!(
        sim.request_log()
            .iter()
            .filter(|r| r.function.as_deref() == Some("GetOrganisationMetaData"))
            .count()
            >= 2,
        "the organisation check and the request both went through the relay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_without_a_client_certificate_is_refused_during_the_handshake() {
    let world = mtls_world().await;
    let config = world.agent_config("127.0.0.1:9".parse().unwrap());
    let token = token(&world, "B11111").await;
    refused_by_tls(enrol(&config, token.clone()).await);
    assert!(world.registry.devices(None).await.unwrap().is_empty());
    // The token was never seen: the PC enrols with it once it has its certificate.
    let cert = device_ca(&world).issue(Some("b11111-reception-2"));
    let config = world.mutual_agent_config("127.0.0.1:9".parse().unwrap(), &cert);
    assert_eq!(
        enrol(&config, token).await.unwrap().device_id,
        "b11111-reception-2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_refused_during_the_handshake() {
    let world = mtls_world().await;
    let stranger = DeviceCa::new("someone else's CA").issue(Some("b11111-reception-1"));
    let config = world.mutual_agent_config("127.0.0.1:9".parse().unwrap(), &stranger);
    refused_by_tls(enrol(&config, token(&world, "B11111").await).await);
    assert!(world.registry.devices(None).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused_during_the_handshake() {
    let world = mtls_world().await;
    let expired = device_ca(&world).issue_expired("b11111-reception-1");
    let config = world.mutual_agent_config("127.0.0.1:9".parse().unwrap(), &expired);
    refused_by_tls(enrol(&config, token(&world, "B11111").await).await);
    assert!(world.registry.devices(None).await.unwrap().is_empty());
    // The operator sees why.
    wait_until("the refusal is logged", Duration::from_secs(5), || {
        logged()
            .lines()
            .any(|l| l.contains("client certificate was refused") && l.contains("xpired"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_without_a_device_name_or_with_a_taken_one_cannot_enrol() {
    let world = mtls_world().await;
    let nameless = device_ca(&world).issue(None);
    let config = world.mutual_agent_config("127.0.0.1:9".parse().unwrap(), &nameless);
    match enrol(&config, token(&world, "B11111").await).await {
        Err(Error::Refused { reason }) => {
            assert!(reason.contains("names no device id"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let cert = device_ca(&world).issue(Some("b11111-reception-1"));
    let config = world.mutual_agent_config("127.0.0.1:9".parse().unwrap(), &cert);
    enrol(&config, token(&world, "B11111").await).await.unwrap();
    match enrol(&config, token(&world, "B11111").await).await {
        Err(Error::Refused { reason }) => assert!(reason.contains("already enrolled"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(world.registry.devices(None).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_device_or_a_wrong_credential_is_refused_and_logged() {
    let world = mtls_world().await;
    let org = practice_a();
    let (_sim, addr) = gateway(&org, "gateway0001", true).await;
    let cert_x = device_ca(&world).issue(Some("b11111-pc-x"));
    let cert_y = device_ca(&world).issue(Some("b11111-pc-y"));
    let x = enrol(
        &world.mutual_agent_config(addr, &cert_x),
        token(&world, "B11111").await,
    )
    .await
    .unwrap();
    enrol(
        &world.mutual_agent_config(addr, &cert_y),
        token(&world, "B11111").await,
    )
    .await
    .unwrap();

    // Y's certificate with X's credential: refused, whatever the credential.
    let borrowed =
        systmone_gateway::Agent::new(world.mutual_agent_config(addr, &cert_y), x.clone());
    let mut welcomed = false;
    match borrowed.session(&mut welcomed).await {
        Error::Refused { reason } => {
            assert!(reason.contains("another device"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!welcomed);
    let line = logged()
        .lines()
        .find(|l| l.contains("the client certificate is for another device"))
        .expect("the refusal is logged")
        .to_owned();
    assert!(
        line.contains("b11111-pc-y") && line.contains("b11111-pc-x"),
        "{line}"
    );
    assert!(!line.contains(x.credential.expose()), "{line}");
    assert!(!has_ten_digits_in_a_row(&line), "no NHS number: {line}");

    // X's own certificate with a wrong credential: refused too (both are needed).
    let forged = DeviceCredential::new(x.device_id.clone(), x.ods.clone(), Secret::from("forged"));
    let forger = systmone_gateway::Agent::new(world.mutual_agent_config(addr, &cert_x), forged);
    match forger.session(&mut welcomed).await {
        Error::Refused { reason } => {
            assert!(reason.contains("wrong credential"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!welcomed);
    let all = logged();
    assert!(!all.contains(x.credential.expose()));
    assert!(!all.contains("forged"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_refuses_a_hub_whose_certificate_is_not_from_its_ca() {
    let world = mtls_world().await;
    let cert = device_ca(&world).issue(Some("b11111-reception-1"));
    let impostor_ca = DeviceCa::new("not the hub's CA");
    let tls = tls::mutual_client_config(
        impostor_ca.pem.as_bytes(),
        cert.cert_pem.as_bytes(),
        cert.key_pem.as_bytes(),
    )
    .unwrap();
    let config = world.agent_config_with("127.0.0.1:9".parse().unwrap(), tls);
    match enrol(&config, token(&world, "B11111").await).await {
        Err(Error::Io { what, .. }) => assert_eq!(what, "the TLS handshake"),
        other => panic!("expected the agent to refuse the hub, got {other:?}"),
    }
    assert!(world.registry.devices(None).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_certificates_without_mutual_tls_refuse_every_agent() {
    // Misconfigured: devices bound to certificates, but the TLS config asks for none.
    nhs_test_support::logs::LogCapture::global("info");
    let mut config = hub_config();
    config.device_certificates = systmone_gateway_hub::DeviceCertificates::CommonNameIsDeviceId;
    let world = world_with(fast_throttle(), config).await;
    let agent = world.agent_config("127.0.0.1:9".parse().unwrap());
    match enrol(&agent, token(&world, "B11111").await).await {
        Err(Error::Refused { reason }) => {
            assert!(
                reason.contains("client certificate is required"),
                "{reason}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(world.registry.devices(None).await.unwrap().is_empty());
}
