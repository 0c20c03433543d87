//! SystmOne's real throttle limits under paused time over in-memory streams, and several
//! gateways sharing one organisation over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use common::{Answer, Conn, nhs, relaxed_tcp_gateway, request, tcp};
use systmone_api::get_patient_record::v1::{Filter, RecordSection};
use systmone_api::record::{Event, Narrative};
use systmone_api::{RecordState, get_functions, get_patient_record, update_patient_record};
use systmone_sim::log::shortest_gap;
use systmone_sim::{
    GatewayConfig, ManualClock, Organisation, RecordHolder, RequestOutcome, Simulator,
    ThrottleConfig,
};
use tokio::time::{Instant, sleep_until};

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
}

#[tokio::test(start_paused = true)]
async fn real_limits_drop_requests_silently() {
    let org = Organisation::builtin_default()
        .with_clock(Arc::new(ManualClock::new(at("2026-03-03T10:00:00"))));
    let sim = Simulator::new(org, GatewayConfig::default()).unwrap();
    let mut conn = Conn::new(sim.connect_in_memory().unwrap());
    conn.wait = Duration::from_millis(100);
    let patient = nhs("9990001006");
    let full = |uid: &str| {
        request(
            "d",
            uid,
            get_patient_record::v1::Request::new(patient, None),
        )
    };
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);

    // 1 request per second across the client.
    conn.call(&full("1")).await.into_result().unwrap();
    sleep_until(ms(500)).await;
    assert!(matches!(
        conn.send(&request("d", "2", get_functions::v1::Request::new()))
            .await,
        Answer::Silence
    ));
    // The dropped request did not restart the window.
    sleep_until(ms(1000)).await;
    conn.call(&request("d", "3", get_functions::v1::Request::new()))
        .await
        .into_result()
        .unwrap();

    // A full GetPatientRecord within 30 s of the last one: dropped.
    sleep_until(ms(2000)).await;
    assert!(matches!(conn.send(&full("4")).await, Answer::Silence));
    // Exempt: demographics only, and entry dates = today (the organisation's clock).
    sleep_until(ms(3000)).await;
    conn.call(&request(
        "d",
        "5",
        get_patient_record::v1::Request::demographics(patient),
    ))
    .await
    .into_result()
    .unwrap();
    sleep_until(ms(4000)).await;
    let today = at("2026-03-03T00:00:00").date();
    let recent = get_patient_record::v1::Request::new(
        patient,
        Some(Filter::sections([RecordSection::Narrative]).with_entry_date(today)),
    );
    conn.call(&request("d", "6", recent))
        .await
        .into_result()
        .unwrap();
    // Yesterday's entries are not exempt.
    sleep_until(ms(5000)).await;
    let yesterday = get_patient_record::v1::Request::new(
        patient,
        Some(
            Filter::sections([RecordSection::Narrative]).with_entry_date(today.pred_opt().unwrap()),
        ),
    );
    assert!(matches!(
        conn.send(&request("d", "7", yesterday)).await,
        Answer::Silence
    ));
    // 30 s after the last full read: allowed again.
    sleep_until(ms(30_000)).await;
    conn.call(&full("8")).await.into_result().unwrap();

    let log = sim.request_log();
    let outcomes: Vec<bool> = log
        .iter()
        .map(|r| r.outcome == RequestOutcome::Throttled)
        .collect();
    assert_eq!(
        outcomes,
        [false, true, false, true, false, false, true, false]
    );
    assert_eq!(log[1].arrival - log[0].arrival, Duration::from_millis(500));
    let answered: Vec<_> = log.into_iter().filter(|r| r.answered()).collect();
    assert!(shortest_gap(&answered, None).unwrap() >= Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn throttle_is_per_gateway_and_kept_across_connections() {
    let org = Organisation::builtin_default();
    let a = Simulator::new(org.clone(), GatewayConfig::for_user("gateway0001")).unwrap();
    let b = Simulator::new(org.clone(), GatewayConfig::for_user("gateway0002")).unwrap();
    let ping = |uid: &str| request("d", uid, get_functions::v1::Request::new());
    let mut a1 = Conn::new(a.connect_in_memory().unwrap());
    a1.call(&ping("1")).await.into_result().unwrap();
    // A new connection to the same gateway shares its throttle...
    let mut a2 = Conn::new(a.connect_in_memory().unwrap());
    a2.wait = Duration::from_millis(100);
    assert!(matches!(a2.send(&ping("2")).await, Answer::Silence));
    // ...while another gateway has its own.
    let mut b1 = Conn::new(b.connect_in_memory().unwrap());
    b1.call(&ping("3")).await.into_result().unwrap();
    assert_eq!(a.request_log().len(), 2);
    assert_eq!(b.request_log().len(), 1);
}

fn note(
    uid: &str,
    device: &str,
    patient: &str,
    leave_open: bool,
) -> systmone_api::ClientIntegrationRequest {
    let mut update = update_patient_record::v1::Request::new(nhs(patient)).with_event(
        Event::new(vec![Narrative::new(["Reviewed."]).into()]).with_user_name("jbloggs1234"),
    );
    update.leave_record_open = leave_open;
    request(device, uid, update)
}

#[tokio::test]
async fn gateways_share_one_organisation_but_not_their_identity() {
    let org = Organisation::builtin_default();
    let (a, addr_a) = relaxed_tcp_gateway(&org).await;
    let b = Simulator::new(
        org.clone(),
        GatewayConfig::for_user("gateway0002").with_throttle(ThrottleConfig::relaxed()),
    )
    .unwrap();
    let addr_b = b.listen_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
    assert_eq!(b.local_addr(), Some(addr_b));
    assert_ne!(a.gateway_id(), b.gateway_id());
    let mut conn_a = tcp(addr_a).await;
    let mut conn_b = tcp(addr_b).await;
    let first = request("", "0", get_functions::v1::Request::new());
    let device_a = conn_a
        .call(&first)
        .await
        .header
        .device_id
        .as_str()
        .to_owned();
    let device_b = conn_b
        .call(&first)
        .await
        .header
        .device_id
        .as_str()
        .to_owned();
    assert_ne!(device_a, device_b);
    assert_eq!(a.allocated_devices(), vec![device_a.clone()]);
    assert_eq!(b.allocated_devices(), vec![device_b.clone()]);

    let patient = "9990001049";
    conn_a
        .call(&note("1", &device_a, patient, false))
        .await
        .into_result()
        .unwrap();
    conn_b
        .call(&note("2", &device_b, patient, false))
        .await
        .into_result()
        .unwrap();
    let journal = org.journal(&nhs(patient));
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[0].entered_by, "gateway0001");
    assert_eq!(journal[1].entered_by, "gateway0002");
    // B reads what A wrote.
    let read = conn_b
        .call(&request(
            &device_b,
            "3",
            get_patient_record::v1::Request::new(nhs(patient), None),
        ))
        .await
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(read.events.len(), 2);
    assert_eq!(a.request_log().len(), 2);
    assert_eq!(b.request_log().len(), 3);
}

