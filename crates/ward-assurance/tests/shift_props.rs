#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property: over a year of completion instants (both 2026 clock changes included) against a
//! generated rota, each audit completes at most one task, always the one whose due date and
//! shift window contain it, exactly as a plain reference implementation (a linear scan that
//! turns every window into UTC instants) decides; redeliveries change nothing. Under either
//! reading of the design's "Task already complete" row ([`AlreadyComplete`]) the reference
//! decides too whether a miss answers `ALREADY_COMPLETE` (and with which task) or
//! `NO_MATCHING_TASK`.

mod common;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use common::*;
use proptest::prelude::*;
use ward_assurance::*;

const TYPES: [AuditType; 5] = [
    AuditType::FridgeTemperatures,
    AuditType::WaterTemperatures,
    AuditType::LigatureCheck,
    AuditType::Walkaround,
    AuditType::FireSafety,
];

/// The rota: every day of 2026 on one ward, a fridge (early), water (late) and ligature
/// (night) task, walkarounds naming each shift, and a weekly fire check on Mondays. Every
/// 17th day's late walkaround is missing (so the early or night one may take it), every
/// 11th day's fridge check is already done (by hand) and every 13th day's water check is
/// cancelled.
fn rota() -> Vec<WardTask> {
    let mut tasks = Vec::new();
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for d in 0..365 {
        let due = first + Duration::days(d);
        let date = due.to_string();
        let mut add = |t: AuditType, suffix: &str, shift: Option<Shift>| {
            let mut task = task(&format!("T-{date}-{suffix}"), t, "Ward A", &date);
            task.shift = shift;
            tasks.push(task);
        };
        add(AuditType::FridgeTemperatures, "fridge", None);
        add(AuditType::WaterTemperatures, "water", None);
        add(AuditType::LigatureCheck, "lig", None);
        add(AuditType::Walkaround, "walk-e", Some(Shift::Early));
        if d % 17 != 0 {
            add(AuditType::Walkaround, "walk-l", Some(Shift::Late));
        }
        add(AuditType::Walkaround, "walk-n", Some(Shift::Night));
        if chrono::Datelike::weekday(&due) == chrono::Weekday::Mon {
            add(AuditType::FireSafety, "fire", None);
        }
        if d % 11 == 0 {
            let last = tasks
                .iter_mut()
                .find(|t| t.id.as_str() == format!("T-{date}-fridge"))
                .unwrap();
            last.status = TaskStatus::Completed;
        }
        if d % 13 == 0 {
            let water = tasks
                .iter_mut()
                .find(|t| t.id.as_str() == format!("T-{date}-water"))
                .unwrap();
            water.status = TaskStatus::Cancelled;
        }
    }
    tasks
}

/// The reference: a linear scan, windows as UTC instants, earliest start then first inserted.
struct Reference {
    tasks: Vec<WardTask>,
    windows: ShiftWindows,
    reading: AlreadyComplete,
}

/// What the reference decides for one audit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    /// This pending task is completed now.
    Synced(String),
    /// No pending task; this completed one is named and left alone.
    AlreadyComplete(String),
    /// Nothing.
    NoMatch,
}

impl Reference {
    fn window(&self, task: &WardTask) -> (DateTime<Utc>, DateTime<Utc>) {
        let t = task.audit_type.unwrap();
        let day = task.due_date;
        let (start, end) = match task.shift.or(t.default_shift()) {
            Some(shift) => {
                let w = self.windows.window(shift);
                let end_day = if w.end <= w.start {
                    day.succ_opt().unwrap()
                } else {
                    day
                };
                (day.and_time(w.start), end_day.and_time(w.end))
            }
            None if t == AuditType::Walkaround => (
                day.and_time(self.windows.early.start),
                day.succ_opt().unwrap().and_time(self.windows.night.end),
            ),
            None => (
                day.and_hms_opt(0, 0, 0).unwrap(),
                day.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap(),
            ),
        };
        let instant = |local| {
            London
                .from_local_datetime(&local)
                .earliest()
                .unwrap()
                .to_utc()
        };
        (instant(start), instant(end))
    }

    /// The task of `status` and type `t` whose window contains `at`, earliest start first.
    fn best(&self, t: AuditType, at: DateTime<Utc>, status: &TaskStatus) -> Option<usize> {
        let mut best: Option<(DateTime<Utc>, usize)> = None;
        for (i, task) in self.tasks.iter().enumerate() {
            if task.status != *status || task.audit_type != Some(t) {
                continue;
            }
            let (start, end) = self.window(task);
            if start <= at && at < end && best.is_none_or(|(s, _)| start < s) {
                best = Some((start, i));
            }
        }
        best.map(|(_, i)| i)
    }

