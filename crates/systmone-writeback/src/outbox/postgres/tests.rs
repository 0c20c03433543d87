//! On the real PostgreSQL (`NHSI_TEST_POSTGRES_URL`), each test in its own schema.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::gateway::EventUid;
use crate::outbox::contract::{note, t};
use crate::outbox::shared::{Claim, ClaimRequest, Outbox, WorkerId};
use crate::outbox::{AuditEvent, AuditKind, NoteId, NoteStatus};
use crate::reference::NoteReference;

async fn outbox(prefix: &str, clock: LeaseClock) -> Option<(PostgresOutbox, String)> {
    let url = nhs_test_support::postgres_url()?;
    let url = nhs_test_support::fresh_postgres_schema(&url, prefix).await;
    let store = PostgresOutbox::connect(&url, PostgresConfig::default().with_lease_clock(clock))
        .await
        .unwrap();
    Some((store, url))
}

fn worker(name: &str) -> WorkerId {
    WorkerId::new(name).unwrap()
}

fn request(name: &str, now: DateTime<Utc>, lease_secs: u64) -> ClaimRequest {
    ClaimRequest {
        worker: worker(name),
        now,
        limit: 10,
        lease: Duration::from_secs(lease_secs),
    }
}

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn notes_round_trip_claims_record_and_audit() {
    let Some((store, _)) = outbox("wb_contract", LeaseClock::Caller).await else {
        return;
    };
    let a = store.accept(note(2), t(0)).await.unwrap();
    let b = store.accept(note(3), t(1)).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(a.reference, NoteReference::new(store.instance(), a.id.0));
    assert_eq!(store.get(a.id).await.unwrap().unwrap(), a);
    assert_eq!(store.get(a.id).await.unwrap().unwrap().note, note(2));
    assert_eq!(store.next_due(t(0)).await.unwrap(), Some(t(0)));

    let claimed = store.claim_due(&request("w1", t(0), 60)).await.unwrap();
    assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), vec![a.id]);
    let claim = claimed[0].claim.clone().unwrap();
    // Claimed: not claimable again, and next due when its lease ends.
    assert!(
        store
            .claim_due(&request("w2", t(5), 60))
            .await
            .unwrap()
            .len()
            == 1
    );
    assert!(
        store
            .claim_due(&request("w2", t(5), 60))
            .await
            .unwrap()
            .is_empty()
    );
    let mut filing = claimed[0].transition(
        NoteStatus::Filing,
        AuditEvent::new(AuditKind::WriteSent, "attempt 1"),
    );
    filing.attempts = 1;
    filing.verified = true;
    filing.last_attempt_on = chrono::NaiveDate::from_ymd_opt(2026, 11, 21);
    store.record(&claim, &filing, t(2), LEASE).await.unwrap();
    let stored = store.get(a.id).await.unwrap().unwrap();
    assert_eq!(stored.status, NoteStatus::Filing);
    assert_eq!(stored.attempts, 1);
    assert!(stored.verified);
    let filed = stored.transition(
        NoteStatus::Filed {
            event_uid: EventUid::new("3f9a1c0000000000"),
            task_uid: Some(EventUid::new("4e8b2d0000000000")),
        },
        AuditEvent::new(AuditKind::Filed, "EventUID 3f9a1c0000000000"),
    );
    store.record(&claim, &filed, t(3), LEASE).await.unwrap();
    store.release(&claim).await;
    assert_eq!(store.get(a.id).await.unwrap().unwrap().status, filed.status);
    let kinds: Vec<_> = store
        .audit_trail(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![AuditKind::Accepted, AuditKind::WriteSent, AuditKind::Filed]
    );
    assert_eq!(store.entries().await.unwrap().len(), 2);
    assert!(store.get(NoteId(999)).await.unwrap().is_none());
    let ghost = Claim::new(NoteId(999), worker("w1"), 1);
    assert!(matches!(
        store.record(&ghost, &filed, t(4), LEASE).await,
        Err(WritebackError::UnknownNote(999))
    ));
}

