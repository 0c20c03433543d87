//! Applying what a peer sent, without IO: the writes that import, agree or keep each entry
//! by [`super::rule`], and the stamp that marks local edits with a fresh `last_modified`.

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, Utc};
use serde::Serialize;

use super::record::{self, ListingFederation, Provenance, content_hash, listing_state};
use super::rule::{Decision, Version, decide};
use crate::live::core::{Core, ListingRecord, ReferralRoute, Review, Write};
use crate::marketplace::{EntryKind, ListingState};
use crate::model::Service;

/// A peer's full service, checked by the validator, ready to be decided.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Fetched {
    /// The service.
    pub service: Service,
}

/// What happened to one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// New here.
    Imported,
    /// The peer's edit replaced ours (unchanged here).
    Updated,
    /// Both edited; the peer's version won the conflict.
    ConflictImported,
    /// Same content on both sides.
    Unchanged,
    /// Edited here, unchanged at the peer: ours stays (the peer takes it).
    KeptLocalEdit,
    /// Both edited; our version won the conflict.
    ConflictKept,
    /// Deleted here: not brought back.
    KeptDeleted,
}

/// A `last_modified` that is readable and not in the future (five minutes of clock skew
/// allowed): a peer cannot win every conflict by dating its entries ahead.
pub(crate) fn modified(text: Option<&str>, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let at = DateTime::parse_from_rfc3339(text?).ok()?;
    (at.with_timezone(&Utc) <= now + Duration::minutes(5)).then_some(at)
}

fn stamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The writes deciding each fetched entry from `peer`, and each entry's outcome.
pub(crate) fn plan(
    core: &Core,
    local_id: &str,
    peer: &str,
    fetched: &[Fetched],
    now: DateTime<Utc>,
) -> (Vec<Write>, Vec<Outcome>) {
    let mut writes = Vec::new();
    let mut outcomes = Vec::new();
    for entry in fetched {
        let id = entry.service.id.as_str();
        let listing = core.listing(id);
        if listing.is_some_and(|l| l.review == Review::Deleted) {
            outcomes.push(Outcome::KeptDeleted);
            continue;
        }
        let mut state = listing_state(core, id);
        let local_hash = listing.map(|l| content_hash(&l.service));
        let remote_hash = content_hash(&entry.service);
        let local = listing.zip(local_hash.as_deref()).map(|(l, hash)| {
            Version::new(
                hash,
                modified(l.service.last_modified.as_deref(), now),
                local_id,
            )
        });
        let remote = Version::new(
            &remote_hash,
            modified(entry.service.last_modified.as_deref(), now),
            peer,
        );
        let decision = decide(
            local.as_ref(),
            &remote,
            state.bases.get(peer).map(String::as_str),
        );
        let outcome = match decision {
            Decision::ImportNew => Outcome::Imported,
            Decision::ImportChanged => Outcome::Updated,
            Decision::ImportConflict => Outcome::ConflictImported,
            Decision::Agree => Outcome::Unchanged,
            Decision::KeepLocalEdit => Outcome::KeptLocalEdit,
            _ => Outcome::ConflictKept,
        };
        outcomes.push(outcome);
        if decision.imports() {
            let record = match listing {
                Some(listing) => {
                    let mut listing = listing.clone();
                    listing.service = entry.service.clone();
                    listing
                }
                None => ListingRecord {
                    service: entry.service.clone(),
                    owner: None,
                    kind: EntryKind::SignpostingOnly,
                    state: ListingState::Public,
                    resume_state: ListingState::Public,
                    review: Review::Approved,
                    submitted_at: now,
                    reviewed_at: Some(now),
                    review_reported: false,
                    note: None,
                    waiting_weeks: None,
                    consecutive_declines: 0,
                    consecutive_unanswered: 0,
                    route: ReferralRoute::default(),
                    claim_hash: None,
                },
            };
            state.provenance = Some(Provenance {
                directory: peer.to_owned(),
                imported_at: now,
                remote_modified: entry.service.last_modified.clone(),
                content_hash: remote_hash.clone(),
            });
            state.bases.insert(peer.to_owned(), remote_hash.clone());
            state.local_hash = Some(remote_hash);
            state.local_modified = entry.service.last_modified.clone();
            writes.push(Write::Listing(Box::new(record)));
        } else if decision == Decision::Agree && state.bases.get(peer) != Some(&remote_hash) {
            state.bases.insert(peer.to_owned(), remote_hash);
        } else {
            continue;
        }
        writes.extend(record::listing_write(id, &state));
    }
    (writes, outcomes)
}

