//! What an upload writes, without IO: new entries unclaimed (no owner, a claim-token hash,
//! approved and public, signposting only), changed unclaimed entries updated, claimed or
//! removed ones left alone, and one claim e-mail per provider with new entries.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use nhs_identifiers::uuid::{RandomUuids, UuidSource};
use serde::Serialize;

use super::rows::MappedRow;
use crate::live::core::{
    Core, ListingRecord, Notification, NotificationKind, Recipient, ReferralRoute, Review, Write,
    hash_secret,
};
use crate::marketplace::{EntryKind, ListingState};

/// The claim link sent to one provider for its new entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProviderClaim {
    /// The entries the link claims.
    pub service_ids: Vec<String>,
    /// `/provider/claim/{token}` (the token is stored hashed; this is the only copy).
    pub claim_link: String,
    /// The outbox notification carrying it.
    pub notification_id: String,
}

/// What happened to each row that made a service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Planned {
    /// New entries (service ids).
    pub created: Vec<String>,
    /// Unclaimed entries whose content changed.
    pub updated: Vec<String>,
    /// Entries already as uploaded.
    pub unchanged: Vec<String>,
    /// Entries already claimed by their provider (who keeps them up to date): not changed.
    pub kept_claimed: Vec<String>,
    /// Entries removed earlier (deleted): not brought back.
    pub kept_removed: Vec<String>,
    /// One per provider with new entries.
    pub claims: Vec<ProviderClaim>,
}

pub(crate) fn plan(core: &Core, rows: &[MappedRow], now: DateTime<Utc>) -> (Vec<Write>, Planned) {
    let mut writes = Vec::new();
    let mut planned = Planned::default();
    let mut new_by_provider: BTreeMap<&str, Vec<&MappedRow>> = BTreeMap::new();
    let mut order = Vec::new();
    for row in rows {
        let id = row.service.id.clone();
        match core.listing(&id) {
            Some(listing) if listing.review == Review::Deleted => planned.kept_removed.push(id),
            Some(listing) if listing.owner.is_some() => planned.kept_claimed.push(id),
            Some(listing) if listing.service == row.service => planned.unchanged.push(id),
            Some(listing) => {
                let mut listing = listing.clone();
                listing.service = row.service.clone();
                writes.push(Write::Listing(Box::new(listing)));
                planned.updated.push(id);
            }
            None => {
                if !new_by_provider.contains_key(row.provider.as_str()) {
                    order.push(row.provider.as_str());
                }
                new_by_provider
                    .entry(row.provider.as_str())
                    .or_default()
                    .push(row);
            }
        }
    }
    for provider in order {
        let Some(entries) = new_by_provider.get(provider) else {
            continue;
        };
        let token = RandomUuids.next_uuid().simple().to_string();
        let hash = hash_secret(&token);
        let mut service_ids = Vec::new();
        for row in entries {
            let listing = ListingRecord {
                service: row.service.clone(),
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
                claim_hash: Some(hash.clone()),
            };
            writes.push(Write::Listing(Box::new(listing)));
            service_ids.push(row.service.id.clone());
            planned.created.push(row.service.id.clone());
        }
        let claim_link = format!("/provider/claim/{token}");
        let first = service_ids.first().cloned().unwrap_or_default();
        let notification = Notification {
            id: RandomUuids.next_uuid().to_string(),
            // The first entry's contact e-mail (every row of a provider has one).
            to: Recipient::ServiceContact(first.clone()),
            kind: NotificationKind::ClaimLink,
            service_id: Some(first),
            referral_id: None,
            detail: Some(claim_link.clone()),
            created_at: now,
            sent_at: None,
        };
        planned.claims.push(ProviderClaim {
            service_ids,
            claim_link,
            notification_id: notification.id.clone(),
        });
        writes.push(Write::Notification(notification));
    }
    (writes, planned)
}
