//! Marketplace listing and referral rules (defaults from the Joy social-prescribing
//! marketplace), layered on top of ORUK services.
//!
//! ORUK has no fields for listing visibility or referral workflow, so the marketplace keeps
//! them in its own model and the directory only *publishes* listable entries: suspended and
//! unlisted entries never appear in public search ([`ListingState::in_public_search`]).
//!
//! The rules, all configurable in [`MarketplaceRules`]:
//! * an entry is **signposting only** or takes **referrals**; a signposting entry needs at least
//!   an email and a postcode so people can get in touch themselves;
//! * a referral not answered within [`MarketplaceRules::auto_decline_after`] (30 days) is
//!   declined automatically ([`Marketplace::tick`]);
//! * [`MarketplaceRules::pause_after_declines`] (5) declines in a row pause the listing and
//!   notify the provider; an accepted referral resets the streak;
//! * [`MarketplaceRules::suspend_after_unanswered`] (3) unanswered (auto-declined) referrals in a
//!   row suspend the listing until the provider confirms it is still running
//!   ([`Marketplace::provider_confirms`]).
//!
//! Time is always a parameter: nothing here reads the clock.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::formats::UkPostcode;
use crate::model::Service;

/// Who can see a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ListingState {
    /// Listed in public search and open to referrals.
    Public,
    /// Reachable by direct link, never in public search.
    Unlisted,
    /// Too many declines: visible but not taking referrals until the provider resumes it.
    Paused,
    /// Too many unanswered referrals: hidden everywhere until the provider confirms.
    Suspended,
    /// Full capacity: still listed (with a note and a waiting time), not taking referrals
    /// until the provider unfreezes it.
    Frozen,
}

impl ListingState {
    /// Whether the entry may appear in public search results and lists.
    pub fn in_public_search(self) -> bool {
        matches!(self, Self::Public | Self::Paused | Self::Frozen)
    }

    /// Whether the entry may be fetched by id.
    pub fn reachable_by_id(self) -> bool {
        !matches!(self, Self::Suspended)
    }

    /// Where a listing in this state returns after a pause or suspension is lifted: an
    /// unlisted entry stays unlisted, any other becomes public.
    fn resumes_to(self) -> Self {
        match self {
            Self::Unlisted => Self::Unlisted,
            _ => Self::Public,
        }
    }
}

/// How people reach the service through the marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryKind {
    /// People are told about the service and contact it themselves.
    SignpostingOnly,
    /// Professionals send referrals that the provider accepts or declines.
    Referral,
}

/// The configurable thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MarketplaceRules {
    /// Unanswered referrals older than this are declined automatically.
    pub auto_decline_after: Duration,
    /// This many declines in a row pause the listing.
    pub pause_after_declines: u32,
    /// This many unanswered referrals in a row suspend the listing.
    pub suspend_after_unanswered: u32,
    /// Whether a signposting entry needs an email and a postcode.
    pub signposting_needs_email_and_postcode: bool,
}

impl Default for MarketplaceRules {
    /// The Joy marketplace defaults.
    fn default() -> Self {
        Self {
            auto_decline_after: Duration::days(30),
            pause_after_declines: 5,
            suspend_after_unanswered: 3,
            signposting_needs_email_and_postcode: true,
        }
    }
}

/// Why a marketplace operation was refused (declared beside [`crate::OrukError`], so that
/// `error`, `formats` and `marketplace` import each other in one direction only).
pub use crate::error::MarketplaceError;

/// A listing of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Listing {
    /// The ORUK service id.
    pub service_id: String,
    /// Signposting only or referral.
    pub kind: EntryKind,
    /// Visibility.
    pub state: ListingState,
    /// Declines in a row (reset by an acceptance).
    pub consecutive_declines: u32,
    /// Unanswered referrals in a row (reset by any answer).
    pub consecutive_unanswered: u32,
    /// Where the listing returns when the provider confirms after a pause or suspension
    /// (an unlisted entry stays unlisted).
    #[serde(skip)]
    resume_state: ListingState,
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReferralStatus {
    /// Waiting for the provider.
    Pending,
    /// The provider accepted it.
    Accepted,
    /// The provider declined it.
    Declined,
    /// Nobody answered in time; declined automatically.
    AutoDeclined,
}

