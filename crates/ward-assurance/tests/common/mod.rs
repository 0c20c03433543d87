//! Shared fixtures: a small fictitious trust.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod client;

use chrono::{DateTime, NaiveDate, Utc};
use ward_assurance::*;

pub fn ward(name: &str) -> Ward {
    Ward::new(name).unwrap()
}

pub fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn task(id: &str, t: AuditType, w: &str, due: &str) -> WardTask {
    WardTask::audit_task(TaskId::new(id).unwrap(), t, ward(w), day(due))
}

/// Tasks on Wards 7 and 8, including the days either side of both 2026 BST changes
/// (29 March, 25 October): early-shift fridge checks, night-shift ligature checks, and
/// walkarounds naming their shift.
pub fn fixture_tasks() -> Vec<WardTask> {
    use AuditType::*;
    let mut non_audit = task("T-WALK-7-0615", Walkaround, "Ward 7", "2026-06-15");
    non_audit.is_audit_task = false;
    vec![
        task(
            "T-FRIDGE-7-0614",
            FridgeTemperatures,
            "Ward 7",
            "2026-06-14",
        ),
        task(
            "T-FRIDGE-7-0615",
            FridgeTemperatures,
            "Ward 7",
            "2026-06-15",
        ),
        task(
            "T-FRIDGE-8-0615",
            FridgeTemperatures,
            "Ward 8",
            "2026-06-15",
        ),
        task("T-CD-7-0615", ControlledDrugs, "Ward 7", "2026-06-15")
            .with_status(TaskStatus::Completed),
        task("T-RESUS-7-0615", ResusCheck, "Ward 7", "2026-06-15")
            .with_status(TaskStatus::Cancelled),
        non_audit,
        task("T-FIRE-7-W25", FireSafety, "Ward 7", "2026-06-15"),
        task(
            "T-FRIDGE-7-0328",
            FridgeTemperatures,
            "Ward 7",
            "2026-03-28",
        ),
        task(
            "T-FRIDGE-7-0329",
            FridgeTemperatures,
            "Ward 7",
            "2026-03-29",
        ),
        task(
            "T-FRIDGE-7-1024",
            FridgeTemperatures,
            "Ward 7",
            "2026-10-24",
        ),
        task(
            "T-FRIDGE-7-1025",
            FridgeTemperatures,
            "Ward 7",
            "2026-10-25",
        ),
        task(
            "T-FRIDGE-7-1026",
            FridgeTemperatures,
            "Ward 7",
            "2026-10-26",
        ),
        task("T-LIG-7-0327", LigatureCheck, "Ward 7", "2026-03-27"),
        task("T-LIG-7-0328", LigatureCheck, "Ward 7", "2026-03-28"),
        task("T-LIG-7-0329", LigatureCheck, "Ward 7", "2026-03-29"),
        task("T-LIG-7-1024", LigatureCheck, "Ward 7", "2026-10-24"),
        task("T-LIG-7-1025", LigatureCheck, "Ward 7", "2026-10-25"),
        task("T-WALK-7-0616-E", Walkaround, "Ward 7", "2026-06-16").with_shift(Shift::Early),
        task("T-WALK-7-0616-L", Walkaround, "Ward 7", "2026-06-16").with_shift(Shift::Late),
        task("T-WALK-7-0616-N", Walkaround, "Ward 7", "2026-06-16").with_shift(Shift::Night),
        task("T-WALK-8-0616", Walkaround, "Ward 8", "2026-06-16"),
    ]
}

/// S1 works on Wards 7 and 8; S2 on Ward 8 only.
pub fn fixture_access() -> StaffWardAccess {
    let mut access = StaffWardAccess::new();
    access.grant(StaffId::new("S1").unwrap(), ward("Ward 7"));
    access.grant(StaffId::new("S1").unwrap(), ward("Ward 8"));
    access.grant(StaffId::new("S2").unwrap(), ward("Ward 8"));
    access
}

pub struct Fixture {
    pub engine: SyncEngine<InMemoryTaskStore>,
    pub log: MemoryAuditLog,
    pub alerts: MemoryAdminAlerts,
}

pub fn fixture(config: SyncConfig) -> Fixture {
    let log = MemoryAuditLog::new();
    let alerts = MemoryAdminAlerts::new();
    let store = InMemoryTaskStore::from_tasks(fixture_tasks()).unwrap();
    let engine =
        SyncEngine::new(store, fixture_access(), log.clone(), alerts.clone()).with_config(config);
    Fixture {
        engine,
        log,
        alerts,
    }
}

pub fn request(
    audit_type: &str,
    ward_name: &str,
    completed_at: &str,
    audit_id: &str,
    staff: &str,
) -> SyncRequest {
    let body = serde_json::json!({
        "auditType": audit_type,
        "ward": ward_name,
        "completedBy": {"name": "Alex Example", "email": "alex.example@nhs.test", "staffId": staff},
        "completedAt": completed_at,
        "auditId": audit_id,
        "values": {"fridgeTempC": 4.2},
        "notes": "Checked door seal",
    });
    parse_sync_body(&serde_json::to_vec(&body).unwrap()).unwrap()
}
