#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Table tests of every sync outcome, local dates either side of both BST changes, and the
//! sequences (redelivery, ward mismatch, conflict) that depend on earlier syncs.

mod common;

use common::*;
use serde_json::json;
use ward_assurance::*;

const NOW: &str = "2026-11-01T12:00:00Z";

struct Case {
    name: &'static str,
    audit_type: &'static str,
    ward: &'static str,
    completed_at: &'static str,
    staff: &'static str,
    config: fn() -> SyncConfig,
    code: &'static str,
    task: Option<&'static str>,
    status: u16,
}

fn default_config() -> SyncConfig {
    SyncConfig::default()
}

fn completed_is_no_match() -> SyncConfig {
    SyncConfig::default().with_already_complete(AlreadyComplete::NoMatchingTask)
}

fn same_week() -> SyncConfig {
    SyncConfig::default().with_weekly_matching(WeeklyMatching::SameIsoWeek)
}

const fn case(
    name: &'static str,
    audit_type: &'static str,
    ward: &'static str,
    completed_at: &'static str,
    code: &'static str,
    task: Option<&'static str>,
    status: u16,
) -> Case {
    Case {
        name,
        audit_type,
        ward,
        completed_at,
        staff: "S1",
        config: default_config,
        code,
        task,
        status,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "early shift",
            "fridge_temps",
            "Ward 7",
            "2026-06-15T09:00:00+01:00",
            "SYNCED",
            Some("T-FRIDGE-7-0615"),
            200,
        ),
        case(
            "label and ward case",
            "Fridge Temperature",
            "WARD  7",
            "2026-06-15T09:00:00+01:00",
            "SYNCED",
            Some("T-FRIDGE-7-0615"),
            200,
        ),
        case(
            "00:30 BST is outside the early shift",
            "fridge_temps",
            "Ward 7",
            "2026-06-15T00:30:00+01:00",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "14:59 BST is the last minute of the early shift",
            "fridge_temps",
            "Ward 7",
            "2026-06-15T13:59:00Z",
            "SYNCED",
            Some("T-FRIDGE-7-0615"),
            200,
        ),
        case(
            "15:00 BST the early shift has ended",
            "fridge_temps",
            "Ward 7",
            "2026-06-15T14:00:00Z",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "07:00 GMT the day before BST starts",
            "fridge_temps",
            "Ward 7",
            "2026-03-28T07:00:00Z",
            "SYNCED",
            Some("T-FRIDGE-7-0328"),
            200,
        ),
        case(
            "07:30 BST on the day BST starts",
            "fridge_temps",
            "Ward 7",
            "2026-03-29T06:30:00Z",
            "SYNCED",
            Some("T-FRIDGE-7-0329"),
            200,
        ),
        case(
            "06:59 BST on the day BST starts is too early",
            "fridge_temps",
            "Ward 7",
            "2026-03-29T05:59:00Z",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "07:30 BST the day before BST ends",
            "fridge_temps",
            "Ward 7",
            "2026-10-24T06:30:00Z",
            "SYNCED",
            Some("T-FRIDGE-7-1024"),
            200,
        ),
        case(
            "06:30 GMT on the day BST ends is too early",
            "fridge_temps",
            "Ward 7",
            "2026-10-25T06:30:00Z",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "07:00 GMT on the day BST ends",
            "fridge_temps",
            "Ward 7",
            "2026-10-25T07:00:00Z",
            "SYNCED",
            Some("T-FRIDGE-7-1025"),
            200,
        ),
        case(
            "night check at 02:10 counts for the night before",
            "ligature_check",
            "Ward 7",
            "2026-03-28T02:10:00Z",
            "SYNCED",
            Some("T-LIG-7-0327"),
            200,
        ),
        case(
            "night check at 21:45 counts for that night",
            "ligature_check",
            "Ward 7",
            "2026-03-27T21:45:00Z",
            "SYNCED",
            Some("T-LIG-7-0327"),
            200,
        ),
        case(
            "night check at 21:29 is before the night",
            "ligature_check",
            "Ward 7",
            "2026-03-27T21:29:00Z",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "night check at 02:30 BST just after BST starts",
            "ligature_check",
            "Ward 7",
            "2026-03-29T01:30:00Z",
            "SYNCED",
            Some("T-LIG-7-0328"),
            200,
        ),
        case(
            "night check at 07:29 BST the morning BST starts",
            "ligature_check",
            "Ward 7",
            "2026-03-29T06:29:00Z",
            "SYNCED",
            Some("T-LIG-7-0328"),
            200,
        ),
        case(
            "night check at 07:30 BST the night has ended",
            "ligature_check",
            "Ward 7",
            "2026-03-29T06:30:00Z",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "night check at 01:30 BST, first pass of the repeated hour",
            "ligature_check",
            "Ward 7",
            "2026-10-25T00:30:00Z",
            "SYNCED",
            Some("T-LIG-7-1024"),
            200,
        ),
        case(
            "night check at 01:30 GMT, second pass of the repeated hour",
            "ligature_check",
            "Ward 7",
            "2026-10-25T01:30:00Z",
            "SYNCED",
            Some("T-LIG-7-1024"),
            200,
        ),
        case(
            "night check at 07:15 GMT the morning BST ends",
            "ligature_check",
            "Ward 7",
            "2026-10-25T07:15:00Z",
            "SYNCED",
            Some("T-LIG-7-1024"),
            200,
        ),
        case(
            "night check at 22:00 GMT the day BST ends",
            "ligature_check",
            "Ward 7",
            "2026-10-25T22:00:00Z",
            "SYNCED",
            Some("T-LIG-7-1025"),
            200,
        ),
        case(
            "walkaround in the handover overlap: the earlier shift first",
            "walkaround",
            "Ward 7",
            "2026-06-16T14:45:00+01:00",
            "SYNCED",
            Some("T-WALK-7-0616-E"),
            200,
        ),
        case(
            "walkaround at 03:00 belongs to the night",
            "walkaround",
            "Ward 7",
            "2026-06-17T03:00:00+01:00",
            "SYNCED",
            Some("T-WALK-7-0616-N"),
            200,
        ),
        case(
            "walkaround task naming no shift takes any shift",
            "walkaround",
            "Ward 8",
            "2026-06-17T03:00:00+01:00",
            "SYNCED",
            Some("T-WALK-8-0616"),
            200,
        ),
        case(
            "no task that day",
            "fridge_temps",
            "Ward 7",
            "2026-06-16T09:00:00+01:00",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "no task of that type",
            "water_temps",
            "Ward 7",
            "2026-06-15T16:00:00+01:00",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        // The design's table, "Task already complete → Return success" (the default): the
        // completed task's id, nothing changed.
        case(
            "completed answers already complete",
            "controlled_drugs",
            "Ward 7",
            "2026-06-15T09:00:00+01:00",
            "ALREADY_COMPLETE",
            Some("T-CD-7-0615"),
            200,
        ),
        // The design's findMatchingTask, which skips completed tasks.
        Case {
            config: completed_is_no_match,
            ..case(
                "completed never matches when configured so",
                "controlled_drugs",
                "Ward 7",
                "2026-06-15T09:00:00+01:00",
                "NO_MATCHING_TASK",
                None,
                404,
            )
        },
        case(
            "cancelled never matches",
            "resus_check",
            "Ward 7",
            "2026-06-15T09:00:00+01:00",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "non-audit task never matches",
            "walkaround",
            "Ward 7",
            "2026-06-15T09:00:00+01:00",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "weekly, due date only",
            "fire_safety",
            "Ward 7",
            "2026-06-17T09:00:00+01:00",
            "NO_MATCHING_TASK",
            None,
            404,
        ),
        case(
            "weekly, any time of its day",
            "fire_safety",
            "Ward 7",
            "2026-06-15T23:59:00+01:00",
            "SYNCED",
            Some("T-FIRE-7-W25"),
            200,
        ),
        Case {
            config: same_week,
            ..case(
                "weekly, same ISO week",
                "fire_safety",
                "Ward 7",
                "2026-06-17T09:00:00+01:00",
                "SYNCED",
                Some("T-FIRE-7-W25"),
                200,
            )
        },
        Case {
            config: same_week,
            ..case(
                "weekly, next ISO week",
                "fire_safety",
                "Ward 7",
                "2026-06-22T09:00:00+01:00",
                "NO_MATCHING_TASK",
                None,
                404,
            )
        },
        Case {
            staff: "S2",
            ..case(
                "no access to the ward",
                "fridge_temps",
                "Ward 7",
                "2026-06-15T09:00:00+01:00",
                "WARD_ACCESS_DENIED",
                None,
                403,
            )
        },
        Case {
            staff: "S9",
            ..case(
                "unknown staff member",
                "fridge_temps",
                "Ward 8",
                "2026-06-15T09:00:00+01:00",
                "WARD_ACCESS_DENIED",
                None,
                403,
            )
        },
        case(
            "completed in the future",
            "fridge_temps",
            "Ward 7",
            "2026-11-01T12:10:00Z",
            "INVALID_FIELD",
            None,
            422,
        ),
    ]
}

