#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every fault the simulator can inject leads to the documented outcome (paused time,
//! in-memory connections).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use systmone_client::{ClientError, FailureCause, FileDeviceIdStore, Retry};
use systmone_sim::{DeviceApproval, Fault, RequestOutcome};

#[tokio::test(start_paused = true)]
async fn no_response_to_a_read_is_retryable_and_the_next_read_works() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.inject_next("GetPatientRecord", Fault::NoResponse);
    let error = client.call(demographics()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::ReadFailed {
                cause: FailureCause::NoResponse { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::Safe);
    client.call(demographics()).await.unwrap();
    assert_eq!(
        sim.connections_accepted(),
        2,
        "a timed-out connection is not reused"
    );
}

#[tokio::test(start_paused = true)]
async fn no_response_to_a_write_is_outcome_unknown_and_not_retried() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.inject_next("UpdatePatientRecord", Fault::NoResponse);
    let error = client.call(note("no-response")).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::OutcomeUnknown {
                cause: FailureCause::NoResponse { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::CheckFirst);
    assert!(error.is_outcome_unknown());
    let writes = sim
        .request_log()
        .iter()
        .filter(|r| r.function.as_deref() == Some("UpdatePatientRecord"))
        .count();
    assert_eq!(writes, 1, "the client never resends a write");
    assert_eq!(notes_with(&org, "no-response"), 0);
}

#[tokio::test(start_paused = true)]
async fn close_before_apply_on_a_write_is_outcome_unknown() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.inject_next("UpdatePatientRecord", Fault::CloseBeforeApply);
    let error = client.call(note("close-before")).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::OutcomeUnknown {
                cause: FailureCause::ConnectionLost { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        notes_with(&org, "close-before"),
        0,
        "nothing was applied, but the client cannot know"
    );
    client.call(note("after")).await.unwrap();
    assert_eq!(notes_with(&org, "after"), 1);
}

#[tokio::test(start_paused = true)]
async fn close_after_apply_on_a_write_is_outcome_unknown_and_the_write_is_there() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.inject_next("UpdatePatientRecord", Fault::CloseAfterApply);
    let error = client.call(note("close-after")).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::OutcomeUnknown {
                cause: FailureCause::ConnectionLost { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::CheckFirst);
    assert_eq!(
        notes_with(&org, "close-after"),
        1,
        "applied exactly once; the client did not resend"
    );
}

#[tokio::test(start_paused = true)]
async fn connection_lost_during_a_read_is_retryable() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.inject_next("PatientSearch", Fault::CloseBeforeApply);
    let error = client.call(search()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::ReadFailed {
                cause: FailureCause::ConnectionLost { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::Safe);
    client.call(search()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn malformed_response_is_read_failed_or_outcome_unknown() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.inject_next("PatientSearch", Fault::MalformedResponse);
    let error = client.call(search()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::ReadFailed {
                cause: FailureCause::Malformed { .. },
                ..
            }
        ),
        "{error}"
    );
    sim.inject_next("UpdatePatientRecord", Fault::MalformedResponse);
    let error = client.call(note("malformed")).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::OutcomeUnknown {
                cause: FailureCause::Malformed { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(notes_with(&org, "malformed"), 1);
    client.call(search()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn delayed_response_within_the_timeout_succeeds_beyond_it_times_out() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.inject_next("PatientSearch", Fault::Delay(Duration::from_secs(5)));
    let started = tokio::time::Instant::now();
    client.call(search()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(5));
    // test_config() sets a 10 s timeout.
    sim.inject_next("UpdatePatientRecord", Fault::Delay(Duration::from_secs(15)));
    let error = client.call(note("slow")).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::OutcomeUnknown { cause: FailureCause::NoResponse { waited }, .. } if *waited == Duration::from_secs(10)),
        "{error}"
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(notes_with(&org, "slow"), 1, "the slow write was applied");
    client.call(search()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn record_in_use_is_a_transient_remote_error() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.inject_next("UpdatePatientRecord", Fault::RecordInUse);
    let error = client.call(note("in-use")).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::Remote {
                permanent: false,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::Later);
    assert!(error.is_transient_remote());
    assert_eq!(notes_with(&org, "in-use"), 0);
    client.call(note("in-use")).await.unwrap();
    assert_eq!(notes_with(&org, "in-use"), 1);
}

#[tokio::test(start_paused = true)]
async fn unknown_author_is_a_permanent_remote_error() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    let event =
        systmone_api::record::Event::new(vec![systmone_api::record::Narrative::new(["x"]).into()])
            .with_user_name("JBLOGGS1234");
    let request =
        systmone_api::update_patient_record::v1::Request::new(fixture_patient()).with_event(event);
    let error = client.call(request).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::Remote {
                permanent: true,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::Never);
}

#[tokio::test(start_paused = true)]
async fn not_logged_on_means_never_sent_then_backoff_then_recovery() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    sim.log_off();
    let error = client.call(note("logged-off")).await.unwrap_err();
    assert!(matches!(&error, ClientError::Connect { .. }), "{error}");
    assert!(error.never_sent());
    assert_eq!(error.retry(), Retry::Safe);
    let error = client.call(note("logged-off")).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::GatewayUnavailable { .. }),
        "{error}"
    );
    assert!(error.never_sent());
    let status = client.status();
    assert!(
        !status.healthy && status.unavailable_for.is_some(),
        "{status:?}"
    );
    sim.log_on();
    tokio::time::sleep(Duration::from_secs(2)).await;
    client.call(note("logged-off")).await.unwrap();
    assert_eq!(notes_with(&org, "logged-off"), 1);
    assert!(client.status().healthy);
}

#[tokio::test(start_paused = true)]
async fn killed_gateway_refuses_and_revives() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    client.call(search()).await.unwrap();
    sim.kill();
    let error = client.call(note("killed")).await.unwrap_err();
    assert!(
        error.never_sent(),
        "an idle connection the gateway closed is noticed before sending: {error}"
    );
    sim.revive();
    tokio::time::sleep(Duration::from_secs(2)).await;
    client.call(note("killed")).await.unwrap();
    assert_eq!(notes_with(&org, "killed"), 1);
}

