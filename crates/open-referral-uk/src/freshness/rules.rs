//! What checks, reports, confirmations and time do to the records, without IO: each function
//! reads the current [`Core`] and returns the [`Write`]s to commit (the caller stores and
//! applies them, like every marketplace command). Time is a parameter.

use std::collections::BTreeMap;

use chrono::{DateTime, Months, Utc};
use nhs_identifiers::redact::Redacted;
use nhs_identifiers::uuid::{RandomUuids, UuidSource};
use serde::Deserialize;

use super::record::{CheckResult, FreshnessRecord, OutOfDateReport, SuspendedBy};
use super::snapshot::{Inconclusive, PageStatus, Snapshot, Verdict, compare, readable};
use super::{FreshnessRules, KIND, MAX_OPEN_REPORTS, MAX_REASON_CHARS};
use crate::live::LiveError;
use crate::live::core::{
    Core, ExtensionRecord, ListingRecord, Notification, NotificationKind, Principal, Recipient,
    Review, StateAction, Write,
};
use crate::marketplace::ListingState;

/// A listing's freshness record, if one is stored (an unreadable one counts as none).
pub fn record(core: &Core, id: &str) -> Option<FreshnessRecord> {
    core.extension(KIND, id)
        .and_then(|body| FreshnessRecord::deserialize(body).ok())
}

fn record_or_new(core: &Core, id: &str) -> FreshnessRecord {
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

fn rules(core: &Core) -> &FreshnessRules {
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
fn live_listing(listing: &ListingRecord) -> bool {
    listing.review == Review::Approved
}

fn recipient(listing: &ListingRecord) -> Recipient {
    match &listing.owner {
        Some(owner) => Recipient::Provider(owner.clone()),
        None => Recipient::ServiceContact(listing.service.id.clone()),
    }
}

fn notify(
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
fn suspend(listing: &mut ListingRecord) -> bool {
    if listing.state == ListingState::Suspended {
        return false;
    }
    if !matches!(listing.state, ListingState::Paused | ListingState::Frozen) {
        listing.resume_state = listing.state;
    }
    listing.state = ListingState::Suspended;
    true
}

/// One website to check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DueCheck {
    /// The listing.
    pub service_id: String,
    /// Its website.
    pub url: String,
}

/// The listings whose website is due for a check at `now`, longest waiting first: approved
/// listings with a website, not waiting for their provider after a freshness suspension,
/// whose next check time has come (or never checked, or whose website changed).
pub fn due_checks(core: &Core, now: DateTime<Utc>) -> Vec<DueCheck> {
    let mut due: Vec<(Option<DateTime<Utc>>, DueCheck)> = core
        .listings()
        .filter(|l| live_listing(l))
        .filter_map(|listing| {
            let url = website_of(listing)?;
            let record = record(core, &listing.service.id);
            let next = match &record {
                Some(r) if r.suspended_by.is_some() => return None,
                Some(r) if r.website.as_deref() == Some(url.as_str()) => r.next_check_at,
                _ => None,
            };
            next.is_none_or(|at| at <= now).then(|| {
                (
                    next,
                    DueCheck {
                        service_id: listing.service.id.clone(),
                        url,
                    },
                )
            })
        })
        .collect();
    due.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.service_id.cmp(&b.1.service_id)));
    due.into_iter().map(|(_, d)| d).collect()
}

/// The outcome of one check, for [`record_checks`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckOutcome {
    /// The listing.
    pub service_id: String,
    /// The website fetched.
    pub url: String,
    /// When the fetch started.
    pub checked_at: DateTime<Utc>,
    /// The snapshot, or why there is none.
    pub snapshot: Result<Snapshot, Inconclusive>,
}

impl CheckOutcome {
    /// An outcome.
    pub fn new(
        service_id: impl Into<String>,
        url: impl Into<String>,
        checked_at: DateTime<Utc>,
        snapshot: Result<Snapshot, Inconclusive>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            url: url.into(),
            checked_at,
            snapshot,
        }
    }
}