#[tokio::test]
async fn a_worker_whose_lease_was_taken_over_can_change_nothing() {
    let Some((store, _)) = outbox("wb_fence", LeaseClock::Caller).await else {
        return;
    };
    let a = store.accept(note(2), t(0)).await.unwrap();
    let first = store.claim_due(&request("w1", t(0), 60)).await.unwrap();
    let old = first[0].claim.clone().unwrap();
    assert_eq!(
        store.next_due(t(10)).await.unwrap(),
        Some(t(60)),
        "next due when the lease ends"
    );
    // Within the lease nobody else gets the note (nor another note of that patient).
    store.accept(note(2), t(0)).await.unwrap();
    assert!(
        store
            .claim_due(&request("w2", t(59), 60))
            .await
            .unwrap()
            .is_empty()
    );
    // w1 stalls past its lease; w2 takes the note over with a higher token.
    let second = store.claim_due(&request("w2", t(61), 60)).await.unwrap();
    assert_eq!(second[0].id, a.id);
    let new = second[0].claim.clone().unwrap();
    assert!(new.token > old.token);
    let filing = first[0].transition(
        NoteStatus::Filing,
        AuditEvent::new(AuditKind::WriteSent, "attempt 1"),
    );
    assert!(matches!(
        store.record(&old, &filing, t(62), LEASE).await,
        Err(WritebackError::LeaseLost { .. })
    ));
    // The stale worker's release does not free the new owner's claim either.
    store.release(&old).await;
    assert!(
        store
            .claim_due(&request("w3", t(63), 60))
            .await
            .unwrap()
            .is_empty()
    );
    store.record(&new, &filing, t(63), LEASE).await.unwrap();
    let trail = store.audit_trail(a.id).await.unwrap();
    assert_eq!(trail.len(), 2, "only the owner's change was recorded");
}

#[tokio::test]
async fn leases_run_on_the_database_clock_whatever_the_workers_clocks_say() {
    let Some((store, _)) = outbox("wb_dbclock", LeaseClock::Database).await else {
        return;
    };
    let a = store.accept(note(2), t(0)).await.unwrap();
    let now = Utc::now();
    let claimed = store.claim_due(&request("w1", now, 2)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // A worker whose clock runs an hour fast still cannot take a live lease.
    let skewed = now + chrono::Duration::hours(1);
    assert!(
        store
            .claim_due(&request("w2", skewed, 2))
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let taken = store.claim_due(&request("w2", now, 2)).await.unwrap();
    assert_eq!(
        taken[0].id, a.id,
        "taken over once the database says it expired"
    );
}

#[tokio::test]
async fn concurrent_claims_never_share_a_note() {
    let Some((store, url)) = outbox("wb_skip", LeaseClock::Caller).await else {
        return;
    };
    for i in 0..40 {
        store.accept(note(100 + i), t(0)).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        // Separate pools, as separate processes would have.
        let other = PostgresOutbox::connect(
            &url,
            PostgresConfig::default().with_lease_clock(LeaseClock::Caller),
        )
        .await
        .unwrap();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = other
                    .claim_due(&request(&format!("w{w}"), t(1), 60))
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|e| e.id));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count, "no note claimed twice");
    assert_eq!(count, 40);
}

#[tokio::test]
async fn one_owner_per_gateway_and_takeover_after_expiry() {
    let Some((store, _)) = outbox("wb_gw", LeaseClock::Caller).await else {
        return;
    };
    let lease = Duration::from_secs(30);
    let a = store
        .acquire_gateway("gateway-1", &worker("w1"), lease, t(0))
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .acquire_gateway("gateway-1", &worker("w2"), lease, t(29))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.renew_gateway(&a, lease, t(20)).await.unwrap());
    assert!(
        store
            .acquire_gateway("gateway-1", &worker("w2"), lease, t(49))
            .await
            .unwrap()
            .is_none(),
        "renewed until t(50)"
    );
    let b = store
        .acquire_gateway("gateway-1", &worker("w2"), lease, t(50))
        .await
        .unwrap()
        .unwrap();
    assert!(b.token > a.token);
    assert!(
        !store.renew_gateway(&a, lease, t(51)).await.unwrap(),
        "the old owner is fenced"
    );
    store.release_gateway(&a).await.unwrap();
    let owners = store.gateway_owners().await.unwrap();
    assert_eq!(
        owners[0].1.as_deref(),
        Some("w2"),
        "a stale release frees nothing"
    );
    store.release_gateway(&b).await.unwrap();
    assert!(
        store
            .acquire_gateway("gateway-1", &worker("w3"), lease, t(52))
            .await
            .unwrap()
            .is_some()
    );
}