#[test]
fn every_outcome() {
    let mut responses = Vec::new();
    for case in cases() {
        let mut f = fixture((case.config)());
        let before = f.engine.store().tasks().to_vec();
        let request = request(
            case.audit_type,
            case.ward,
            case.completed_at,
            "AUD-1",
            case.staff,
        );
        let result = f.engine.sync(&request, at(NOW), None);
        let response = SyncResponse::from_result(&result);
        let code = match &result {
            Ok(outcome) => outcome.code(),
            Err(error) => error.code(),
        };
        assert_eq!(code, case.code, "{}", case.name);
        assert_eq!(response.http_status, case.status, "{}", case.name);
        let after = f.engine.store().tasks();
        // Exactly the expected task changed, and nothing else.
        for (old, new) in before.iter().zip(after) {
            if Some(old.id.as_str()) == case.task && case.code == "SYNCED" {
                assert_eq!(old.status, TaskStatus::Pending, "{}", case.name);
                assert_eq!(new.status, TaskStatus::Completed, "{}", case.name);
                let completion = new.completion.as_ref().unwrap();
                assert_eq!(completion.audit_id.as_str(), "AUD-1");
                assert_eq!(completion.synced_at, at(NOW));
                assert_eq!(completion.values["fridgeTempC"], json!(4.2));
            } else {
                assert_eq!(old, new, "{}: {} changed", case.name, old.id);
            }
        }
        assert_eq!(
            after.len(),
            before.len(),
            "{}: never creates a task",
            case.name
        );
        assert_eq!(
            response.task_id.as_ref().map(TaskId::as_str),
            case.task,
            "{}",
            case.name
        );
        // Every attempt is logged.
        let log = f.log.entries();
        assert_eq!(log.len(), 1, "{}", case.name);
        assert_eq!(log[0].outcome, case.code);
        if case.code == "NO_MATCHING_TASK" {
            assert!(log[0].expected_window.is_some(), "{}", case.name);
        }
        let alerts = f.alerts.alerts();
        assert_eq!(
            !alerts.is_empty(),
            case.code == "WARD_ACCESS_DENIED",
            "{}",
            case.name
        );
        responses
            .push(json!({"case": case.name, "status": response.http_status, "body": response}));
    }
    insta::assert_json_snapshot!("every_outcome_responses", responses);
}