/// Local edits since federation last looked that left `last_modified` as it was get
/// `last_modified` = now, so a peer sees a newer version (and a content that went back to an
/// earlier one still differs from it); an edit that set its own `last_modified` keeps it.
/// Listings federation has never looked at are only remembered.
pub(crate) fn stamp_local_edits(core: &Core, now: DateTime<Utc>) -> Vec<Write> {
    let mut writes = Vec::new();
    for listing in core.listings().filter(|l| l.review != Review::Deleted) {
        let id = listing.service.id.as_str();
        let mut state: ListingFederation = listing_state(core, id);
        let hash = content_hash(&listing.service);
        match state.local_hash.as_deref() {
            Some(known) if known == hash => continue,
            Some(_) if listing.service.last_modified == state.local_modified => {
                let mut listing = listing.clone();
                listing.service.last_modified = Some(stamp(now));
                state.local_hash = Some(content_hash(&listing.service));
                state.local_modified = listing.service.last_modified.clone();
                writes.push(Write::Listing(Box::new(listing)));
            }
            _ => {
                state.local_hash = Some(hash);
                state.local_modified = listing.service.last_modified.clone();
            }
        }
        writes.extend(record::listing_write(id, &state));
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceStatus;
    use chrono::TimeZone;

    const ID: &str = "9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80";

    fn apply(core: &mut Core, writes: Vec<Write>) {
        for write in writes {
            core.apply(write);
        }
    }

    #[test]
    fn import_then_agree_then_keep_a_local_edit() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let mut core = Core::default();
        let service = Service::new(ID, "Walk", ServiceStatus::Active);
        let fetched = [Fetched {
            service: service.clone(),
        }];
        let (writes, outcomes) = plan(&core, "here", "peer", &fetched, now);
        assert_eq!(outcomes, [Outcome::Imported]);
        apply(&mut core, writes);
        assert_eq!(core.listing(ID).unwrap().service, service);
        let state = listing_state(&core, ID);
        assert_eq!(state.provenance.as_ref().unwrap().directory, "peer");
        // The same again: nothing to write.
        let (writes, outcomes) = plan(&core, "here", "peer", &fetched, now);
        assert_eq!((writes.len(), outcomes[0]), (0, Outcome::Unchanged));
        assert!(stamp_local_edits(&core, now).is_empty());
        // An edit here is stamped, then kept against the peer's unchanged copy.
        let mut listing = core.listing(ID).unwrap().clone();
        listing.service.name = "Walks".into();
        core.apply(Write::Listing(Box::new(listing)));
        let stamps = stamp_local_edits(&core, now);
        assert_eq!(stamps.len(), 2);
        apply(&mut core, stamps);
        assert_eq!(
            core.listing(ID).unwrap().service.last_modified.as_deref(),
            Some("2026-03-01T09:00:00.000Z")
        );
        let (_, outcomes) = plan(&core, "here", "peer", &fetched, now);
        assert_eq!(outcomes, [Outcome::KeptLocalEdit]);
    }

    #[test]
    fn future_dates_do_not_count() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        assert!(modified(Some("2026-03-01T09:04:00Z"), now).is_some());
        assert!(modified(Some("2099-01-01T00:00:00Z"), now).is_none());
        assert!(modified(Some("yesterday"), now).is_none());
    }
}
