#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property: whatever sequence of (re)delivered webhooks arrives, each task is completed at
//! most once, only by an audit of its own type, ward and local date, and nothing else changes;
//! and the matcher's index always agrees with a linear scan of the tasks.

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use ward_assurance::*;

const TYPES: [AuditType; 3] = [
    AuditType::FridgeTemperatures,
    AuditType::FireSafety,
    AuditType::ControlledDrugs,
];
const WARDS: [&str; 3] = ["Ward A", "Ward B", "Ward C"];
const DATES: [&str; 3] = ["2026-06-15", "2026-06-16", "2026-06-17"];

#[derive(Debug, Clone)]
struct Audit {
    t: usize,
    w: usize,
    d: usize,
    hour: u32,
    staff: usize,
}

fn audit() -> impl Strategy<Value = Audit> {
    (0..3usize, 0..3usize, 0..3usize, 0..24u32, 0..2usize).prop_map(|(t, w, d, hour, staff)| {
        Audit {
            t,
            w,
            d,
            hour,
            staff,
        }
    })
}

/// A delivery: which audit, and whether this copy names another ward (a tampered or
/// mis-mapped redelivery) or comes as the raw dashboard webhook.
fn delivery() -> impl Strategy<Value = (usize, Option<usize>, bool)> {
    (
        0..6usize,
        prop::option::weighted(0.2, 0..3usize),
        any::<bool>(),
    )
}

fn body(id: usize, a: &Audit, ward_override: Option<usize>, as_webhook: bool) -> Vec<u8> {
    let ward = WARDS[ward_override.unwrap_or(a.w)];
    // June is BST: a local time at +01:00 always falls on DATES[d] in Europe/London.
    let completed_at = format!("{}T{:02}:30:00+01:00", DATES[a.d], a.hour);
    let staff = ["S1", "S2"][a.staff];
    let person = serde_json::json!({"name": "Alex Example", "staffId": staff});
    let value = if as_webhook {
        serde_json::json!({"eventType": "AUDIT_COMPLETED", "audit": {
            "id": format!("AUD-{id}"), "type": TYPES[a.t].dashboard_label(), "ward": ward,
            "completedBy": person, "completedAt": completed_at, "values": {"n": id}}})
    } else {
        serde_json::json!({"auditType": TYPES[a.t].hub_code(), "ward": ward, "completedBy": person,
            "completedAt": completed_at, "auditId": format!("AUD-{id}"), "values": {"n": id}})
    };
    serde_json::to_vec(&value).unwrap()
}

fn tasks() -> impl Strategy<Value = Vec<WardTask>> {
    prop::collection::vec((0..3usize, 0..3usize, 0..3usize, 0..4usize), 0..40).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (t, w, d, s))| {
                let status = match s {
                    0 | 1 => TaskStatus::Pending,
                    2 => TaskStatus::Completed,
                    _ => TaskStatus::Cancelled,
                };
                task(&format!("T{i}"), TYPES[t], WARDS[w], DATES[d]).with_status(status)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn redeliveries_complete_each_task_at_most_once(
        tasks in tasks(),
        audits in prop::collection::vec(audit(), 6),
        deliveries in prop::collection::vec(delivery(), 1..30),
    ) {
        let store = InMemoryTaskStore::from_tasks(tasks).unwrap();
        let mut access = StaffWardAccess::new();
        for w in WARDS {
            access.grant(StaffId::new("S1").unwrap(), ward(w));
        }
        access.grant(StaffId::new("S2").unwrap(), ward(WARDS[0]));
        let mut engine = SyncEngine::new(store, access, MemoryAuditLog::new(), MemoryAdminAlerts::new());
        let now = at("2026-06-18T12:00:00Z");
        let mut completed_by_audit: HashMap<String, String> = HashMap::new();

        for (audit_index, ward_override, as_webhook) in deliveries {
            let a = &audits[audit_index];
            let request = parse_sync_body(&body(audit_index, a, ward_override, as_webhook)).unwrap();
            let before = engine.store().tasks().to_vec();
            let outcome = engine.sync(&request, now, None);
            let after = engine.store().tasks();
            prop_assert_eq!(before.len(), after.len());
            let changed: Vec<(&WardTask, &WardTask)> =
                before.iter().zip(after).filter(|(b, a)| b != a).collect();
            match &outcome {
                Ok(SyncOutcome::Synced { task_id, already_synced: false, .. }) => {
                    prop_assert_eq!(changed.len(), 1);
                    let (old, new) = changed[0];
                    prop_assert_eq!(&new.id, task_id);
                    prop_assert_eq!(&old.status, &TaskStatus::Pending);
                    prop_assert_eq!(&new.status, &TaskStatus::Completed);
                    prop_assert_eq!(new.audit_type, Some(request.audit_type));
                    prop_assert_eq!(&new.ward, &request.ward);
                    prop_assert_eq!(new.due_date, DATES[a.d].parse().unwrap());
                    prop_assert_eq!(&new.completion.as_ref().unwrap().audit_id, &request.audit_id);
                    let previous = completed_by_audit.insert(request.audit_id.to_string(), task_id.to_string());
                    prop_assert!(previous.is_none(), "audit completed a second task");
                }
                Ok(SyncOutcome::Synced { task_id, already_synced: true, .. }) => {
                    prop_assert!(changed.is_empty());
                    prop_assert_eq!(completed_by_audit.get(request.audit_id.as_str()), Some(&task_id.to_string()));
                }
                _ => prop_assert!(changed.is_empty(), "{:?} changed a task", outcome),
            }
            // The index always agrees with the linear-scan definition of a match.
            for t in TYPES {
                for w in WARDS {
                    for d in DATES {
                        let (w, d) = (ward(w), day(d));
                        let indexed = engine.store().find_pending(&MatchKey::new(t, w.clone(), d));
                        let scanned = engine.store().tasks().iter().find(|task| task.is_pending_audit_for(t, &w, d));
                        prop_assert_eq!(indexed.map(|x| &x.id), scanned.map(|x| &x.id));
                    }
                }
            }
        }
        // Globally: each audit id is on at most one task.
        let mut seen = HashMap::new();
        for t in engine.store().tasks() {
            if let Some(c) = &t.completion {
                prop_assert!(seen.insert(c.audit_id.clone(), t.id.clone()).is_none());
            }
        }
    }
}