#[test]
fn no_matching_task_message_names_type_ward_and_date() {
    let mut f = fixture(SyncConfig::default());
    let request = request(
        "Fridge Temperature",
        "Ward 7",
        "2026-06-16T09:30:00+01:00",
        "AUD-9",
        "S1",
    );
    let outcome = f.engine.sync(&request, at(NOW), None).unwrap();
    assert_eq!(
        outcome.message(),
        "No pending fridge_temps task found for Ward 7 on 2026-06-16"
    );
    // A night audit names the night's date, and the log line the window it expected.
    let night = request_for(
        "ligature_check",
        "Ward 7",
        "2026-06-17T02:10:00+01:00",
        "AUD-10",
    );
    let outcome = f.engine.sync(&night, at(NOW), None).unwrap();
    assert_eq!(
        outcome.message(),
        "No pending ligature_check task found for Ward 7 on 2026-06-16"
    );
    let entry = f.log.entries().pop().unwrap();
    assert_eq!(
        entry.expected_window.as_deref(),
        Some("night 21:30-07:30 next day")
    );
    assert!(entry.log_line().contains("night 21:30-07:30 next day"));
}

fn request_for(t: &str, w: &str, when: &str, audit: &str) -> SyncRequest {
    request(t, w, when, audit, "S1")
}

