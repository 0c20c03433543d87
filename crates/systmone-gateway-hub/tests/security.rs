//! Enrolment, revocation, reconnect, wrong organisation, SystmOne closed, hostile frames.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use common::*;
use systmone_gateway::relay::{Frame, FrameDecoder, encode};
use systmone_gateway::{
    ControlMessage, DeviceCredential, Error, Secret, SystmOneState, enrol, tls,
};
use systmone_gateway_hub::{DeviceHealth, DeviceId, DeviceRegistry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn refused_because(result: Result<DeviceCredential, Error>, why: &str) {
    match result {
        Err(Error::Refused { reason }) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_replayed_expired_and_revoked_enrolment_tokens_are_refused() {
    let world = world().await;
    let config = world.agent_config("127.0.0.1:9".parse().unwrap());
    let token = world
        .hub
        .issue_token(&ods("B11111"), "PC", Duration::from_secs(60))
        .await
        .unwrap();
    let credential = enrol(&config, token.token.clone()).await.unwrap();
    assert_eq!(credential.ods, "B11111");
    refused_because(enrol(&config, token.token).await, "already used");
    refused_because(
        enrol(&config, Secret::from("not-a-token")).await,
        "unknown enrolment token",
    );
    let revoked = world
        .hub
        .issue_token(&ods("B11111"), "PC", Duration::from_secs(60))
        .await
        .unwrap();
    world
        .registry
        .revoke_token(revoked.token_id, Utc::now())
        .await
        .unwrap();
    refused_because(enrol(&config, revoked.token).await, "revoked");
    let expired = world
        .hub
        .issue_token(&ods("B11111"), "PC", Duration::from_millis(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    refused_because(enrol(&config, expired.token).await, "expired");
    // Only the one device was enrolled.
    assert_eq!(world.registry.devices(None).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_cut_off_within_seconds_and_cannot_come_back() {
    let world = world().await;
    let org = practice_a();
    let (_sim, addr) = gateway(&org, "gateway0001", true).await;
    let (config, credential) = world.enrol("B11111", addr).await;
    let agent = spawn_agent(config.clone(), credential.clone());
    wait_until("verified", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    let device = DeviceId::new(&credential.device_id).unwrap();
    world.hub.revoke(&device).await.unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(3), agent)
        .await
        .expect("cut off within seconds")
        .unwrap();
    assert!(matches!(stopped, Error::Revoked), "{stopped:?}");
    assert!(world.hub.pool(&ods("B11111")).is_none());
    // Coming back with the same credential is refused at once.
    let again = tokio::time::timeout(Duration::from_secs(3), spawn_agent(config, credential))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(again, Error::Revoked), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_written_by_another_hub_instance_cuts_the_session() {
    let world = world().await;
    let org = practice_a();
    let (_sim, addr) = gateway(&org, "gateway0001", true).await;
    let (agent, credential) = world.agent("B11111", addr).await;
    wait_until("verified", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    // Straight into the shared registry, as another hub instance would.
    world
        .registry
        .revoke_device(DeviceId::new(&credential.device_id).unwrap(), Utc::now())
        .await
        .unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(3), agent)
        .await
        .expect("cut off within the revocation check interval")
        .unwrap();
    assert!(matches!(stopped, Error::Revoked), "{stopped:?}");
}

/// A TCP relay between agents and the hub whose connections the test can cut.
async fn cuttable_relay(
    hub: std::net::SocketAddr,
) -> (
    std::net::SocketAddr,
    Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
    let held = tasks.clone();
    tokio::spawn(async move {
        loop {
            let (mut inbound, _) = listener.accept().await.unwrap();
            let task = tokio::spawn(async move {
                let mut outbound = TcpStream::connect(hub).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
            held.lock().unwrap().push(task);
        }
    });
    (addr, tasks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reconnects_after_its_connection_drops() {
    let world = world().await;
    let org = practice_a();
    let (_sim, sim_addr) = gateway(&org, "gateway0001", true).await;
    let (relay, connections) = cuttable_relay(world.addr).await;
    let (mut config, credential) = world.enrol("B11111", sim_addr).await;
    config.hub = relay.to_string();
    let _agent = spawn_agent(config, credential.clone());
    wait_until("verified", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    for task in connections.lock().unwrap().drain(..) {
        task.abort();
    }
    wait_until("the hub saw the drop", Duration::from_secs(5), || {
        world.hub.live_devices().is_empty()
    })
    .await;
    wait_until("reconnected and verified", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    let pool = world.hub.pool(&ods("B11111")).unwrap();
    pool.call(systmone_api::get_functions::v1::Request::new())
        .await
        .unwrap();
    let record = world
        .registry
        .device(DeviceId::new(&credential.device_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(record.connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_systmone_reports_another_organisation_is_refused() {
    let world = world().await;
    // Enrolled for practice C22221, but the SystmOne behind it is practice B11111's.
    let (_sim, addr) = gateway(&practice_a(), "gateway0001", true).await;
    let (_agent, credential) = world.agent("C22221", addr).await;
    let device = DeviceId::new(&credential.device_id).unwrap();
    let mut health = DeviceHealth::Unknown;
    for _ in 0..250 {
        health = world
            .registry
            .device(device.clone())
            .await
            .unwrap()
            .unwrap()
            .health;
        if health == DeviceHealth::WrongOrganisation {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(health, DeviceHealth::WrongOrganisation);
    assert!(world.hub.pool(&ods("C22221")).is_none());
    assert!(!world.verified(&credential.device_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_announcing_another_organisation_than_its_enrolment_is_refused() {
    let world = world().await;
    let (_sim, addr) = gateway(&practice_a(), "gateway0001", true).await;
    let (config, credential) = world.enrol("B11111", addr).await;
    let forged = DeviceCredential::new(
        credential.device_id.clone(),
        "C22221",
        credential.credential.clone(),
    );
    let agent = systmone_gateway::Agent::new(config.clone(), forged);
    let error = agent.session(&mut false).await;
    assert!(
        matches!(&error, Error::Refused { reason } if reason.contains("organisation")),
        "{error:?}"
    );
    let wrong_secret = DeviceCredential::new(
        credential.device_id.clone(),
        "B11111",
        Secret::from("guess"),
    );
    let error = systmone_gateway::Agent::new(config, wrong_secret)
        .session(&mut false)
        .await;
    assert!(
        matches!(&error, Error::Refused { reason } if reason.contains("wrong credential")),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systmone_closed_or_logged_off_is_reported_and_the_agent_stays_connected() {
    let world = world().await;
    let (sim, addr) = gateway(&practice_a(), "gateway0001", true).await;
    let (_agent, credential) = world.agent("B11111", addr).await;
    wait_until("verified", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    sim.log_off();
    wait_until("SystmOne reported closed", Duration::from_secs(5), || {
        world
            .hub
            .live_devices()
            .iter()
            .any(|d| d.systmone == SystmOneState::Closed)
    })
    .await;
    assert!(world.hub.pool(&ods("B11111")).is_none());
    let record = world
        .registry
        .device(DeviceId::new(&credential.device_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(record.connected);
    assert_eq!(record.health, DeviceHealth::SystmOneClosed);
    sim.log_on();
    wait_until("verified again", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    assert!(world.hub.pool(&ods("B11111")).is_some());
}

async fn raw_tls(world: &World) -> tokio_rustls::client::TlsStream<TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(
        tls::client_config(world.certs.ca_pem.as_bytes()).unwrap(),
    );
    let tcp = TcpStream::connect(world.addr).await.unwrap();
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

/// Reads until the hub closes the connection; panics if it stays open.
async fn closed_by_hub(stream: &mut tokio_rustls::client::TlsStream<TcpStream>) {
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the hub kept the connection open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_frames_close_the_connection() {
    let world = world().await;
    // An oversized first frame: refused from its header.
    let mut stream = raw_tls(&world).await;
    stream
        .write_all(&[4, 0xff, 0xff, 0xff, 0xff])
        .await
        .unwrap();
    closed_by_hub(&mut stream).await;
    // Garbage.
    let mut stream = raw_tls(&world).await;
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    closed_by_hub(&mut stream).await;

    // An authenticated session that then sends an unknown frame type, or an oversized one.
    let (sim, addr) = gateway(&practice_a(), "gateway0001", true).await;
    let (_config, credential) = world.enrol("B11111", addr).await;
    for hostile in [vec![99u8, 0, 0, 0, 0], vec![4, 0x7f, 0xff, 0xff, 0xff]] {
        let mut stream = raw_tls(&world).await;
        let mut bytes = Vec::new();
        encode(
            &Frame::Control(ControlMessage::Hello {
                device_id: credential.device_id.clone(),
                credential: credential.credential.clone(),
                ods: "B11111".into(),
                agent_version: "hostile".into(),
                systmone: SystmOneState::Closed,
            }),
            &mut bytes,
        );
        stream.write_all(&bytes).await.unwrap();
        let mut decoder = FrameDecoder::default();
        let mut buf = [0u8; 1024];
        let welcome = loop {
            if let Some(frame) = decoder.next_frame().unwrap() {
                break frame;
            }
            let read = stream.read(&mut buf).await.unwrap();
            decoder.push(&buf[..read]);
        };
        assert!(matches!(
            welcome,
            Frame::Control(ControlMessage::Welcome { .. })
        ));
        stream.write_all(&hostile).await.unwrap();
        closed_by_hub(&mut stream).await;
    }
    // Nothing reached SystmOne.
    assert!(sim.request_log().is_empty());
    wait_until("the device is disconnected", Duration::from_secs(3), || {
        world.hub.live_devices().is_empty()
    })
    .await;
}