    fn complete(&mut self, t: AuditType, at: DateTime<Utc>) -> Expected {
        if let Some(i) = self.best(t, at, &TaskStatus::Pending) {
            self.tasks[i].status = TaskStatus::Completed;
            return Expected::Synced(self.tasks[i].id.to_string());
        }
        match self.reading {
            AlreadyComplete::Succeed => self
                .best(t, at, &TaskStatus::Completed)
                .map_or(Expected::NoMatch, |i| {
                    Expected::AlreadyComplete(self.tasks[i].id.to_string())
                }),
            _ => Expected::NoMatch,
        }
    }
}

fn year_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let start = at("2026-01-01T00:00:00Z");
    let spring = at("2026-03-29T01:00:00Z");
    let autumn = at("2026-10-25T01:00:00Z");
    prop_oneof![
        (0i64..365 * 86_400).prop_map(move |s| start + Duration::seconds(s)),
        (-36 * 3600i64..36 * 3600).prop_map(move |s| spring + Duration::seconds(s)),
        (-36 * 3600i64..36 * 3600).prop_map(move |s| autumn + Duration::seconds(s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn matches_the_reference_over_a_year(
        audits in prop::collection::vec((0..TYPES.len(), year_instant(), any::<bool>()), 1..40),
        succeed in any::<bool>(),
    ) {
        let reading = if succeed { AlreadyComplete::Succeed } else { AlreadyComplete::NoMatchingTask };
        let tasks = rota();
        let mut reference = Reference { tasks: tasks.clone(), windows: ShiftWindows::default(), reading };
        let store = InMemoryTaskStore::from_tasks(tasks).unwrap();
        let mut engine = SyncEngine::new(
            store,
            TrustDashboardWardAccess,
            MemoryAuditLog::new(),
            MemoryAdminAlerts::new(),
        )
        .with_config(SyncConfig::default().with_already_complete(reading));
        let now = at("2027-01-01T00:00:00Z");
        let staff = StaffMember::new("Alex Example", None, Some("S1")).unwrap();
        let mut completed_by_audit = std::collections::HashMap::new();
        for (n, (t, when, redeliver)) in audits.into_iter().enumerate() {
            let audit_type = TYPES[t];
            let request = SyncRequest::new(
                audit_type,
                ward("Ward A"),
                staff.clone(),
                when.fixed_offset(),
                AuditId::new(&format!("AUD-{n}")).unwrap(),
            );
            let expected = reference.complete(audit_type, when);
            let before = engine.store().tasks().to_vec();
            let outcome = engine.sync(&request, now, None).unwrap();
            let got = match &outcome {
                SyncOutcome::Synced { task_id, already_synced: false, .. } => Expected::Synced(task_id.to_string()),
                SyncOutcome::AlreadyComplete { task_id, .. } => Expected::AlreadyComplete(task_id.to_string()),
                SyncOutcome::NoMatchingTask { .. } => Expected::NoMatch,
                other => panic!("unexpected {other:?}"),
            };
            prop_assert_eq!(&got, &expected, "{} at {}", audit_type, when);
            if let Expected::Synced(id) = &got {
                prop_assert!(completed_by_audit.insert(id.clone(), n).is_none(), "{} completed twice", id);
            } else {
                // Neither ALREADY_COMPLETE nor NO_MATCHING_TASK changes any task.
                prop_assert_eq!(engine.store().tasks(), before.as_slice());
            }
            if redeliver {
                let before = engine.store().tasks().to_vec();
                let again = engine.sync(&request, now, None).unwrap();
                if let Expected::Synced(id) = &got {
                    prop_assert_eq!(again.code(), "ALREADY_SYNCED");
                    prop_assert_eq!(SyncResponse::from_outcome(&again).task_id.unwrap().to_string(), id.clone());
                } else {
                    // Nothing was completed the first time (the audit is not recorded against
                    // any task); the reference is unchanged, so the second try must agree with
                    // it too, and again change nothing.
                    let expected = reference.complete(audit_type, when);
                    let again_got = match &again {
                        SyncOutcome::AlreadyComplete { task_id, .. } => Expected::AlreadyComplete(task_id.to_string()),
                        SyncOutcome::NoMatchingTask { .. } => Expected::NoMatch,
                        other => panic!("unexpected {other:?}"),
                    };
                    prop_assert_eq!(&again_got, &expected);
                    prop_assert_eq!(&again_got, &got);
                    prop_assert_eq!(engine.store().tasks(), before.as_slice());
                }
            }
        }
        // The engine's completed set equals the reference's.
        for (mine, theirs) in engine.store().tasks().iter().zip(&reference.tasks) {
            prop_assert_eq!(&mine.status, &theirs.status, "{}", mine.id);
        }
    }
}