#[test]
fn handover_overlap_completes_both_shifts_in_turn() {
    let mut f = fixture(SyncConfig::default());
    let when = "2026-06-16T14:45:00+01:00";
    let first = f
        .engine
        .sync(
            &request_for("walkaround", "Ward 7", when, "AUD-W1"),
            at(NOW),
            None,
        )
        .unwrap();
    let second = f
        .engine
        .sync(
            &request_for("walkaround", "Ward 7", when, "AUD-W2"),
            at(NOW),
            None,
        )
        .unwrap();
    let third = f
        .engine
        .sync(
            &request_for("walkaround", "Ward 7", when, "AUD-W3"),
            at(NOW),
            None,
        )
        .unwrap();
    let codes = [first.code(), second.code(), third.code()];
    let ids: Vec<_> = [first, second, third]
        .iter()
        .map(|o| SyncResponse::from_outcome(o).task_id.map(|t| t.to_string()))
        .collect();
    // The third finds both shifts done: the design's "Task already complete → Return
    // success" names the task whose window started first, and changes nothing.
    assert_eq!(codes, ["SYNCED", "SYNCED", "ALREADY_COMPLETE"]);
    assert_eq!(
        ids,
        [
            Some("T-WALK-7-0616-E".to_owned()),
            Some("T-WALK-7-0616-L".to_owned()),
            Some("T-WALK-7-0616-E".to_owned()),
        ]
    );
}

#[test]
fn configured_windows_are_used() {
    let windows =
        ShiftWindows::default().with(Shift::Night, ShiftWindow::hm((20, 0), (8, 0)).unwrap());
    let mut f = fixture(SyncConfig::default().with_shift_windows(windows));
    // 07:45 GMT on the 28th: outside the default night, inside the configured one.
    let outcome = f
        .engine
        .sync(
            &request_for("ligature_check", "Ward 7", "2026-03-28T07:45:00Z", "AUD-C"),
            at(NOW),
            None,
        )
        .unwrap();
    assert_eq!(
        SyncResponse::from_outcome(&outcome)
            .task_id
            .unwrap()
            .as_str(),
        "T-LIG-7-0327"
    );
}

#[test]
fn redelivery_is_idempotent() {
    let mut f = fixture(SyncConfig::default());
    let first = request(
        "fridge_temps",
        "Ward 7",
        "2026-06-15T09:00:00+01:00",
        "AUD-1",
        "S1",
    );
    let outcome = f
        .engine
        .sync(&first, at("2026-06-15T08:01:00Z"), None)
        .unwrap();
    assert_eq!(outcome.code(), "SYNCED");
    let after_first = f.engine.store().tasks().to_vec();
    // Redelivered later (and even with different values): success, same synced_at, nothing changes.
    let mut again = first.clone();
    again.values.insert("fridgeTempC".into(), json!(9.9));
    for redelivery in [&first, &again] {
        let outcome = f
            .engine
            .sync(redelivery, at("2026-06-15T10:00:00Z"), None)
            .unwrap();
        assert_eq!(
            outcome,
            SyncOutcome::Synced {
                task_id: TaskId::new("T-FRIDGE-7-0615").unwrap(),
                synced_at: at("2026-06-15T08:01:00Z"),
                already_synced: true,
            }
        );
        assert_eq!(SyncResponse::from_outcome(&outcome).http_status, 200);
        assert_eq!(f.engine.store().tasks(), after_first.as_slice());
    }
    // A second, different audit for the same task finds nothing left to complete: success
    // with that task (the design's "Task already complete" row, the default), unchanged.
    let second = request(
        "fridge_temps",
        "Ward 7",
        "2026-06-15T10:00:00+01:00",
        "AUD-2",
        "S1",
    );
    assert_eq!(
        f.engine.sync(&second, at(NOW), None).unwrap(),
        SyncOutcome::AlreadyComplete {
            task_id: TaskId::new("T-FRIDGE-7-0615").unwrap(),
            synced_at: at(NOW),
        }
    );
    assert_eq!(f.engine.store().tasks(), after_first.as_slice());
    let codes: Vec<_> = f.log.entries().iter().map(|e| e.outcome).collect();
    assert_eq!(
        codes,
        [
            "SYNCED",
            "ALREADY_SYNCED",
            "ALREADY_SYNCED",
            "ALREADY_COMPLETE"
        ]
    );
    let task = f
        .engine
        .store()
        .get(&TaskId::new("T-FRIDGE-7-0615").unwrap())
        .unwrap();
    insta::assert_json_snapshot!("completed_task", task);
}