#[tokio::test(start_paused = true)]
async fn device_id_is_allocated_on_first_contact_and_persisted() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gw-1.device-id");
    let store = Arc::new(FileDeviceIdStore::new(&path));
    let client = builder("gw-1", &sim)
        .device_store(store.clone())
        .spawn()
        .unwrap();
    assert!(!client.status().has_device_id);
    client.call(get_functions()).await.unwrap();
    client.call(search()).await.unwrap();
    assert!(client.status().has_device_id);
    let allocated = sim.allocated_devices();
    assert_eq!(allocated.len(), 1);
    assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), allocated[0]);
    client.shutdown().await;
    // A new process with the same store starts with the stored id (and, its start counting
    // as a send, keeps the gateway's 1 s without any help).
    let again = builder("gw-1", &sim).device_store(store).spawn().unwrap();
    again.call(search()).await.unwrap();
    let log = sim.request_log();
    let ids: Vec<&str> = log
        .iter()
        .map(|r| r.device_id.as_deref().unwrap_or("?"))
        .collect();
    assert_eq!(ids, vec!["", allocated[0].as_str(), allocated[0].as_str()]);
    assert_eq!(sim.allocated_devices().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn blocked_device_is_a_permanent_remote_error() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    sim.set_device_approval(DeviceApproval::Block);
    let client = client("gw-1", &sim);
    let error = client.call(get_functions()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::Remote {
                permanent: true,
                ..
            }
        ),
        "{error}"
    );
    assert!(!client.status().has_device_id);
}

#[tokio::test(start_paused = true)]
async fn per_function_timeouts_apply() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let mut config = test_config();
    config.timeouts = config
        .timeouts
        .with("PatientSearch", Duration::from_secs(2));
    let client = builder("gw-1", &sim).config(config).spawn().unwrap();
    client.call(get_functions()).await.unwrap();
    sim.inject_next("PatientSearch", Fault::Delay(Duration::from_secs(3)));
    let error = client.call(search()).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::ReadFailed { cause: FailureCause::NoResponse { waited }, .. } if *waited == Duration::from_secs(2)),
        "{error}"
    );
    sim.inject_next("GetPatientRecord", Fault::Delay(Duration::from_secs(3)));
    client.call(demographics()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_fails_queued_requests_as_never_sent() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    client.call(get_functions()).await.unwrap();
    let mut waiting = Vec::new();
    for index in 0..3 {
        let client = client.clone();
        waiting.push(tokio::spawn(async move {
            client.call(note(&format!("queued-{index}"))).await
        }));
    }
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
    client.shutdown().await;
    let mut never_sent = 0;
    for handle in waiting {
        match handle.await.unwrap() {
            Ok(_) => {}
            Err(error) => {
                assert!(matches!(error, ClientError::ShutDown { .. }), "{error}");
                assert!(error.never_sent());
                never_sent += 1;
            }
        }
    }
    assert!(never_sent >= 2, "queued behind the throttle, so not sent");
    let error = client.call(search()).await.unwrap_err();
    assert!(matches!(error, ClientError::ShutDown { .. }));
    assert!(client.status().shut_down);
}

#[tokio::test(start_paused = true)]
async fn a_request_withdrawn_before_sending_is_never_sent() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    client.call(get_functions()).await.unwrap();
    // The throttle holds the next request for 1 s; give up after 100 ms.
    let withdrawn =
        tokio::time::timeout(Duration::from_millis(100), client.call(note("withdrawn"))).await;
    assert!(withdrawn.is_err());
    client.call(search()).await.unwrap();
    let functions: Vec<String> = sim
        .request_log()
        .iter()
        .filter_map(|r| r.function.clone())
        .collect();
    assert_eq!(functions, vec!["GetFunctions", "PatientSearch"]);
    assert_eq!(notes_with(&org, "withdrawn"), 0);
    assert!(
        sim.request_log()
            .iter()
            .all(|r| r.outcome == RequestOutcome::Answered)
    );
}

