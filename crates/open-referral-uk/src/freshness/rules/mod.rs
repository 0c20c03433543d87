//! What checks, reports, confirmations and time do to the records, without IO: each function
//! reads the current [`Core`] and returns the [`Write`]s to commit (the caller stores and
//! applies them, like every marketplace command). Time is a parameter.
//!
//! * checks: which websites are due ([`due_checks`]) and what a batch of check outcomes does
//!   ([`record_checks`]);
//! * answers: the provider's confirmation ([`confirm`]) or edit ([`after_edit`]);
//! * review: the three-monthly cycle of listings without a website ([`review_tick`]);
//! * reports: public "out of date" reports ([`report()`]).

mod answers;
mod checks;
mod report;
mod review;

use chrono::{DateTime, Utc};
use nhs_identifiers::uuid::{RandomUuids, UuidSource};
use serde::Deserialize;

pub use answers::{after_edit, after_state_change, confirm};
pub use checks::{CheckOutcome, CheckSummary, DueCheck, due_checks, record_checks};
pub use report::report;
pub use review::{review_queue, review_tick};

use super::record::FreshnessRecord;
use super::{FreshnessRules, KIND};
use crate::live::LiveError;
use crate::live::core::{
    Core, ExtensionRecord, ListingRecord, Notification, NotificationKind, Recipient, Review, Write,
};
use crate::marketplace::ListingState;

/// A listing's freshness record, if one is stored (an unreadable one counts as none).
pub fn record(core: &Core, id: &str) -> Option<FreshnessRecord> {
    core.extension(KIND, id)
        .and_then(|body| FreshnessRecord::deserialize(body).ok())
}

pub(super) fn record_or_new(core: &Core, id: &str) -> FreshnessRecord {
    record(core, id).unwrap_or_else(|| FreshnessRecord::new(id))
}

/// The write storing a freshness record.
pub fn write(record: &FreshnessRecord) -> Result<Write, LiveError> {
    let corrupt = || LiveError::Corrupt("a freshness record could not be encoded".into());
    let body = serde_json::to_value(record).map_err(|_| corrupt())?;
    ExtensionRecord::new(KIND, record.service_id.clone(), body)
        .map(Write::Extension)
        .ok_or_else(corrupt)
}

pub(super) fn rules(core: &Core) -> &FreshnessRules {
    &core.rules().freshness
}

/// The `http(s)://` website of a listing: the service's `url`, else its organization's
/// `website`.
pub fn website_of(listing: &ListingRecord) -> Option<String> {
    let service = &listing.service;
    let organisation = service
        .organization
        .as_ref()
        .and_then(|o| o.website.clone());
    service
        .url
        .clone()
        .or(organisation)
        .map(|u| u.trim().to_owned())
        .filter(|u| {
            let lower = u.to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        })
}

/// Approved, not deleted.
pub(super) fn live_listing(listing: &ListingRecord) -> bool {
    listing.review == Review::Approved
}

pub(super) fn recipient(listing: &ListingRecord) -> Recipient {
    match &listing.owner {
        Some(owner) => Recipient::Provider(owner.clone()),
        None => Recipient::ServiceContact(listing.service.id.clone()),
    }
}

pub(super) fn notify(
    to: Recipient,
    kind: NotificationKind,
    service_id: Option<&str>,
    detail: Option<String>,
    now: DateTime<Utc>,
) -> Write {
    Write::Notification(Notification {
        id: RandomUuids.next_uuid().to_string(),
        to,
        kind,
        service_id: service_id.map(str::to_owned),
        referral_id: None,
        detail,
        created_at: now,
        sent_at: None,
    })
}

/// Suspends a listing (keeping where it resumes to); returns whether it was not suspended
/// before.
pub(super) fn suspend(listing: &mut ListingRecord) -> bool {
    if listing.state == ListingState::Suspended {
        return false;
    }
    if !matches!(listing.state, ListingState::Paused | ListingState::Frozen) {
        listing.resume_state = listing.state;
    }
    listing.state = ListingState::Suspended;
    true
}
