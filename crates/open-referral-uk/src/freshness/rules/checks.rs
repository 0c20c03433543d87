//! Which websites are due, and what a batch of check outcomes does to the records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    live_listing, notify, recipient, record, record_or_new, rules, suspend, website_of, write,
};
use crate::freshness::record::{CheckResult, FreshnessRecord, SuspendedBy};
use crate::freshness::snapshot::{Inconclusive, PageStatus, Snapshot, Verdict, compare, readable};
use crate::live::LiveError;
use crate::live::core::{Core, ListingRecord, NotificationKind, Write};

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
/// listings with a website, not waiting for their provider after a meaningful change,
/// whose next check time has come (or never checked, or whose website changed).
pub fn due_checks(core: &Core, now: DateTime<Utc>) -> Vec<DueCheck> {
    let mut due: Vec<(Option<DateTime<Utc>>, DueCheck)> = core
        .listings()
        .filter(|l| live_listing(l))
        .filter_map(|listing| {
            let url = website_of(listing)?;
            let record = record(core, &listing.service.id);
            let next = match &record {
                Some(r) if r.suspended_by.is_some() || r.pending.is_some() => return None,
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
            || record.pending.is_some()
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
                    .all(|c| !matches!(c, crate::freshness::Change::PageBack));
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