/// Under a seeded random schedule of every fault mode, each result matches what the simulator
/// did with the request (read from its log, in order: calls are sequential).
#[tokio::test(start_paused = true)]
async fn random_faults_each_lead_to_the_documented_outcome() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    sim.set_random_faults(
        systmone_sim::FaultProbabilities::uniform(0.08, Duration::from_secs(3)),
        2026,
    );
    let client = client("gw-1", &sim);
    let mut results = Vec::new();
    for index in 0..150 {
        let request = if index % 2 == 0 {
            note(&format!("random-{index}"))
        } else {
            search()
        };
        results.push((index, client.call(request).await));
    }
    let log = sim.request_log();
    let mut records = log.iter();
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for (index, result) in &results {
        let writes = index % 2 == 0;
        if let Err(error) = result
            && error.never_sent()
        {
            *seen.entry("never sent").or_default() += 1;
            continue;
        }
        let record = records.next().expect("a sent request is in the log");
        match (result, &record.outcome) {
            (Ok(_), RequestOutcome::Answered) => *seen.entry("ok").or_default() += 1,
            (
                Err(ClientError::Remote {
                    permanent: false, ..
                }),
                RequestOutcome::AnsweredWithError {
                    permanent: false, ..
                },
            ) => {
                *seen.entry("record in use").or_default() += 1;
            }
            (
                Err(ClientError::OutcomeUnknown { .. }),
                RequestOutcome::NoResponse
                | RequestOutcome::ConnectionClosed
                | RequestOutcome::MalformedResponse,
            ) if writes => {
                *seen.entry("outcome unknown").or_default() += 1;
            }
            (
                Err(ClientError::ReadFailed { .. }),
                RequestOutcome::NoResponse
                | RequestOutcome::ConnectionClosed
                | RequestOutcome::MalformedResponse,
            ) if !writes => {
                *seen.entry("read failed").or_default() += 1;
            }
            (result, outcome) => {
                panic!("request {index}: {result:?} but the simulator says {outcome:?}")
            }
        }
        if writes {
            let applied = notes_with(&org, &format!("random-{index}"));
            let expected = match (&result, &record.fault) {
                (Ok(_), _) => 1,
                (Err(_), Some(Fault::CloseAfterApply | Fault::MalformedResponse)) => 1,
                (Err(_), _) => 0,
            };
            assert_eq!(
                applied, expected,
                "request {index}: {result:?} {:?}",
                record.fault
            );
        }
    }
    assert!(records.next().is_none(), "nothing was sent twice");
    assert!(
        log.iter().all(|r| r.outcome != RequestOutcome::Throttled),
        "never throttled"
    );
    println!("{seen:?}");
    for outcome in ["ok", "record in use", "outcome unknown", "read failed"] {
        assert!(
            seen.contains_key(outcome),
            "schedule exercised {outcome}: {seen:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_invalid_request_is_refused_before_it_is_queued() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    // Past the start hold (a new client's start counts as a send), so the line is open.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut one_criterion = systmone_api::patient_search::v1::Request::new();
    one_criterion.surname = Some("Example".to_owned());
    let error = client.call(one_criterion).await.unwrap_err();
    assert!(matches!(&error, ClientError::Encode { .. }), "{error}");
    assert!(error.never_sent());
    assert_eq!(error.retry(), Retry::Never);
    assert!(sim.request_log().is_empty());
    let started = tokio::time::Instant::now();
    client.call(search()).await.unwrap();
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "no throttle slot was spent on it"
    );
}

/// A store whose first save fails.
#[derive(Debug, Default)]
struct FlakyStore {
    saves: std::sync::Mutex<Vec<Result<String, ()>>>,
}

impl systmone_client::DeviceIdStore for FlakyStore {
    fn load(&self) -> std::io::Result<Option<String>> {
        Ok(None)
    }
    fn save(&self, device_id: &str) -> std::io::Result<()> {
        let mut saves = self.saves.lock().unwrap();
        if saves.is_empty() {
            saves.push(Err(()));
            return Err(std::io::Error::other("disk full"));
        }
        saves.push(Ok(device_id.to_owned()));
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_device_id_that_cannot_be_stored_never_fails_the_write_that_brought_it() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let store = Arc::new(FlakyStore::default());
    let client = builder("gw-1", &sim)
        .device_store(store.clone())
        .spawn()
        .unwrap();
    client.call(note("first-contact")).await.unwrap();
    assert_eq!(notes_with(&org, "first-contact"), 1);
    client.call(search()).await.unwrap();
    let allocated = sim.allocated_devices();
    assert_eq!(allocated.len(), 1, "the id was kept in memory and reused");
    let saves = store.saves.lock().unwrap().clone();
    assert_eq!(
        saves,
        vec![Err(()), Ok(allocated[0].clone())],
        "saving was retried"
    );
}
