//! Public "out of date" reports.

use chrono::{DateTime, Utc};
use nhs_identifiers::redact::Redacted;

use super::{live_listing, notify, recipient, record_or_new, suspend, write};
use crate::freshness::record::{OutOfDateReport, SuspendedBy};
use crate::freshness::{MAX_OPEN_REPORTS, MAX_REASON_CHARS};
use crate::live::LiveError;
use crate::live::core::{Core, NotificationKind, Recipient, Write};

/// A member of the public reports an entry out of date: the listing is suspended pending
/// the provider's answer, the provider and the administrators are notified (the reason stays
/// in the record). Only listings reachable by id can be reported (a suspended one is
/// already waiting).
pub fn report(
    core: &Core,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Write>, LiveError> {
    let listing = core
        .listing(id)
        .filter(|l| live_listing(l))
        .filter(|l| l.state.reachable_by_id())
        .ok_or(LiveError::NotFound("no listing with this id"))?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(LiveError::BadRequest(
            "`reason` must say what is out of date".into(),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(LiveError::BadRequest(format!(
            "`reason` is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    let mut record = record_or_new(core, id);
    if record.reports.len() >= MAX_OPEN_REPORTS {
        return Err(LiveError::Conflict(
            "this entry already has the most open reports; it waits for its provider",
        ));
    }
    record.reports.push(OutOfDateReport {
        received_at: now,
        reason: Redacted::new(reason.to_owned()),
    });
    let mut listing = listing.clone();
    if suspend(&mut listing) {
        record.suspended_by.get_or_insert(SuspendedBy::Report);
    }
    // The reporter's words are free text from the public: they stay in the record, shown to
    // the owner by `GET /provider/services/{id}/freshness`, never in the outbox or a log.
    let detail = format!(
        "A member of the public reported this entry out of date. Please edit the listing or \
         confirm it is still correct. The report: /provider/services/{id}/freshness"
    );
    Ok(vec![
        Write::Listing(Box::new(listing.clone())),
        write(&record)?,
        notify(
            recipient(&listing),
            NotificationKind::ReportedOutOfDate,
            Some(id),
            Some(detail),
            now,
        ),
        notify(
            Recipient::Admins,
            NotificationKind::ReportedOutOfDate,
            Some(id),
            None,
            now,
        ),
    ])
}