/// A referral to a listed service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Referral {
    /// Caller-chosen id.
    pub id: String,
    /// The service referred to.
    pub service_id: String,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// Where it stands.
    pub status: ReferralStatus,
    /// When it was answered (or auto-declined).
    pub answered_at: Option<DateTime<Utc>>,
}

/// Something the caller must act on (notify someone, update the directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MarketplaceEvent {
    /// A referral was declined because nobody answered in time: tell the referrer.
    ReferralAutoDeclined {
        /// The referral.
        referral_id: String,
        /// The service.
        service_id: String,
    },
    /// The listing was paused after too many declines: notify the provider.
    ListingPaused {
        /// The service.
        service_id: String,
        /// Declines in a row.
        declines: u32,
    },
    /// The listing was suspended after too many unanswered referrals: notify the provider,
    /// who must confirm the service is running.
    ListingSuspended {
        /// The service.
        service_id: String,
        /// Unanswered referrals in a row.
        unanswered: u32,
    },
    /// The listing changed state (mirror it in the directory with
    /// [`crate::search::Directory::set_listing_state`]).
    StateChanged {
        /// The service.
        service_id: String,
        /// The new state.
        state: ListingState,
    },
}

/// What a signposting-only entry lacks: an email (service or organization) and a UK postcode
/// (on one of its addresses) are the minimum; `None` when both are there.
pub(crate) fn signposting_missing(service: &Service) -> Option<&'static str> {
    let has_email = service
        .email
        .as_deref()
        .is_some_and(crate::formats::is_email)
        || service
            .organization
            .as_ref()
            .and_then(|o| o.email.as_deref())
            .is_some_and(crate::formats::is_email);
    let has_postcode = service
        .service_at_locations
        .iter()
        .filter_map(|sal| sal.location.as_ref())
        .flat_map(|location| &location.addresses)
        .any(|address| UkPostcode::try_from(address.postal_code.as_str()).is_ok());
    match (has_email, has_postcode) {
        (true, true) => None,
        (false, true) => Some("an email"),
        (true, false) => Some("a UK postcode"),
        (false, false) => Some("an email and a UK postcode"),
    }
}

/// Listings and referrals under a set of rules.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Marketplace {
    rules: MarketplaceRules,
    listings: BTreeMap<String, Listing>,
    referrals: BTreeMap<String, Referral>,
}