/// What one batch of checks did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckSummary {
    /// Outcomes recorded.
    pub checked: usize,
    /// First looks (baselines).
    pub baselines: usize,
    /// Unchanged or cosmetic only.
    pub unchanged: usize,
    /// Text changed, contact details did not.
    pub content_changed: usize,
    /// Listings suspended for a meaningful change.
    pub suspended: usize,
    /// Gone / unresolved / elsewhere, waiting for a confirming check.
    pub unreachable: usize,
    /// Nothing concluded.
    pub inconclusive: usize,
    /// Outcomes dropped (the listing changed or another instance checked first).
    pub skipped: usize,
}

impl CheckSummary {
    /// The sum of two summaries.
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self {
            checked: self.checked + other.checked,
            baselines: self.baselines + other.baselines,
            unchanged: self.unchanged + other.unchanged,
            content_changed: self.content_changed + other.content_changed,
            suspended: self.suspended + other.suspended,
            unreachable: self.unreachable + other.unreachable,
            inconclusive: self.inconclusive + other.inconclusive,
            skipped: self.skipped + other.skipped,
        }
    }
}

/// Records check outcomes: baselines, rolled-forward snapshots, suspensions with the
/// provider's notification, retries. Returns the writes and what happened.
pub fn record_checks(
    core: &Core,
    outcomes: &[CheckOutcome],
    now: DateTime<Utc>,
) -> Result<(Vec<Write>, CheckSummary), LiveError> {
    let rules = rules(core);
    let mut summary = CheckSummary::default();
    let mut records: BTreeMap<String, FreshnessRecord> = BTreeMap::new();
    let mut listings: BTreeMap<String, ListingRecord> = BTreeMap::new();
    let mut notices = Vec::new();
    for outcome in outcomes {
        let id = &outcome.service_id;
        let Some(listing) = listings
            .get(id)
            .cloned()
            .or_else(|| core.listing(id).cloned())
            .filter(live_listing)
        else {
            summary.skipped += 1;
            continue;
        };
        if website_of(&listing).as_deref() != Some(outcome.url.as_str()) {
            summary.skipped += 1;
            continue;
        }
        let mut record = records
            .remove(id)
            .unwrap_or_else(|| record_or_new(core, id));
        if record.suspended_by.is_some()
            || record
                .last_checked_at
                .is_some_and(|at| at >= outcome.checked_at)
        {
            summary.skipped += 1;
            records.insert(id.clone(), record);
            continue;
        }
        summary.checked += 1;
        if record.website.as_deref() != Some(outcome.url.as_str()) {
            record.website = Some(outcome.url.clone());
            record.confirmed = None;
            record.strikes = 0;
        }
        record.last_checked_at = Some(outcome.checked_at);
        record.next_check_at = Some(now + rules.check_every);
        let snapshot = match &outcome.snapshot {
            Err(why) => {
                record.inconclusive_in_a_row += 1;
                record.next_check_at = Some(now + rules.retry_after);
                record.last_result = Some(CheckResult::Inconclusive { why: why.clone() });
                summary.inconclusive += 1;
                records.insert(id.clone(), record);
                continue;
            }
            Ok(snapshot) => snapshot.clone(),
        };
        record.inconclusive_in_a_row = 0;
        let confirmed = match &record.confirmed {
            Some(confirmed) => confirmed.clone(),
            None if snapshot.status == PageStatus::Ok => {
                record.confirmed = Some(snapshot);
                record.last_result = Some(CheckResult::Baseline);
                summary.baselines += 1;
                records.insert(id.clone(), record);
                continue;
            }
            // A listing whose website is dead from the first look: compare with a page.
            None => Snapshot::of_page(b""),
        };
        let comparison = compare(&confirmed, &snapshot);
        let suspends = comparison.verdict == Verdict::Meaningful
            || comparison.verdict == Verdict::ContentChanged
                && rules.suspend_on_content_change
                && comparison
                    .changes
                    .iter()
                    .all(|c| !matches!(c, super::Change::PageBack));
        if !suspends {
            record.strikes = 0;
            if comparison.verdict != Verdict::Unchanged {
                record.confirmed = Some(snapshot);
            }
            record.last_result = Some(CheckResult::Compared {
                verdict: comparison.verdict,
            });
            if comparison.verdict == Verdict::ContentChanged {
                summary.content_changed += 1;
            } else {
                summary.unchanged += 1;
            }
            records.insert(id.clone(), record);
            continue;
        }
        if comparison.unreachable() && record.strikes + 1 < rules.unreachable_checks {
            record.strikes += 1;
            record.next_check_at = Some(now + rules.retry_after);
            record.last_result = Some(CheckResult::Unreachable {
                strikes: record.strikes,
            });
            summary.unreachable += 1;
            records.insert(id.clone(), record);
            continue;
        }
        record.strikes = 0;
        record.pending = Some(snapshot);
        record.changes = comparison.changes.clone();
        record.last_result = Some(CheckResult::Compared {
            verdict: comparison.verdict,
        });
        let mut listing = listing;
        if suspend(&mut listing) {
            record.suspended_by = Some(SuspendedBy::WebsiteChange);
            listings.insert(id.clone(), listing.clone());
        } else {
            // Already suspended for another reason: the provider's confirmation covers both;
            // an edit alone does not lift the other suspension.
            record.suspended_by = None;
        }
        notices.push(notify(
            recipient(&listing),
            NotificationKind::WebsiteChanged,
            Some(id),
            Some(format!(
                "The website {} changed. Please edit the listing or confirm it is still correct.\n{}",
                outcome.url,
                readable(&comparison.changes)
            )),
            now,
        ));
        summary.suspended += 1;
        records.insert(id.clone(), record);
    }
    let mut writes: Vec<Write> = listings
        .into_values()
        .map(|l| Write::Listing(Box::new(l)))
        .collect();
    for record in records.values() {
        writes.push(write(record)?);
    }
    writes.extend(notices);
    Ok((writes, summary))
}

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

