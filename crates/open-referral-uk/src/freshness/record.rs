//! The freshness state of one listing, stored as a record of kind `freshness` keyed by
//! service id (beside its `listing` record, in the same store and sequence).

use chrono::{DateTime, Utc};
use nhs_identifiers::redact::Redacted;
use serde::{Deserialize, Serialize};

use super::snapshot::{Change, Inconclusive, Snapshot, Verdict};

/// What the last website check concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckResult {
    /// The first look at this website: its snapshot is the confirmed one.
    Baseline,
    /// Compared with the confirmed snapshot.
    Compared {
        /// How much changed.
        verdict: Verdict,
    },
    /// Gone, unresolved or elsewhere, not yet seen often enough in a row to suspend.
    Unreachable {
        /// Checks in a row that found it so.
        strikes: u32,
    },
    /// Nothing could be concluded.
    Inconclusive {
        /// Why.
        why: Inconclusive,
    },
}

/// Why freshness suspended a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SuspendedBy {
    /// The website changed meaningfully.
    WebsiteChange,
    /// A member of the public reported the entry out of date.
    Report,
}

/// A public report that an entry is out of date. The reason is free text from the public:
/// `Debug` never shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutOfDateReport {
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// What the reporter wrote (at most [`super::MAX_REASON_CHARS`]).
    pub reason: Redacted<String>,
}

/// The freshness state of one listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FreshnessRecord {
    /// The listing's service id.
    pub service_id: String,
    /// The website the snapshots are of (a new website starts a new baseline).
    #[serde(default)]
    pub website: Option<String>,
    /// The snapshot the provider last confirmed (or the baseline, rolled forward by
    /// cosmetic and content-only changes).
    #[serde(default)]
    pub confirmed: Option<Snapshot>,
    /// The snapshot that suspended the listing, waiting for the provider.
    #[serde(default)]
    pub pending: Option<Snapshot>,
    /// What changed between `confirmed` and `pending`.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// When the website was last checked.
    #[serde(default)]
    pub last_checked_at: Option<DateTime<Utc>>,
    /// When the website is checked next.
    #[serde(default)]
    pub next_check_at: Option<DateTime<Utc>>,
    /// What the last check concluded.
    #[serde(default)]
    pub last_result: Option<CheckResult>,
    /// Checks in a row that found the site gone, unresolved or elsewhere.
    #[serde(default)]
    pub strikes: u32,
    /// Inconclusive checks in a row.
    #[serde(default)]
    pub inconclusive_in_a_row: u32,
    /// When the provider (or an administrator's manual review) last confirmed the entry.
    #[serde(default)]
    pub last_confirmed_at: Option<DateTime<Utc>>,
    /// Since when a listing without a website waits in the due-for-review queue.
    #[serde(default)]
    pub review_due_since: Option<DateTime<Utc>>,
    /// Whether (and why) freshness suspended the listing.
    #[serde(default)]
    pub suspended_by: Option<SuspendedBy>,
    /// Open reports from the public.
    #[serde(default)]
    pub reports: Vec<OutOfDateReport>,
}

impl FreshnessRecord {
    /// A fresh record for a listing.
    pub fn new(service_id: impl Into<String>) -> Self {
        Self {
            service_id: service_id.into(),
            website: None,
            confirmed: None,
            pending: None,
            changes: Vec::new(),
            last_checked_at: None,
            next_check_at: None,
            last_result: None,
            strikes: 0,
            inconclusive_in_a_row: 0,
            last_confirmed_at: None,
            review_due_since: None,
            suspended_by: None,
            reports: Vec::new(),
        }
    }
}