impl Marketplace {
    /// An empty marketplace.
    pub fn new(rules: MarketplaceRules) -> Self {
        Self {
            rules,
            listings: BTreeMap::new(),
            referrals: BTreeMap::new(),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &MarketplaceRules {
        &self.rules
    }

    /// Lists (or re-lists) a service. A signposting-only entry must carry an email (service or
    /// organization) and a UK postcode (on one of its addresses) when the rules say so.
    pub fn list(
        &mut self,
        service: &Service,
        kind: EntryKind,
        state: ListingState,
    ) -> Result<&Listing, MarketplaceError> {
        if kind == EntryKind::SignpostingOnly
            && self.rules.signposting_needs_email_and_postcode
            && let Some(missing) = signposting_missing(service)
        {
            return Err(MarketplaceError::SignpostingIncomplete {
                missing: missing.to_owned(),
            });
        }
        let listing = Listing {
            service_id: service.id.clone(),
            kind,
            state,
            consecutive_declines: 0,
            consecutive_unanswered: 0,
            resume_state: state.resumes_to(),
        };
        let entry = self
            .listings
            .entry(service.id.clone())
            .insert_entry(listing);
        Ok(entry.into_mut())
    }

    /// A listing by service id.
    pub fn listing(&self, service_id: &str) -> Option<&Listing> {
        self.listings.get(service_id)
    }

    /// A referral by id.
    pub fn referral(&self, referral_id: &str) -> Option<&Referral> {
        self.referrals.get(referral_id)
    }

    /// Every listing, by service id.
    pub fn listings(&self) -> impl Iterator<Item = &Listing> {
        self.listings.values()
    }

    /// Whether a service may appear in public search (unlisted services of the directory that
    /// the marketplace does not know are public).
    pub fn in_public_search(&self, service_id: &str) -> bool {
        self.listings
            .get(service_id)
            .is_none_or(|listing| listing.state.in_public_search())
    }

    /// Sends a referral. Refused for signposting-only, paused and suspended listings.
    pub fn refer(
        &mut self,
        referral_id: &str,
        service_id: &str,
        now: DateTime<Utc>,
    ) -> Result<&Referral, MarketplaceError> {
        let listing = self
            .listings
            .get(service_id)
            .ok_or_else(|| MarketplaceError::UnknownListing(service_id.to_owned()))?;
        let refuse = |reason: &str| MarketplaceError::NotTakingReferrals {
            service_id: service_id.to_owned(),
            reason: reason.to_owned(),
        };
        if listing.kind == EntryKind::SignpostingOnly {
            return Err(refuse("signposting only"));
        }
        match listing.state {
            ListingState::Paused => return Err(refuse("paused")),
            ListingState::Suspended => return Err(refuse("suspended")),
            ListingState::Frozen => return Err(refuse("frozen at full capacity")),
            _ => {}
        }
        if self.referrals.contains_key(referral_id) {
            return Err(MarketplaceError::DuplicateReferral(referral_id.to_owned()));
        }
        let referral = Referral {
            id: referral_id.to_owned(),
            service_id: service_id.to_owned(),
            submitted_at: now,
            status: ReferralStatus::Pending,
            answered_at: None,
        };
        Ok(self
            .referrals
            .entry(referral_id.to_owned())
            .insert_entry(referral)
            .into_mut())
    }

    /// The provider accepts a referral: resets both streaks.
    pub fn accept(
        &mut self,
        referral_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<MarketplaceEvent>, MarketplaceError> {
        let service_id = self.answer(referral_id, ReferralStatus::Accepted, now)?;
        if let Some(listing) = self.listings.get_mut(&service_id) {
            listing.consecutive_declines = 0;
            listing.consecutive_unanswered = 0;
        }
        Ok(Vec::new())
    }

    /// The provider declines a referral: counts towards pausing the listing.
    pub fn decline(
        &mut self,
        referral_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<MarketplaceEvent>, MarketplaceError> {
        let service_id = self.answer(referral_id, ReferralStatus::Declined, now)?;
        let mut events = Vec::new();
        if let Some(listing) = self.listings.get_mut(&service_id) {
            listing.consecutive_unanswered = 0;
            listing.consecutive_declines += 1;
            if listing.consecutive_declines >= self.rules.pause_after_declines
                && listing.state == ListingState::Public
            {
                listing.state = ListingState::Paused;
                events.push(MarketplaceEvent::ListingPaused {
                    service_id: service_id.clone(),
                    declines: listing.consecutive_declines,
                });
                events.push(MarketplaceEvent::StateChanged {
                    service_id,
                    state: ListingState::Paused,
                });
            }
        }
        Ok(events)
    }

    fn answer(
        &mut self,
        referral_id: &str,
        status: ReferralStatus,
        now: DateTime<Utc>,
    ) -> Result<String, MarketplaceError> {
        let referral = self
            .referrals
            .get_mut(referral_id)
            .ok_or_else(|| MarketplaceError::UnknownReferral(referral_id.to_owned()))?;
        if referral.status != ReferralStatus::Pending {
            return Err(MarketplaceError::AlreadyAnswered(referral_id.to_owned()));
        }
        referral.status = status;
        referral.answered_at = Some(now);
        Ok(referral.service_id.clone())
    }

    /// Applies the time-based rules at `now`: auto-declines overdue referrals (oldest first)
    /// and suspends listings with too many unanswered referrals in a row.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<MarketplaceEvent> {
        let mut overdue: Vec<(DateTime<Utc>, String)> = self
            .referrals
            .values()
            .filter(|r| {
                r.status == ReferralStatus::Pending
                    && now - r.submitted_at >= self.rules.auto_decline_after
            })
            .map(|r| (r.submitted_at, r.id.clone()))
            .collect();
        overdue.sort();
        let mut events = Vec::new();
        for (_, referral_id) in overdue {
            let Some(referral) = self.referrals.get_mut(&referral_id) else {
                continue;
            };
            referral.status = ReferralStatus::AutoDeclined;
            referral.answered_at = Some(now);
            let service_id = referral.service_id.clone();
            events.push(MarketplaceEvent::ReferralAutoDeclined {
                referral_id,
                service_id: service_id.clone(),
            });
            if let Some(listing) = self.listings.get_mut(&service_id) {
                listing.consecutive_unanswered += 1;
                if listing.consecutive_unanswered >= self.rules.suspend_after_unanswered
                    && listing.state != ListingState::Suspended
                {
                    listing.resume_state = listing.state.resumes_to();
                    listing.state = ListingState::Suspended;
                    events.push(MarketplaceEvent::ListingSuspended {
                        service_id: service_id.clone(),
                        unanswered: listing.consecutive_unanswered,
                    });
                    events.push(MarketplaceEvent::StateChanged {
                        service_id,
                        state: ListingState::Suspended,
                    });
                }
            }
        }
        events
    }

    /// The provider confirms the service is running (after a suspension) or asks to resume
    /// (after a pause): the listing returns to public (or to unlisted, if it was unlisted when
    /// suspended) and the streaks reset.
    pub fn provider_confirms(
        &mut self,
        service_id: &str,
    ) -> Result<Vec<MarketplaceEvent>, MarketplaceError> {
        let listing = self
            .listings
            .get_mut(service_id)
            .ok_or_else(|| MarketplaceError::UnknownListing(service_id.to_owned()))?;
        listing.consecutive_declines = 0;
        listing.consecutive_unanswered = 0;
        if matches!(
            listing.state,
            ListingState::Paused | ListingState::Suspended
        ) {
            listing.state = listing.resume_state;
            return Ok(vec![MarketplaceEvent::StateChanged {
                service_id: service_id.to_owned(),
                state: listing.state,
            }]);
        }
        Ok(Vec::new())
    }

    /// The provider hides or shows the listing (public ⇄ unlisted).
    pub fn set_unlisted(
        &mut self,
        service_id: &str,
        unlisted: bool,
    ) -> Result<Vec<MarketplaceEvent>, MarketplaceError> {
        let listing = self
            .listings
            .get_mut(service_id)
            .ok_or_else(|| MarketplaceError::UnknownListing(service_id.to_owned()))?;
        let next = match (listing.state, unlisted) {
            (ListingState::Public, true) => ListingState::Unlisted,
            (ListingState::Unlisted, false) => ListingState::Public,
            _ => return Ok(Vec::new()),
        };
        listing.state = next;
        listing.resume_state = next;
        Ok(vec![MarketplaceEvent::StateChanged {
            service_id: service_id.to_owned(),
            state: next,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Address, Location, LocationType, ServiceAtLocation, ServiceStatus};
    use chrono::TimeZone;

    const SERVICE_ID: &str = "5f0c4c3a-1b8e-4a59-9b59-0d6a0c2e7f11";

    fn service(email: Option<&str>, postcode: Option<&str>) -> Service {
        let mut service = Service::new(SERVICE_ID, "Walking group", ServiceStatus::Active);
        service.email = email.map(str::to_owned);
        if let Some(postcode) = postcode {
            let mut location = Location::new(
                "7a1f6f0e-8f5e-4c2b-a0a4-0b6e4f0c2d11",
                LocationType::Physical,
            );
            location.addresses.push(Address {
                id: "2c7f6f0e-8f5e-4c2b-a0a4-0b6e4f0c2d12".into(),
                location_id: None,
                attention: None,
                address_1: "1 Park Road".into(),
                city: "Bristol".into(),
                region: None,
                state_province: "Bristol".into(),
                postal_code: postcode.into(),
                country: "GB".into(),
                address_type: LocationType::Physical,
                attributes: Vec::new(),
                extra: Default::default(),
            });
            service.service_at_locations.push(ServiceAtLocation {
                id: "9c7f6f0e-8f5e-4c2b-a0a4-0b6e4f0c2d13".into(),
                service_id: None,
                location_id: None,
                location: Some(location),
                extra: Default::default(),
            });
        }
        service
    }

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() + Duration::days(i64::from(day))
    }

    #[test]
    fn signposting_needs_email_and_postcode() {
        let mut market = Marketplace::default();
        let err = market
            .list(
                &service(None, None),
                EntryKind::SignpostingOnly,
                ListingState::Public,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a signposting-only entry needs an email and a UK postcode"
        );
        let err = market
            .list(
                &service(Some("walk@example.org"), Some("ABC 1234")),
                EntryKind::SignpostingOnly,
                ListingState::Public,
            )
            .unwrap_err();
        assert!(err.to_string().ends_with("a UK postcode"));
        market
            .list(
                &service(Some("walk@example.org"), Some("BS1 5TR")),
                EntryKind::SignpostingOnly,
                ListingState::Public,
            )
            .unwrap();
        let refused = market.refer("r1", SERVICE_ID, at(0)).unwrap_err();
        assert!(matches!(
            refused,
            MarketplaceError::NotTakingReferrals { .. }
        ));
        // A referral entry has no such requirement.
        market
            .list(
                &service(None, None),
                EntryKind::Referral,
                ListingState::Public,
            )
            .unwrap();
    }

    #[test]
    fn unanswered_referral_is_declined_after_30_days() {
        let mut market = Marketplace::default();
        market
            .list(
                &service(None, None),
                EntryKind::Referral,
                ListingState::Public,
            )
            .unwrap();
        market.refer("r1", SERVICE_ID, at(0)).unwrap();
        assert!(market.tick(at(29)).is_empty());
        let events = market.tick(at(30));
        assert_eq!(
            events,
            vec![MarketplaceEvent::ReferralAutoDeclined {
                referral_id: "r1".into(),
                service_id: SERVICE_ID.into()
            }]
        );
        assert_eq!(
            market.referral("r1").unwrap().status,
            ReferralStatus::AutoDeclined
        );
        assert!(market.accept("r1", at(31)).is_err());
    }

    #[test]
    fn five_declines_in_a_row_pause_and_notify() {
        let mut market = Marketplace::default();
        market
            .list(
                &service(None, None),
                EntryKind::Referral,
                ListingState::Public,
            )
            .unwrap();
        for n in 0..4 {
            market.refer(&format!("r{n}"), SERVICE_ID, at(n)).unwrap();
            assert!(market.decline(&format!("r{n}"), at(n)).unwrap().is_empty());
        }
        // An acceptance resets the streak.
        market.refer("ok", SERVICE_ID, at(5)).unwrap();
        market.accept("ok", at(5)).unwrap();
        for n in 10..14 {
            market.refer(&format!("r{n}"), SERVICE_ID, at(n)).unwrap();
            assert!(market.decline(&format!("r{n}"), at(n)).unwrap().is_empty());
        }
        market.refer("r14", SERVICE_ID, at(14)).unwrap();
        let events = market.decline("r14", at(14)).unwrap();
        assert!(matches!(
            events[0],
            MarketplaceEvent::ListingPaused { declines: 5, .. }
        ));
        let listing = market.listing(SERVICE_ID).unwrap();
        assert_eq!(listing.state, ListingState::Paused);
        assert!(listing.state.in_public_search());
        assert!(market.refer("r15", SERVICE_ID, at(15)).is_err());
        market.provider_confirms(SERVICE_ID).unwrap();
        assert!(market.refer("r15", SERVICE_ID, at(15)).is_ok());
    }

    #[test]
    fn unanswered_referrals_in_a_row_suspend_until_confirmed() {
        let mut market = Marketplace::default();
        market
            .list(
                &service(None, None),
                EntryKind::Referral,
                ListingState::Public,
            )
            .unwrap();
        for n in 0..3 {
            market.refer(&format!("r{n}"), SERVICE_ID, at(n)).unwrap();
        }
        let events = market.tick(at(40));
        assert_eq!(events.len(), 5, "{events:?}");
        insta::assert_json_snapshot!(events);
        assert!(matches!(
            events[3],
            MarketplaceEvent::ListingSuspended { unanswered: 3, .. }
        ));
        assert!(!market.in_public_search(SERVICE_ID));
        assert!(!market.listing(SERVICE_ID).unwrap().state.reachable_by_id());
        let events = market.provider_confirms(SERVICE_ID).unwrap();
        assert_eq!(
            events,
            vec![MarketplaceEvent::StateChanged {
                service_id: SERVICE_ID.into(),
                state: ListingState::Public
            }]
        );
        assert!(market.in_public_search(SERVICE_ID));
    }

    #[test]
    fn an_unlisted_entry_stays_unlisted_after_suspension_is_lifted() {
        let mut market = Marketplace::default();
        market
            .list(
                &service(None, None),
                EntryKind::Referral,
                ListingState::Unlisted,
            )
            .unwrap();
        for n in 0..3 {
            market.refer(&format!("r{n}"), SERVICE_ID, at(n)).unwrap();
        }
        market.tick(at(40));
        assert_eq!(
            market.listing(SERVICE_ID).unwrap().state,
            ListingState::Suspended
        );
        let events = market.provider_confirms(SERVICE_ID).unwrap();
        assert_eq!(
            events,
            vec![MarketplaceEvent::StateChanged {
                service_id: SERVICE_ID.into(),
                state: ListingState::Unlisted
            }]
        );
        assert!(!market.in_public_search(SERVICE_ID));
        // Made public later, a suspension then returns it to public.
        market.set_unlisted(SERVICE_ID, false).unwrap();
        for n in 50..53 {
            market.refer(&format!("r{n}"), SERVICE_ID, at(n)).unwrap();
        }
        market.tick(at(90));
        market.provider_confirms(SERVICE_ID).unwrap();
        assert_eq!(
            market.listing(SERVICE_ID).unwrap().state,
            ListingState::Public
        );
    }

    #[test]
    fn thresholds_are_configurable() {
        let rules = MarketplaceRules {
            pause_after_declines: 1,
            ..MarketplaceRules::default()
        };
        let mut market = Marketplace::new(rules);
        market
            .list(
                &service(None, None),
                EntryKind::Referral,
                ListingState::Public,
            )
            .unwrap();
        market.refer("r", SERVICE_ID, at(0)).unwrap();
        assert!(!market.decline("r", at(0)).unwrap().is_empty());
        assert!(market.set_unlisted(SERVICE_ID, true).unwrap().is_empty());
    }

    #[test]
    fn unlisted_is_hidden_from_search() {
        let mut market = Marketplace::default();
        market
            .list(
                &service(None, None),
                EntryKind::Referral,
                ListingState::Public,
            )
            .unwrap();
        market.set_unlisted(SERVICE_ID, true).unwrap();
        assert!(!market.in_public_search(SERVICE_ID));
        assert!(market.listing(SERVICE_ID).unwrap().state.reachable_by_id());
        insta::assert_json_snapshot!(market.listing(SERVICE_ID).unwrap());
    }
}