/// The review cycle at `now`: approved listings without a website whose last confirmation
/// (or approval) is [`FreshnessRules::review_every_months`] old join the due-for-review
/// queue; the provider is asked to confirm or edit, the administrators get the list.
pub fn review_tick(core: &Core, now: DateTime<Utc>) -> Result<Vec<Write>, LiveError> {
    let months = Months::new(rules(core).review_every_months);
    let mut writes = Vec::new();
    let mut due_ids = Vec::new();
    for listing in core.listings().filter(|l| live_listing(l)) {
        if website_of(listing).is_some() {
            continue;
        }
        let id = &listing.service.id;
        let mut record = record_or_new(core, id);
        if record.review_due_since.is_some() {
            continue;
        }
        let since = record
            .last_confirmed_at
            .or(listing.reviewed_at)
            .unwrap_or(listing.submitted_at);
        let Some(due_at) = since.checked_add_months(months) else {
            continue;
        };
        if now < due_at {
            continue;
        }
        record.review_due_since = Some(now);
        record.website = None;
        writes.push(write(&record)?);
        writes.push(notify(
            recipient(listing),
            NotificationKind::ReviewDue,
            Some(id),
            Some(
                "Your entry is due for its three-monthly review: please confirm it is still \
                 correct or edit it."
                    .into(),
            ),
            now,
        ));
        due_ids.push(id.clone());
    }
    if !due_ids.is_empty() {
        writes.push(notify(
            Recipient::Admins,
            NotificationKind::ReviewDue,
            None,
            Some(due_ids.join(",")),
            now,
        ));
    }
    Ok(writes)
}

/// The due-for-review queue: listings (approved, not deleted) waiting since when, oldest
/// first.
pub fn review_queue(core: &Core) -> Vec<(&ListingRecord, DateTime<Utc>)> {
    let mut queue: Vec<(&ListingRecord, DateTime<Utc>)> = core
        .listings()
        .filter(|l| live_listing(l))
        .filter_map(|l| Some((l, record(core, &l.service.id)?.review_due_since?)))
        .collect();
    queue.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.service.id.cmp(&b.0.service.id)));
    queue
}

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