#[tokio::test]
async fn leave_record_open_locks_the_record_for_other_gateways() {
    let org = Organisation::builtin_default();
    let (a, addr_a) = relaxed_tcp_gateway(&org).await;
    let b = Simulator::new(
        org.clone(),
        GatewayConfig::for_user("gateway0002").with_throttle(ThrottleConfig::relaxed()),
    )
    .unwrap();
    let mut conn_a = tcp(addr_a).await;
    let mut conn_b = Conn::new(b.connect_in_memory().unwrap());
    let patient = "9990001022";

    // A writes with LeaveRecordOpen: the record opens visibly there, the change is pending.
    let written = conn_a
        .call(&note("1", "da", patient, true))
        .await
        .into_typed::<update_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(written.record_state, Some(RecordState::Open));
    assert_eq!(
        org.record_holder(&nhs(patient)),
        Some(RecordHolder::Gateway {
            id: a.gateway_id(),
            visible: true
        })
    );
    assert!(!org.journal(&nhs(patient))[0].committed);
    assert!(
        org.journal_view(&nhs(patient))
            .unwrap()
            .contains("(not saved)")
    );

    // B may read it but not write to it: a temporary error.
    let read = conn_b
        .call(&request(
            "db",
            "2",
            get_patient_record::v1::Request::demographics(nhs(patient)),
        ))
        .await
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(read.record_state, Some(RecordState::Open));
    let refused = conn_b
        .call(&note("3", "db", patient, false))
        .await
        .into_result()
        .unwrap_err();
    assert!(refused.is_retryable());
    let refused = conn_b
        .call(&note("4", "db", patient, true))
        .await
        .into_result()
        .unwrap_err();
    assert!(refused.is_retryable());
    // A keeps working on its open record.
    conn_a
        .call(&note("5", "da", patient, true))
        .await
        .into_result()
        .unwrap();

    // The user saves: changes commit, the record is free again.
    org.close_record(&nhs(patient));
    assert!(org.journal(&nhs(patient)).iter().all(|e| e.committed));
    conn_b
        .call(&note("6", "db", patient, false))
        .await
        .into_result()
        .unwrap();
    assert_eq!(org.journal(&nhs(patient)).len(), 3);

    // A person at another PC holding the record blocks background writes too.
    org.open_record_elsewhere(&nhs(patient));
    let refused = conn_a
        .call(&note("7", "da", patient, false))
        .await
        .into_result()
        .unwrap_err();
    assert!(refused.is_retryable());
    org.close_record(&nhs(patient));
    conn_a
        .call(&note("8", "da", patient, false))
        .await
        .into_result()
        .unwrap();
}

#[tokio::test]
async fn configuration_mistakes_are_typed_errors() {
    let org = Organisation::builtin_default();
    // User names are case-sensitive.
    assert!(matches!(
        Simulator::new(org.clone(), GatewayConfig::for_user("Gateway0001")),
        Err(systmone_sim::SimError::UnknownGatewayUser(_))
    ));
    let sim = Simulator::new(org, GatewayConfig::default()).unwrap();
    assert_eq!(sim.user_name(), "gateway0001");
    assert_eq!(sim.local_addr(), None);
}
