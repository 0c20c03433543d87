//! The three-monthly review cycle of listings without a website.

use chrono::{DateTime, Months, Utc};

use super::{live_listing, notify, recipient, record, record_or_new, rules, website_of, write};
use crate::live::LiveError;
use crate::live::core::{Core, ListingRecord, NotificationKind, Recipient, Write};

/// The review cycle at `now`: approved listings without a website whose last confirmation
/// (or approval) is [`crate::freshness::FreshnessRules::review_every_months`] old join the due-for-review
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
