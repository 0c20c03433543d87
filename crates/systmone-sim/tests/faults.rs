//! Each fault mode does what it says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Answer, Conn, nhs, relaxed_tcp_gateway, request, tcp};
use systmone_api::record::{Event, Narrative};
use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, Framer, get_functions, patient_search,
    update_patient_record,
};
use systmone_sim::{
    Availability, DeviceApproval, Fault, FaultProbabilities, FaultTarget, GatewayConfig,
    Organisation, RequestOutcome, Simulator, ThrottleConfig,
};

const PATIENT: &str = "9990001014";

fn write(uid: &str) -> ClientIntegrationRequest {
    request(
        "dev",
        uid,
        update_patient_record::v1::Request::new(nhs(PATIENT)).with_event(
            Event::new(vec![Narrative::new(["Seen by link worker."]).into()])
                .with_user_name("lworker0042"),
        ),
    )
}

fn ping(uid: &str) -> ClientIntegrationRequest {
    request("dev", uid, get_functions::v1::Request::new())
}

#[tokio::test]
async fn no_response_swallows_the_request_and_keeps_the_connection() {
    let org = Organisation::builtin_default();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    sim.inject_next("UpdatePatientRecord", Fault::NoResponse);
    let mut conn = tcp(addr).await;
    conn.wait = Duration::from_millis(300);
    assert!(matches!(conn.send(&write("1")).await, Answer::Silence));
    assert!(org.journal(&nhs(PATIENT)).is_empty(), "nothing applied");
    conn.wait = Duration::from_secs(5);
    conn.call(&ping("2")).await.into_result().unwrap();
    let log = sim.request_log();
    assert_eq!(log[0].outcome, RequestOutcome::NoResponse);
    assert_eq!(log[0].fault, Some(Fault::NoResponse));
    assert!(log[1].answered());
    assert_eq!(sim.pending_faults(), 0);
}

#[tokio::test(start_paused = true)]
async fn delayed_response_arrives_late() {
    let org = Organisation::builtin_default();
    let sim = Simulator::new(
        org.clone(),
        GatewayConfig::default().with_throttle(ThrottleConfig::relaxed()),
    )
    .unwrap();
    sim.inject(
        FaultTarget::AnyFunction,
        Fault::Delay(Duration::from_secs(20)),
    );
    let mut conn = Conn::new(sim.connect_in_memory().unwrap());
    let start = tokio::time::Instant::now();
    conn.wait = Duration::from_secs(19);
    assert!(matches!(conn.send(&ping("1")).await, Answer::Silence));
    conn.wait = Duration::from_secs(5);
    conn.read_answer().await.response().into_result().unwrap();
    assert!(start.elapsed() >= Duration::from_secs(20));
    assert_eq!(
        sim.request_log()[0].fault,
        Some(Fault::Delay(Duration::from_secs(20)))
    );
}

#[tokio::test]
async fn close_before_apply_writes_nothing() {
    let org = Organisation::builtin_default();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    sim.inject_next("UpdatePatientRecord", Fault::CloseBeforeApply);
    let mut conn = tcp(addr).await;
    assert!(matches!(conn.send(&write("1")).await, Answer::Closed));
    assert!(org.journal(&nhs(PATIENT)).is_empty());
    assert_eq!(
        sim.request_log()[0].outcome,
        RequestOutcome::ConnectionClosed
    );
    // A new connection works.
    tcp(addr)
        .await
        .call(&ping("2"))
        .await
        .into_result()
        .unwrap();
}

#[tokio::test]
async fn close_after_apply_writes_but_never_answers() {
    let org = Organisation::builtin_default();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    sim.inject_next("UpdatePatientRecord", Fault::CloseAfterApply);
    let mut conn = tcp(addr).await;
    // Other functions are not affected by a fault aimed at UpdatePatientRecord.
    conn.call(&ping("0")).await.into_result().unwrap();
    assert!(matches!(conn.send(&write("1")).await, Answer::Closed));
    let journal = org.journal(&nhs(PATIENT));
    assert_eq!(journal.len(), 1, "the write IS in the journal");
    assert_eq!(journal[0].author, "lworker0042");
    assert!(journal[0].committed);
    assert_eq!(sim.request_log()[1].fault, Some(Fault::CloseAfterApply));
}

#[tokio::test]
async fn malformed_response_is_framed_but_does_not_decode() {
    let org = Organisation::builtin_default();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    sim.inject_next("UpdatePatientRecord", Fault::MalformedResponse);
    let mut conn = tcp(addr).await;
    let line = conn.send(&write("1")).await.line();
    assert!(ClientIntegrationResponse::decode(line.as_bytes()).is_err());
    // An XML-aware framer (systmone-api's) still delivers it as one message.
    let mut framer = Framer::default();
    framer.push(line.as_bytes());
    framer.push(b"\n");
    assert!(framer.next_message().unwrap().is_some());
    assert_eq!(
        org.journal(&nhs(PATIENT)).len(),
        1,
        "applied before the bad answer"
    );
    assert_eq!(
        sim.request_log()[0].outcome,
        RequestOutcome::MalformedResponse
    );
    // The connection is still usable.
    conn.call(&ping("2")).await.into_result().unwrap();
}

#[tokio::test]
async fn record_in_use_is_a_temporary_error_and_writes_nothing() {
    let org = Organisation::builtin_default();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    sim.inject_next("UpdatePatientRecord", Fault::RecordInUse);
    let mut conn = tcp(addr).await;
    let error = conn.call(&write("1")).await.into_result().unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(org.journal(&nhs(PATIENT)).is_empty());
    assert!(matches!(
        sim.request_log()[0].outcome,
        RequestOutcome::AnsweredWithError {
            permanent: false,
            ..
        }
    ));
    // The retry goes through.
    conn.call(&write("2")).await.into_result().unwrap();
    assert_eq!(org.journal(&nhs(PATIENT)).len(), 1);
}