/// A TCP relay to the database that the test can cut (every connection dropped, nothing
/// listening) and restore on the same port.
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let conns = Arc::clone(&tasks);
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                lock(&conns).push(conn);
            }
        });
        lock(&tasks).push(accept);
        Self { port, tasks }
    }

    fn cut(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

#[tokio::test]
async fn a_lost_connection_is_a_retryable_error_and_acknowledges_nothing() {
    let Some(base) = nhs_test_support::postgres_url() else {
        return;
    };
    if !base.contains("127.0.0.1:5432") {
        eprintln!("skipped: the relay test expects the database at 127.0.0.1:5432");
        return;
    }
    let url = nhs_test_support::fresh_postgres_schema(&base, "wb_lost").await;
    let relay = Relay::start(0).await;
    let relayed = url.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", relay.port));
    let store = PostgresOutbox::connect(&relayed, PostgresConfig::default().with_pool_size(2))
        .await
        .unwrap();
    store.accept(note(2), t(0)).await.unwrap();
    relay.cut();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..3 {
        let error = store.accept(note(3 + i), t(1)).await.unwrap_err();
        assert!(
            matches!(error, WritebackError::DatabaseUnavailable(_)),
            "{error:?}"
        );
        assert!(error.is_retryable());
    }
    // The database is back: the pool reconnects; none of the refused notes is in the outbox.
    let _relay = Relay::start(relay.port).await;
    store.accept(note(9), t(2)).await.unwrap();
    let direct = PostgresOutbox::connect(&url, PostgresConfig::default())
        .await
        .unwrap();
    let entries = direct.entries().await.unwrap();
    assert_eq!(entries.len(), 2, "only the acknowledged notes");
    assert_eq!(entries[1].note, note(9));
}

#[tokio::test]
async fn concurrent_accepts_share_group_commits() {
    let Some((store, _)) = outbox("wb_group", LeaseClock::Caller).await else {
        return;
    };
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { store.accept(note(i), t(0)).await },
        ));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap().id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 64);
    for id in ids {
        let entry = store.get(id).await.unwrap().unwrap();
        assert_eq!(entry.reference, NoteReference::new(store.instance(), id.0));
    }
}

#[tokio::test]
async fn an_engine_whose_claim_was_taken_over_sends_nothing() {
    use crate::engine::{EngineConfig, WritebackEngine};
    use crate::fake::{FakeGateways, Fault};
    use crate::verify::RecordDemographics;
    let Some((first, url)) = outbox("wb_engine_fence", LeaseClock::Database).await else {
        return;
    };
    let second = PostgresOutbox::connect(&url, PostgresConfig::default())
        .await
        .unwrap();
    let record = RecordDemographics::new(
        nhs_identifiers::NhsNumber::fictitious(2),
        "Example",
        chrono::NaiveDate::from_ymd_opt(1970, 5, 14),
        crate::note::Sex::Female,
    );
    let gateways = Arc::new(FakeGateways::new().with_patient(record));
    // The first engine's demographics read takes 300 ms; its claim lasts 150 ms.
    gateways.script(&[Fault::Slow]);
    let config = |name: &str| {
        EngineConfig::default()
            .with_worker(worker(name))
            .with_lease(Duration::from_millis(150))
    };
    let a = WritebackEngine::new(
        first,
        Arc::clone(&gateways),
        crate::TokioWallClock::from_system_time(),
        config("a"),
    );
    let b = WritebackEngine::new(
        second,
        Arc::clone(&gateways),
        crate::TokioWallClock::from_system_time(),
        config("b"),
    );
    let accepted = a.submit(note(2)).await.unwrap();
    let slow = tokio::spawn({
        let a = a.clone();
        async move { a.process_due().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The claim expired on the database's clock: the second engine takes the note and files it.
    b.run_until_settled().await.unwrap();
    // The first engine's read comes back; its next change is refused, so it writes nothing.
    assert_eq!(slow.await.unwrap().unwrap(), 1);
    assert_eq!(gateways.writes_sent(), 1, "only the new owner wrote");
    assert_eq!(gateways.journal().len(), 1);
    assert!(matches!(
        a.status(accepted.id).await.unwrap().unwrap(),
        NoteStatus::Filed { .. }
    ));
}

#[tokio::test]
async fn workers_connecting_beside_running_accepts_do_not_deadlock_them() {
    let Some((store, url)) = outbox("wb_connect", LeaseClock::Caller).await else {
        return;
    };
    let accepting = tokio::spawn({
        let store = store.clone();
        async move {
            for i in 0..150 {
                store.accept(note(i), t(0)).await?;
            }
            Ok::<_, WritebackError>(())
        }
    });
    // Each connect used to run the schema's DDL, whose CREATE INDEX IF NOT EXISTS locks the
    // table an accept is writing: a deadlock that failed the accept.
    for _ in 0..10 {
        PostgresOutbox::connect(&url, PostgresConfig::default().with_pool_size(1))
            .await
            .unwrap();
    }
    accepting.await.unwrap().unwrap();
    assert_eq!(store.entries().await.unwrap().len(), 150);
}
