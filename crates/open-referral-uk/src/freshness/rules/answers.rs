//! The provider's answer: a confirmation or an edit ends a freshness suspension.

use chrono::{DateTime, Utc};

use super::{record_or_new, rules, website_of, write};
use crate::freshness::record::FreshnessRecord;
use crate::live::LiveError;
use crate::live::core::{Core, ListingRecord, Principal, Review, StateAction, Write};
use crate::marketplace::ListingState;

/// The confirmation a provider's answer (confirm or edit) gives: the pending snapshot becomes
/// the confirmed one, reports close, the review clock restarts. Returns the record and
/// whether freshness had suspended the listing.
fn confirmed_record(core: &Core, id: &str, now: DateTime<Utc>) -> (FreshnessRecord, bool) {
    let mut record = record_or_new(core, id);
    let was_suspended = record.suspended_by.take().is_some();
    if let Some(pending) = record.pending.take() {
        record.confirmed = Some(pending);
    }
    record.changes.clear();
    record.reports.clear();
    record.strikes = 0;
    record.last_confirmed_at = Some(now);
    record.review_due_since = None;
    if record.website.is_some() {
        record.next_check_at = Some(now + rules(core).check_every);
    }
    (record, was_suspended)
}

fn owned<'a>(
    core: &'a Core,
    principal: &Principal,
    id: &str,
) -> Result<&'a ListingRecord, LiveError> {
    let listing = core
        .listing(id)
        .filter(|l| l.review != Review::Deleted)
        .ok_or(LiveError::NotFound("no listing with this id"))?;
    match principal {
        Principal::Admin => Ok(listing),
        Principal::Provider(org) if listing.owner.as_deref() == Some(org.as_str()) => Ok(listing),
        Principal::Provider(_) => Err(LiveError::Forbidden(
            "this listing belongs to another provider organisation",
        )),
        _ => Err(LiveError::Unauthorized),
    }
}

/// The provider (or an administrator, after a manual review) confirms the entry is still
/// correct: a freshness suspension ends (the listing returns to where it was), the latest
/// snapshot becomes the confirmed one, open reports close, the review clock restarts.
pub fn confirm(
    core: &Core,
    principal: &Principal,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Write>, LiveError> {
    let listing = owned(core, principal, id)?;
    let (record, was_suspended) = confirmed_record(core, id, now);
    let mut writes = Vec::new();
    if was_suspended && listing.state == ListingState::Suspended {
        let mut listing = listing.clone();
        listing.state = listing.resume_state;
        listing.consecutive_unanswered = 0;
        listing.consecutive_declines = 0;
        writes.push(Write::Listing(Box::new(listing)));
    }
    writes.push(write(&record)?);
    Ok(writes)
}

/// Hook after an edit of listing `id` (its writes from [`Core::edit_listing`]): an edit
/// answers a freshness suspension like a confirmation; a new website starts a new baseline
/// at the next check.
pub fn after_edit(
    core: &Core,
    id: &str,
    mut writes: Vec<Write>,
    now: DateTime<Utc>,
) -> Result<Vec<Write>, LiveError> {
    let Some(edited) = writes.iter_mut().find_map(|w| match w {
        Write::Listing(l) if l.service.id == id => Some(l),
        _ => None,
    }) else {
        return Ok(writes);
    };
    let (mut record, was_suspended) = confirmed_record(core, id, now);
    if was_suspended && edited.state == ListingState::Suspended {
        edited.state = edited.resume_state;
    }
    let website = website_of(edited);
    if website != record.website {
        record.website = website;
        record.confirmed = None;
        record.next_check_at = record.website.as_ref().map(|_| now);
    }
    writes.push(write(&record)?);
    Ok(writes)
}

/// Hook after a state change of listing `id`: the `confirm` action also confirms freshness
/// (see [`confirm`]).
pub fn after_state_change(
    core: &Core,
    id: &str,
    action: &StateAction,
    mut writes: Vec<Write>,
    now: DateTime<Utc>,
) -> Result<Vec<Write>, LiveError> {
    if action == &StateAction::Confirm && !writes.is_empty() {
        let (record, _) = confirmed_record(core, id, now);
        writes.push(write(&record)?);
    }
    Ok(writes)
}