#[tokio::test]
async fn a_client_not_logged_on_refuses_connections() {
    let org = Organisation::builtin_default();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut open = tcp(addr).await;
    open.call(&ping("1")).await.into_result().unwrap();
    sim.log_off();
    assert_eq!(sim.availability(), Availability::LoggedOff);
    assert!(matches!(open.send(&ping("2")).await, Answer::Closed));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    assert_eq!(
        sim.connect_in_memory().unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    sim.log_on();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tcp(addr)
        .await
        .call(&ping("3"))
        .await
        .into_result()
        .unwrap();
}

#[tokio::test]
async fn kill_closes_connections_even_mid_request_and_revive_brings_it_back() {
    let org = Organisation::builtin_default();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    sim.inject_next("GetFunctions", Fault::Delay(Duration::from_secs(30)));
    let mut busy = tcp(addr).await;
    busy.send_raw(&ping("1").encode(&Default::default()).unwrap())
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.kill();
    assert!(matches!(busy.read_answer().await, Answer::Closed));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    assert!(sim.connect_in_memory().is_err());
    assert_eq!(
        sim.request_log()[0].outcome,
        RequestOutcome::ConnectionClosed
    );
    sim.revive();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tcp(addr)
        .await
        .call(&ping("2"))
        .await
        .into_result()
        .unwrap();
    let mut memory = Conn::new(sim.connect_in_memory().unwrap());
    memory.call(&ping("3")).await.into_result().unwrap();
}

#[tokio::test(start_paused = true)]
async fn seeded_random_faults_replay_exactly() {
    async fn run(seed: u64) -> Vec<Option<Fault>> {
        let sim = Simulator::new(
            Organisation::builtin_default(),
            GatewayConfig::default().with_throttle(ThrottleConfig::relaxed()),
        )
        .unwrap();
        sim.set_random_faults(
            FaultProbabilities::none()
                .with_no_response(0.2)
                .with_record_in_use(0.2)
                .with_malformed_response(0.2),
            seed,
        );
        let mut conn = Conn::new(sim.connect_in_memory().unwrap());
        conn.wait = Duration::from_secs(1);
        for i in 0..30 {
            let mut search = patient_search::v1::Request::new();
            search.surname = Some("Ex".into());
            search.first_name = Some("A".into());
            let _ = conn.send(&request("dev", &i.to_string(), search)).await;
        }
        sim.request_log().into_iter().map(|r| r.fault).collect()
    }
    let a = run(11).await;
    assert_eq!(a.len(), 30);
    assert_eq!(a, run(11).await);
    assert_ne!(a, run(12).await);
    assert!(a.iter().any(Option::is_some));
    assert!(a.iter().any(Option::is_none));
}

#[tokio::test]
async fn blocked_devices_get_a_permanent_error() {
    let org = Organisation::builtin_default();
    let sim = Simulator::new(
        org.clone(),
        GatewayConfig::default()
            .with_throttle(ThrottleConfig::relaxed())
            .with_device_approval(DeviceApproval::Block),
    )
    .unwrap();
    let addr = sim
        .listen_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut conn = tcp(addr).await;
    let first = request("", "1", get_functions::v1::Request::new());
    let response = conn.call(&first).await;
    assert_eq!(response.header.device_id.as_str(), "");
    assert!(!response.into_result().unwrap_err().is_retryable());
    sim.set_device_approval(DeviceApproval::Approve);
    let device = conn.call(&first).await.header.device_id.as_str().to_owned();
    assert!(!device.is_empty());
    sim.block_device(&device);
    let blocked = conn
        .call(&request(&device, "2", get_functions::v1::Request::new()))
        .await;
    assert!(blocked.into_result().is_err());
}

#[tokio::test]
async fn unknown_device_ids_can_be_refused() {
    let sim = Simulator::new(
        Organisation::builtin_default(),
        GatewayConfig::default()
            .with_throttle(ThrottleConfig::relaxed())
            .with_reject_unknown_device_ids(true),
    )
    .unwrap();
    let mut conn = Conn::new(sim.connect_in_memory().unwrap());
    assert!(conn.call(&ping("1")).await.into_result().is_err());
    let device = conn
        .call(&request("", "2", get_functions::v1::Request::new()))
        .await
        .header
        .device_id
        .as_str()
        .to_owned();
    conn.call(&request(&device, "3", get_functions::v1::Request::new()))
        .await
        .into_result()
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn exit_client_with_restart_comes_back() {
    let sim = Simulator::new(
        Organisation::builtin_default(),
        GatewayConfig::default().with_throttle(ThrottleConfig::relaxed()),
    )
    .unwrap();
    let mut conn = Conn::new(sim.connect_in_memory().unwrap());
    let mut exit = systmone_api::exit_client::v1::Request::new();
    exit.restart = true;
    conn.call(&request("dev", "1", exit))
        .await
        .into_result()
        .unwrap();
    assert!(matches!(conn.read_answer().await, Answer::Closed));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.availability(), Availability::Killed);
    assert!(sim.connect_in_memory().is_err());
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(sim.availability(), Availability::Running);
    Conn::new(sim.connect_in_memory().unwrap())
        .call(&ping("2"))
        .await
        .into_result()
        .unwrap();
}
