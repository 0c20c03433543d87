//! The journal as a clinician sees it: one block of text per event.
//!
//! ```text
//! 2026-03-03 10:15 · EventUID 5100000100000000
//!   Author:     BLOGGS, Jo (General Medical Practitioner) [jbloggs1234]
//!   Entered by: ONE, Gateway (Administrator) [gateway0001]
//!   Added by:   BLOGGS, Jo (General Medical Practitioner) [jbloggs1234]
//!   Device:     nhs-integration-rs 0.1.0 (device 7c41d09e2b8a5f13)
//!   Software:   Example Integration
//!   Done at:    Community hub · Method: Telephone
//!   Code:       Snomed 871731000000106 Referral to social prescribing service — Linked to walking group
//!   Narrative:  Telephone review completed by link worker.
//! ```
//!
//! Which name the "Added by" line shows is an inference (the reference, §9.6, marks the mapping
//! of SystmOne's three names as inferred), so it is configurable with [`AddedByReading`]: by
//! default the author again, as integrators describe the journal (author first, the Gateway
//! user as "Entered by", the author again as "Added by"); or the integrating device.
//!
//! Events entered in SystmOne itself show no device or software line; uncommitted
//! events (written with `LeaveRecordOpen`, record not yet saved) are marked `(not saved)`.

use std::fmt::Write as _;

use crate::model::{JournalEvent, JournalItem, Patient, User};

/// What the journal view's "Added by" line names (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AddedByReading {
    /// The author again (the event's `UserName`), with the device on a line of its own. Default.
    #[default]
    Author,
    /// The integrating device and its `DeviceVersion` ("SystmOne" for events entered in
    /// SystmOne itself).
    Device,
}

/// Renders one event as the text block described in the module docs.
pub fn render_event(event: &JournalEvent, users: &[User], reading: AddedByReading) -> String {
    let who = |name: &str| match users.iter().find(|u| u.user_name == name) {
        Some(user) => format!("{} [{name}]", user.display_name()),
        None => format!("[{name}]"),
    };
    let mut out = String::new();
    let saved = if event.committed { "" } else { " (not saved)" };
    let _ = writeln!(
        out,
        "{} · EventUID {}{saved}",
        event.date_time.format("%Y-%m-%d %H:%M"),
        event.event_uid
    );
    let _ = writeln!(out, "  Author:     {}", who(&event.author));
    let _ = writeln!(out, "  Entered by: {}", who(&event.entered_by));
    let device = event.added_by.as_ref().map(|added| {
        if added.device_version.is_empty() {
            format!("device {}", added.device_id)
        } else {
            format!("{} (device {})", added.device_version, added.device_id)
        }
    });
    match (reading, device) {
        (AddedByReading::Author, device) => {
            let _ = writeln!(out, "  Added by:   {}", who(&event.author));
            if let Some(device) = device {
                let _ = writeln!(out, "  Device:     {device}");
            }
        }
        (AddedByReading::Device, Some(device)) => {
            let _ = writeln!(out, "  Added by:   {device}");
        }
        (AddedByReading::Device, None) => {
            let _ = writeln!(out, "  Added by:   SystmOne");
        }
    }
    if let Some(software) = &event.software {
        let _ = writeln!(out, "  Software:   {software}");
    }
    if let Some(done_by) = &event.done_by_text {
        let _ = writeln!(out, "  Done by:    {done_by}");
    }
    let place = event
        .done_at
        .as_deref()
        .map(|at| format!("Done at:    {at}"));
    let method = event.method.as_deref().map(|m| format!("Method: {m}"));
    match (place, method) {
        (Some(p), Some(m)) => {
            let _ = writeln!(out, "  {p} · {m}");
        }
        (Some(p), None) => {
            let _ = writeln!(out, "  {p}");
        }
        (None, Some(m)) => {
            let _ = writeln!(out, "  {m}");
        }
        (None, None) => {}
    }
    for item in &event.items {
        let _ = writeln!(out, "  {}", render_item(item));
    }
    out
}

fn render_item(item: &JournalItem) -> String {
    match item {
        JournalItem::Narrative { lines } => {
            let mut text = String::from("Narrative:  ");
            text.push_str(&lines.join("\n              "));
            text
        }
        JournalItem::ClinicalCode {
            scheme,
            code,
            term,
            free_text,
            value,
            units,
        } => {
            let mut text = format!("Code:       {scheme} {code}");
            if !term.is_empty() {
                text.push(' ');
                text.push_str(term);
            }
            if let Some(value) = value {
                let _ = write!(text, " = {value}");
                if let Some(units) = units {
                    let _ = write!(text, " {units}");
                }
            }
            if !free_text.is_empty() {
                let _ = write!(text, " — {free_text}");
            }
            text
        }
        JournalItem::Attachment {
            source,
            comments,
            document_uid,
        } => {
            let mut text = format!("Attachment: {source}");
            if !comments.is_empty() {
                let _ = write!(text, " — {comments}");
            }
            if !document_uid.is_empty() {
                let _ = write!(text, " (DocumentUID {document_uid})");
            }
            text
        }
        JournalItem::Other { element, summary } => format!("{element}: {summary}"),
    }
}

/// Renders a patient's whole journal, oldest event first, under a header that masks the NHS
/// number.
pub fn render_journal(patient: &Patient, users: &[User], reading: AddedByReading) -> String {
    let mut out = format!(
        "Journal of {} {} (NHS {}), {} event(s)\n",
        patient.first_name,
        patient.surname.to_uppercase(),
        patient.nhs_number,
        patient.journal.len()
    );
    for event in &patient.journal {
        out.push('\n');
        out.push_str(&render_event(event, users, reading));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrganisationData;

    fn written_event() -> (JournalEvent, Vec<User>) {
        let data = OrganisationData::builtin_default();
        let mut event = data
            .patients
            .iter()
            .flat_map(|p| p.journal.iter())
            .next()
            .cloned()
            .unwrap();
        event.author = data.users[0].user_name.clone();
        event.added_by = Some(crate::model::AddedBy {
            device_id: "0123456789abcdef".into(),
            device_version: "demo 1.0".into(),
        });
        (event, data.users)
    }

    #[test]
    fn added_by_names_the_author_by_default_and_the_device_on_request() {
        let (event, users) = written_event();
        let author_line = format!("  Added by:   {}", users[0].display_name());
        let by_author = render_event(&event, &users, AddedByReading::default());
        assert!(by_author.contains(&author_line), "{by_author}");
        assert!(by_author.contains("  Device:     demo 1.0 (device 0123456789abcdef)"));

        let by_device = render_event(&event, &users, AddedByReading::Device);
        assert!(by_device.contains("  Added by:   demo 1.0 (device 0123456789abcdef)"));
        assert!(!by_device.contains("Device:"));
    }
}
