//! Listings that stay true (feature `live`; the website fetcher needs feature `freshness`):
//! website change checks, three-monthly review cycles and public "out of date" reports.
//!
//! The Joy marketplace scans each provider's website and suspends the listing until the
//! provider confirms or edits it; listings without a website get a manual check every three
//! months; a member of the public who finds an entry out of date gets it suspended pending the
//! provider's answer (`../shared/reference/sources/003_983e8a36e6fbf317.txt`).
//!
//! * Sans-IO core: [`text`] (visible text of HTML), [`contacts`] (UK phone numbers, e-mail
//!   addresses, postcodes, opening times), [`normalise`] (cosmetic normal form, fingerprints),
//!   [`snapshot`] (an [`Observation`] → [`Snapshot`]; [`compare`] → a [`Verdict`] and a
//!   readable list of [`Change`]s), [`rules`] (what a check, a report, a confirmation or the
//!   time does to the records; time is a parameter).
//! * `fetch` (feature `freshness`): the bounded fetcher (`fetch::Checker`: time-out, body
//!   cap, redirect limit with a same-site check, one request at a time per host with a
//!   politeness delay, a clear User-Agent, private addresses refused) and
//!   `Live::check_websites` / `Live::spawn_website_checks`, which run the checks on the
//!   marketplace's clock and store the outcomes.
//! * [`routes`]: the HTTP routes (merged into [`crate::provider_api::app`]).
//!
//! **Cosmetic vs meaningful.** A change of contact details (any phone number, e-mail address,
//! postcode or opening time added or removed), a page gone (404/410), a domain that no longer
//! resolves, or a site that now redirects to another site is *meaningful*: the listing is
//! suspended and the provider notified ([`NotificationKind::WebsiteChanged`], the readable
//! diff in the notification's `detail`). Gone / unresolved / elsewhere must be seen by
//! [`FreshnessRules::unreachable_checks`] checks in a row (default 2, a day apart) first, so a
//! brief outage suspends nothing. Dates, times, counters, whitespace and case are *cosmetic*;
//! other text changes are *content* changes: recorded, not suspending (unless
//! [`FreshnessRules::suspend_on_content_change`]). Both roll the baseline forward. A check
//! that cannot conclude (time-out, size cap, redirect loop, 5xx) changes nothing but the
//! next check time.
//!
//! **Confirming.** The provider confirms (`POST /provider/services/{id}/freshness/confirm`, or
//! the `confirm` state action) or edits the listing: a freshness suspension ends, the pending
//! snapshot becomes the confirmed one, open reports close, and the review clock restarts.
//!
//! **Persistence.** A listing's freshness state is one [`FreshnessRecord`], stored as an
//! extension record of kind [`KIND`] keyed by service id, in the same store, sequence and
//! commits as the listing it belongs to: it survives restarts on SQLite and PostgreSQL and
//! reaches other instances by the same polling.
//!
//! [`NotificationKind::WebsiteChanged`]: crate::live::core::NotificationKind::WebsiteChanged

pub mod contacts;
#[cfg(feature = "freshness")]
pub mod fetch;
pub mod normalise;
pub mod record;
pub mod routes;
pub mod rules;
mod service;
pub mod snapshot;
pub mod text;

use chrono::Duration;

pub use record::{CheckResult, FreshnessRecord, OutOfDateReport, SuspendedBy};
pub use rules::{after_edit, after_state_change, review_tick};
pub use snapshot::{Change, Comparison, Inconclusive, Observation, Snapshot, Verdict, compare};

/// The record kind of [`FreshnessRecord`]s.
pub const KIND: &str = "freshness";

/// The longest reason a public report may give (characters).
pub const MAX_REASON_CHARS: usize = 1_000;

/// The most open reports kept per listing.
pub const MAX_OPEN_REPORTS: usize = 20;

/// The freshness rules, all configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FreshnessRules {
    /// How often each listing's website is checked (7 days).
    pub check_every: Duration,
    /// When an inconclusive or first unreachable check is retried (1 day).
    pub retry_after: Duration,
    /// Checks in a row that must find a site gone, unresolved or elsewhere before the listing
    /// is suspended (2).
    pub unreachable_checks: u32,
    /// Listings without a website are due for review this many months after their last
    /// confirmation (3).
    pub review_every_months: u32,
    /// Whether text changes beyond contact details also suspend (false).
    pub suspend_on_content_change: bool,
}

impl Default for FreshnessRules {
    fn default() -> Self {
        Self {
            check_every: Duration::days(7),
            retry_after: Duration::days(1),
            unreachable_checks: 2,
            review_every_months: 3,
            suspend_on_content_change: false,
        }
    }
}

impl FreshnessRules {
    /// Sets [`FreshnessRules::check_every`].
    #[must_use]
    pub fn check_every(mut self, every: Duration) -> Self {
        self.check_every = every;
        self
    }

    /// Sets [`FreshnessRules::unreachable_checks`] (at least 1).
    #[must_use]
    pub fn unreachable_checks(mut self, checks: u32) -> Self {
        self.unreachable_checks = checks.max(1);
        self
    }
}