#[test]
fn ward_mismatch_is_an_error_and_alerts_an_admin() {
    let mut f = fixture(SyncConfig::default());
    let first = request(
        "fridge_temps",
        "Ward 7",
        "2026-06-15T09:00:00+01:00",
        "AUD-1",
        "S1",
    );
    f.engine.sync(&first, at(NOW), None).unwrap();
    let before = f.engine.store().tasks().to_vec();
    let moved = request(
        "fridge_temps",
        "Ward 8",
        "2026-06-15T09:00:00+01:00",
        "AUD-1",
        "S1",
    );
    let outcome = f.engine.sync(&moved, at(NOW), None).unwrap();
    assert_eq!(outcome.code(), "WARD_MISMATCH");
    let response = SyncResponse::from_outcome(&outcome);
    assert_eq!(response.http_status, 409);
    assert!(!response.success);
    assert_eq!(
        f.engine.store().tasks(),
        before.as_slice(),
        "Ward 8's task stays pending"
    );
    let alerts = f.alerts.alerts();
    assert_eq!(alerts.len(), 1);
    let mut alert = serde_json::to_value(&alerts[0]).unwrap();
    alert["attemptId"] = json!("<attempt id>");
    insta::assert_json_snapshot!(
        "ward_mismatch",
        json!({"response": response, "alert": alert})
    );
}

#[test]
fn audit_reused_for_another_type_or_date_is_a_conflict() {
    let mut f = fixture(SyncConfig::default());
    let first = request(
        "fridge_temps",
        "Ward 7",
        "2026-06-15T09:00:00+01:00",
        "AUD-1",
        "S1",
    );
    f.engine.sync(&first, at(NOW), None).unwrap();
    let before = f.engine.store().tasks().to_vec();
    for (t, when) in [
        ("fridge_temps", "2026-06-14T09:00:00+01:00"),
        ("fire_safety", "2026-06-15T09:00:00+01:00"),
        ("fridge_temps", "2026-06-15T16:00:00+01:00"),
    ] {
        let reused = request(t, "Ward 7", when, "AUD-1", "S1");
        let err = f.engine.sync(&reused, at(NOW), None).unwrap_err();
        assert_eq!(err.code(), "AUDIT_CONFLICT");
        assert_eq!(err.http_status(), 409);
        assert_eq!(f.engine.store().tasks(), before.as_slice());
    }
    assert_eq!(f.alerts.alerts().len(), 3);
}

#[test]
fn audit_log_holds_ids_not_names() {
    let mut f = fixture(SyncConfig::default());
    let first = request(
        "fridge_temps",
        "Ward 7",
        "2026-06-15T09:00:00+01:00",
        "AUD-1",
        "S1",
    );
    f.engine
        .sync(
            &first,
            at(NOW),
            Some(&Caller::ApiKey("power-automate".into())),
        )
        .unwrap();
    let entries = f.log.entries();
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains("Alex"), "{text}");
    assert!(!text.contains("S1"), "{text}");
    let line = entries[0].log_line();
    for received in ["AUD-1", "Ward 7", "S1", "Alex"] {
        assert!(!line.contains(received), "{line}");
    }
    assert!(!text.contains("alex.example"), "{text}");
    assert!(!text.contains("door seal"), "{text}");
    let mut entries = entries;
    for e in &mut entries {
        e.id = "<attempt id>".into();
    }
    insta::assert_json_snapshot!("audit_log_entry", entries);
}

#[test]
fn task_file_round_trip() {
    let file = TaskFile::from_json(include_bytes!("../examples-data/tasks.json")).unwrap();
    assert!(file.tasks.len() >= 7);
    assert!(file.ward_access.is_some());
    let store = InMemoryTaskStore::from_tasks(file.tasks.clone()).unwrap();
    assert_eq!(store.len(), file.tasks.len());
    let encoded = serde_json::to_vec(&file).unwrap();
    assert_eq!(TaskFile::from_json(&encoded).unwrap(), file);
    let bare = serde_json::to_vec(&file.tasks).unwrap();
    assert_eq!(TaskFile::from_json(&bare).unwrap().tasks, file.tasks);
    let err = TaskFile::from_json(br#"{"tasks": [{"id": "T1"}]}"#).unwrap_err();
    assert_eq!(err.code(), "MALFORMED_JSON");
}
