//! The marketplace as records and rules, without IO: every command reads the current records
//! and returns the records to write ([`Write`]); nothing changes until the caller has stored
//! them and applies them. Time is a parameter.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use nhs_identifiers::uuid::{RandomUuids, UuidSource};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::LiveError;
use crate::marketplace::{EntryKind, ListingState, MarketplaceRules, ReferralStatus};
use crate::model::Service;
#[cfg(not(feature = "schema"))]
use crate::validate::validate_service;
use crate::validate::{Finding, Severity, ValidationContext};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Principal {
    /// A member of the public (no key).
    Public,
    /// A provider organisation (changes only its own listings).
    Provider(String),
    /// A professional (social prescriber, GP) making referrals for an organisation.
    Professional(String),
    /// A marketplace administrator.
    Admin,
}

/// Where a new or changed listing stands with the reviewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Review {
    /// Waiting for an administrator.
    Pending,
    /// Approved: published according to its [`ListingState`].
    Approved,
    /// Declined by an administrator.
    Declined,
    /// Deleted by its provider or an administrator.
    Deleted,
}

/// One field of a provider's tailored referral form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FormField {
    /// Machine name (the key of the answer).
    pub name: String,
    /// What the form shows.
    pub label: String,
    /// Whether an answer is required.
    #[serde(default)]
    pub required: bool,
}

/// How a referral entry takes referrals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReferralRoute {
    /// The marketplace's form with the provider's own fields.
    Form {
        /// The fields asked.
        fields: Vec<FormField>,
    },
    /// The provider's own external form.
    ExternalLink {
        /// Its address.
        url: String,
    },
}

impl Default for ReferralRoute {
    fn default() -> Self {
        Self::Form { fields: Vec::new() }
    }
}

/// A listing: an ORUK service plus its marketplace state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListingRecord {
    /// The ORUK 3.0 service.
    pub service: Service,
    /// The provider organisation that owns it (`None`: bulk-uploaded and not yet claimed).
    pub owner: Option<String>,
    /// Signposting only or referral.
    pub kind: EntryKind,
    /// Visibility.
    pub state: ListingState,
    /// Where a pause, suspension or freeze returns to.
    pub resume_state: ListingState,
    /// Review status.
    pub review: Review,
    /// When it was submitted for review.
    pub submitted_at: DateTime<Utc>,
    /// When an administrator approved or declined it.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Whether the >48 h review report already named it.
    #[serde(default)]
    pub review_reported: bool,
    /// A note shown on the listing (waiting times when frozen).
    pub note: Option<String>,
    /// Waiting time in weeks (when frozen at full capacity).
    pub waiting_weeks: Option<u32>,
    /// Declines in a row.
    pub consecutive_declines: u32,
    /// Unanswered referrals in a row.
    pub consecutive_unanswered: u32,
    /// How referrals reach the provider.
    pub route: ReferralRoute,
    /// SHA-256 (hex) of the claim token of a bulk-uploaded entry.
    pub claim_hash: Option<String>,
}

/// Self-referral or professional referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReferralKind {
    /// A member of the public refers themself.
    SelfReferral,
    /// A professional refers someone.
    Professional,
}

/// The answers of a referral form. Personal data: `Debug` shows only the field names.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answers(pub BTreeMap<String, String>);

impl fmt::Debug for Answers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A referral.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReferralRecord {
    /// Its id.
    pub id: String,
    /// The service referred to.
    pub service_id: String,
    /// Self or professional.
    pub kind: ReferralKind,
    /// The referring organisation (professional referrals).
    pub referrer: Option<String>,
    /// The form answers.
    pub answers: Answers,
    /// SHA-256 (hex) of the token the referred person uses to give feedback.
    pub token_hash: String,
    /// When it was made.
    pub submitted_at: DateTime<Utc>,
    /// Where it stands.
    pub status: ReferralStatus,
    /// When it was answered (or auto-declined).
    pub answered_at: Option<DateTime<Utc>>,
    /// Reminders sent to the provider.
    pub reminders: u32,
    /// Whether the attendance question was sent.
    pub attendance_asked: bool,
    /// Whether the person attended (provider's answer).
    pub attended: Option<bool>,
    /// The referred person's score (1–5).
    pub score: Option<u8>,
    /// Whether the service met the person's needs.
    pub met_needs: Option<bool>,
}

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Recipient {
    /// A provider organisation.
    Provider(String),
    /// The contact e-mail of a (bulk-uploaded) service.
    ServiceContact(String),
    /// The referrer of a referral.
    Referrer(String),
    /// The marketplace administrators.
    Admins,
}

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// A new referral arrived.
    ReferralReceived,
    /// A referral is still waiting for an answer.
    ReferralReminder,
    /// A referral was declined automatically (30 days unanswered).
    ReferralAutoDeclined,
    /// The provider accepted or declined the referral.
    ReferralAnswered,
    /// Five declines in a row paused the listing.
    ListingPaused,
    /// Unanswered referrals in a row suspended the listing: confirm it still operates.
    ListingSuspended,
    /// Did the referred person attend?
    AttendanceFollowUp,
    /// The listing was approved or declined.
    ListingReviewed,
    /// Listings waiting more than 48 h for review.
    ReviewOverdue,
    /// A bulk-uploaded entry can be claimed with the link.
    ClaimLink,
    /// The website changed meaningfully: the listing is suspended until the provider confirms
    /// or edits it (`detail`: the readable diff).
    WebsiteChanged,
    /// A listing without a website is due for its three-monthly review.
    ReviewDue,
    /// A member of the public reported the entry out of date: suspended until the provider
    /// confirms or edits it (`detail` for the provider: the report).
    ReportedOutOfDate,
}

/// One message in the durable outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notification {
    /// Its id.
    pub id: String,
    /// To whom.
    pub to: Recipient,
    /// What about.
    pub kind: NotificationKind,
    /// The service concerned.
    pub service_id: Option<String>,
    /// The referral concerned.
    pub referral_id: Option<String>,
    /// Extra detail (a claim link, the overdue listing ids); never personal data.
    pub detail: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When a sender delivered it (`None`: still in the outbox).
    pub sent_at: Option<DateTime<Utc>>,
}

/// A record to store.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Write {
    /// A listing, keyed by service id.
    Listing(Box<ListingRecord>),
    /// A referral, keyed by its id.
    Referral(Box<ReferralRecord>),
    /// A notification, keyed by its id.
    Notification(Notification),
    /// A record another module keeps beside the marketplace's (federation provenance and
    /// sync cursors): stored and loaded with the others, never read by the rules.
    Extension(ExtensionRecord),
}

/// The record kinds kept as [`Write::Extension`]s (a module adds its kinds here).
pub const EXTENSION_KINDS: &[&str] = &["federation", "sync_cursor", crate::freshness::KIND];

/// A record of one of the [`EXTENSION_KINDS`]: a JSON body under a key.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExtensionRecord {
    /// One of [`EXTENSION_KINDS`].
    pub kind: &'static str,
    /// The key within the kind.
    pub key: String,
    /// The body.
    pub body: Value,
}

impl ExtensionRecord {
    /// A record of a kind listed in [`EXTENSION_KINDS`] (`None` for any other kind).
    pub fn new(kind: &str, key: impl Into<String>, body: Value) -> Option<Self> {
        let kind = EXTENSION_KINDS.iter().find(|k| **k == kind)?;
        Some(Self {
            kind,
            key: key.into(),
            body,
        })
    }
}

impl Write {
    /// The record kind (`listing`, `referral`, `notification`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Listing(_) => "listing",
            Self::Referral(_) => "referral",
            Self::Notification(_) => "notification",
            Self::Extension(record) => record.kind,
        }
    }

    /// The record key.
    pub fn key(&self) -> &str {
        match self {
            Self::Listing(listing) => &listing.service.id,
            Self::Referral(referral) => &referral.id,
            Self::Notification(notification) => &notification.id,
            Self::Extension(record) => &record.key,
        }
    }

    /// The stored body (JSON).
    pub fn body(&self) -> Result<String, LiveError> {
        let body = match self {
            Self::Listing(listing) => serde_json::to_string(listing),
            Self::Referral(referral) => serde_json::to_string(referral),
            Self::Notification(notification) => serde_json::to_string(notification),
            Self::Extension(record) => serde_json::to_string(&record.body),
        };
        body.map_err(|_| LiveError::Corrupt("a record could not be encoded".into()))
    }

    /// Reads a stored record back (`key`: its key, kept by [`Write::Extension`]s).
    pub fn decode_keyed(kind: &str, key: &str, body: &str) -> Result<Self, LiveError> {
        if EXTENSION_KINDS.contains(&kind) {
            let body = serde_json::from_str(body).map_err(|_| {
                LiveError::Corrupt(format!("a stored {kind} record could not be read"))
            })?;
            return ExtensionRecord::new(kind, key, body)
                .map(Self::Extension)
                .ok_or_else(|| {
                    LiveError::Corrupt(format!("a stored {kind} record could not be read"))
                });
        }
        Self::decode(kind, body)
    }

    /// Reads a stored record back.
    pub fn decode(kind: &str, body: &str) -> Result<Self, LiveError> {
        let corrupt = || LiveError::Corrupt(format!("a stored {kind} record could not be read"));
        Ok(match kind {
            "listing" => Self::Listing(serde_json::from_str(body).map_err(|_| corrupt())?),
            "referral" => Self::Referral(serde_json::from_str(body).map_err(|_| corrupt())?),
            "notification" => {
                Self::Notification(serde_json::from_str(body).map_err(|_| corrupt())?)
            }
            _ => return Err(corrupt()),
        })
    }
}

/// The time rules beyond [`MarketplaceRules`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveRules {
    /// Thresholds shared with [`crate::marketplace`] (30 days, 5 declines, 3 unanswered).
    pub marketplace: MarketplaceRules,
    /// A reminder goes to the provider every this long while a referral waits (7 days).
    pub remind_every: Duration,
    /// Listings waiting longer than this are reported to the administrators (48 h).
    pub review_within: Duration,
    /// The attendance question goes this long after an acceptance (14 days).
    pub attendance_after: Duration,
    /// Website checks and review cycles ([`crate::freshness`]).
    pub freshness: crate::freshness::FreshnessRules,
}

impl Default for LiveRules {
    fn default() -> Self {
        Self {
            marketplace: MarketplaceRules::default(),
            remind_every: Duration::days(7),
            review_within: Duration::hours(48),
            attendance_after: Duration::days(14),
            freshness: crate::freshness::FreshnessRules::default(),
        }
    }
}

/// What a provider or administrator submits for a listing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ListingInput {
    /// The service in ORUK 3.0 shape (checked by the validator).
    pub service: Value,
    /// `signposting_only` or `referral` (default `referral`).
    #[serde(default = "default_kind")]
    pub entry: EntryKind,
    /// `public` (default) or `unlisted`.
    #[serde(default)]
    pub unlisted: bool,
    /// How referrals arrive (referral entries).
    #[serde(default)]
    pub referral_route: ReferralRoute,
    /// For administrators: the owning provider organisation.
    #[serde(default)]
    pub owner: Option<String>,
}

fn default_kind() -> EntryKind {
    EntryKind::Referral
}

/// A change of listing state asked for by a provider or an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum StateAction {
    /// Listed in public search.
    Publish,
    /// Reachable by link only.
    Unlist,
    /// Full capacity: a note and a waiting time in weeks.
    Freeze {
        /// The note shown.
        note: String,
        /// The waiting time in weeks.
        waiting_weeks: u32,
    },
    /// Back from frozen.
    Unfreeze,
    /// Hidden until confirmed (a provider's temporary suspension, or an administrator's).
    Suspend,
    /// The provider confirms the service still operates (ends a pause or suspension).
    Confirm,
}

/// Per-service referral statistics for the insights pages.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Statistics {
    /// Referrals made.
    pub referrals: u32,
    /// Still waiting.
    pub pending: u32,
    /// Accepted.
    pub accepted: u32,
    /// Declined by the provider.
    pub declined: u32,
    /// Declined automatically.
    pub auto_declined: u32,
    /// Accepted among answered referrals (0–1).
    pub acceptance_rate: Option<f64>,
    /// Mean hours from referral to the provider's answer (automatic declines excluded).
    pub mean_response_hours: Option<f64>,
    /// Attended among accepted referrals with an attendance answer (0–1).
    pub attendance_rate: Option<f64>,
    /// Mean score given by referred people.
    pub mean_score: Option<f64>,
}

/// How a change affects the search index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IndexChange {
    None,
    Upsert(Box<Service>, ListingState),
    Remove(String),
}

/// A bulk-uploaded entry's service id and its claim token.
pub type Claim = (String, String);

/// SHA-256 hex of a secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

const MAX_NOTE_CHARS: usize = 500;
const MAX_FIELDS: usize = 50;
const MAX_ANSWER_CHARS: usize = 4_000;

/// Listings, referrals and the outbox, as stored.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Core {
    rules: LiveRules,
    listings: BTreeMap<String, ListingRecord>,
    referrals: BTreeMap<String, ReferralRecord>,
    notifications: BTreeMap<String, Notification>,
    extensions: BTreeMap<(&'static str, String), Value>,
}

impl Core {
    /// Empty, under these rules.
    pub fn new(rules: LiveRules) -> Self {
        Self {
            rules,
            ..Self::default()
        }
    }

    /// The rules.
    pub fn rules(&self) -> &LiveRules {
        &self.rules
    }

    /// A listing by service id.
    pub fn listing(&self, id: &str) -> Option<&ListingRecord> {
        self.listings.get(id)
    }

    /// Every listing.
    pub fn listings(&self) -> impl Iterator<Item = &ListingRecord> {
        self.listings.values()
    }

    /// A referral by id.
    pub fn referral(&self, id: &str) -> Option<&ReferralRecord> {
        self.referrals.get(id)
    }

    /// Every referral.
    pub fn referrals(&self) -> impl Iterator<Item = &ReferralRecord> {
        self.referrals.values()
    }

    /// Every notification (sent or not), oldest first.
    pub fn notifications(&self) -> Vec<&Notification> {
        let mut all: Vec<&Notification> = self.notifications.values().collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }

    /// An extension record's body by kind and key.
    pub fn extension(&self, kind: &str, key: &str) -> Option<&Value> {
        let kind = EXTENSION_KINDS.iter().find(|k| **k == kind)?;
        self.extensions.get(&(*kind, key.to_owned()))
    }

    /// Every extension record of one kind, by key.
    pub fn extensions<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.extensions
            .iter()
            .filter(move |((k, _), _)| *k == kind)
            .map(|((_, key), body)| (key.as_str(), body))
    }

    /// Applies a stored record; returns its effect on the index.
    pub(crate) fn apply(&mut self, write: Write) -> IndexChange {
        match write {
            Write::Listing(listing) => {
                let change = if listing.review == Review::Approved {
                    IndexChange::Upsert(Box::new(listing.service.clone()), listing.state)
                } else {
                    IndexChange::Remove(listing.service.id.clone())
                };
                self.listings.insert(listing.service.id.clone(), *listing);
                change
            }
            Write::Referral(referral) => {
                self.referrals.insert(referral.id.clone(), *referral);
                IndexChange::None
            }
            Write::Notification(notification) => {
                self.notifications
                    .insert(notification.id.clone(), notification);
                IndexChange::None
            }
            Write::Extension(record) => {
                self.extensions
                    .insert((record.kind, record.key), record.body);
                IndexChange::None
            }
        }
    }

    fn notify(
        to: Recipient,
        kind: NotificationKind,
        service_id: Option<&str>,
        referral_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Write {
        Write::Notification(Notification {
            id: RandomUuids.next_uuid().to_string(),
            to,
            kind,
            service_id: service_id.map(str::to_owned),
            referral_id: referral_id.map(str::to_owned),
            detail: None,
            created_at: now,
            sent_at: None,
        })
    }

    fn owner_recipient(listing: &ListingRecord) -> Recipient {
        match &listing.owner {
            Some(owner) => Recipient::Provider(owner.clone()),
            None => Recipient::ServiceContact(listing.service.id.clone()),
        }
    }

    /// Checks an input service: errors refuse (with their JSON paths), warnings come back.
    pub fn check_service(
        input: &Value,
        today: chrono::NaiveDate,
    ) -> Result<(Service, Vec<Finding>), LiveError> {
        // Errors from the official UK-profile schemas when shipped (feature `schema`), warnings
        // from the crate's semantic rules, at the same JSON paths.
        #[cfg(feature = "schema")]
        let report = crate::schema::validate(input, &ValidationContext::on(today));
        #[cfg(not(feature = "schema"))]
        let report = validate_service(input, &ValidationContext::on(today));
        let errors: Vec<Finding> = report.of(Severity::Error).cloned().collect();
        if !errors.is_empty() {
            return Err(LiveError::Invalid(errors));
        }
        let service: Service = serde_json::from_value(input.clone()).map_err(|_| {
            LiveError::BadRequest("`service` does not fit the ORUK 3.0 service model".into())
        })?;
        let warnings = report.of(Severity::Warning).cloned().collect();
        Ok((service, warnings))
    }

    /// Checks a listing input without the records: the service (errors refuse, warnings come
    /// back), the signposting minimum under the default rules, and the referral route.
    pub fn check_input(
        input: &ListingInput,
        today: chrono::NaiveDate,
    ) -> Result<(Service, Vec<Finding>), LiveError> {
        let (service, warnings) = Self::check_service(&input.service, today)?;
        Self::default().check_entry(&service, input.entry)?;
        Self::check_route(input.entry, &input.referral_route)?;
        Ok((service, warnings))
    }

    fn owned<'a>(
        &'a self,
        principal: &Principal,
        id: &str,
    ) -> Result<&'a ListingRecord, LiveError> {
        let listing = self
            .listings
            .get(id)
            .filter(|l| l.review != Review::Deleted)
            .ok_or(LiveError::NotFound("no listing with this id"))?;
        match principal {
            Principal::Admin => Ok(listing),
            Principal::Provider(org) if listing.owner.as_deref() == Some(org.as_str()) => {
                Ok(listing)
            }
            Principal::Provider(_) => Err(LiveError::Forbidden(
                "this listing belongs to another provider organisation",
            )),
            _ => Err(LiveError::Unauthorized),
        }
    }

    fn check_route(kind: EntryKind, route: &ReferralRoute) -> Result<(), LiveError> {
        match route {
            ReferralRoute::Form { fields } => {
                if fields.len() > MAX_FIELDS {
                    return Err(LiveError::BadRequest(format!(
                        "`referral_route.form.fields` has more than {MAX_FIELDS} fields"
                    )));
                }
                let mut names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                names.sort_unstable();
                if names.windows(2).any(|w| w[0] == w[1]) || names.iter().any(|n| n.is_empty()) {
                    return Err(LiveError::BadRequest(
                        "`referral_route.form.fields` names must be unique and non-empty".into(),
                    ));
                }
            }
            ReferralRoute::ExternalLink { url } => {
                if !crate::formats::is_uri(url) {
                    return Err(LiveError::BadRequest(
                        "`referral_route.external_link.url` is not an absolute URL".into(),
                    ));
                }
            }
        }
        if kind == EntryKind::SignpostingOnly
            && !matches!(route, ReferralRoute::Form { fields } if fields.is_empty())
        {
            return Err(LiveError::BadRequest(
                "a signposting-only entry takes no referral route".into(),
            ));
        }
        Ok(())
    }

    /// A provider (or an administrator for a provider) submits a new listing; it waits for
    /// review. Returns the write and the validator's warnings.
    pub fn create_listing(
        &self,
        principal: &Principal,
        input: ListingInput,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Write>, Vec<Finding>), LiveError> {
        let owner = match principal {
            Principal::Provider(org) => Some(org.clone()),
            Principal::Admin => input.owner.clone(),
            _ => return Err(LiveError::Unauthorized),
        };
        let (service, warnings) = Self::check_service(&input.service, now.date_naive())?;
        // A deleted listing's id may be listed again (a new review starts).
        if self
            .listings
            .get(&service.id)
            .is_some_and(|l| l.review != Review::Deleted)
        {
            return Err(LiveError::Conflict("a listing with this service id exists"));
        }
        self.check_entry(&service, input.entry)?;
        Self::check_route(input.entry, &input.referral_route)?;
        let state = if input.unlisted {
            ListingState::Unlisted
        } else {
            ListingState::Public
        };
        let listing = ListingRecord {
            service,
            owner,
            kind: input.entry,
            state,
            resume_state: state,
            review: Review::Pending,
            submitted_at: now,
            reviewed_at: None,
            review_reported: false,
            note: None,
            waiting_weeks: None,
            consecutive_declines: 0,
            consecutive_unanswered: 0,
            route: input.referral_route,
            claim_hash: None,
        };
        Ok((vec![Write::Listing(Box::new(listing))], warnings))
    }

    fn check_entry(&self, service: &Service, kind: EntryKind) -> Result<(), LiveError> {
        if kind == EntryKind::SignpostingOnly
            && self.rules.marketplace.signposting_needs_email_and_postcode
            && let Some(missing) = crate::marketplace::signposting_missing(service)
        {
            return Err(LiveError::BadRequest(format!(
                "a signposting-only entry needs {missing}"
            )));
        }
        Ok(())
    }

    /// The owner (or an administrator) replaces the service of a listing; the path id and the
    /// service id must agree.
    pub fn edit_listing(
        &self,
        principal: &Principal,
        id: &str,
        input: ListingInput,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Write>, Vec<Finding>), LiveError> {
        let current = self.owned(principal, id)?;
        let (service, warnings) = Self::check_service(&input.service, now.date_naive())?;
        if service.id != id {
            return Err(LiveError::BadRequest(
                "`service.id` differs from the listing id in the path".into(),
            ));
        }
        self.check_entry(&service, input.entry)?;
        Self::check_route(input.entry, &input.referral_route)?;
        let mut listing = current.clone();
        listing.service = service;
        listing.kind = input.entry;
        listing.route = input.referral_route;
        if principal == &Principal::Admin && input.owner.is_some() {
            listing.owner = input.owner;
        }
        Ok((vec![Write::Listing(Box::new(listing))], warnings))
    }

    /// The owner (or an administrator) deletes a listing.
    pub fn delete_listing(&self, principal: &Principal, id: &str) -> Result<Vec<Write>, LiveError> {
        let mut listing = self.owned(principal, id)?.clone();
        listing.review = Review::Deleted;
        Ok(vec![Write::Listing(Box::new(listing))])
    }

    /// An administrator approves or declines a listing waiting for review.
    pub fn review(
        &self,
        principal: &Principal,
        id: &str,
        approve: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Write>, LiveError> {
        if principal != &Principal::Admin {
            return Err(LiveError::Forbidden(
                "only an administrator reviews listings",
            ));
        }
        let listing = self
            .listings
            .get(id)
            .ok_or(LiveError::NotFound("no listing with this id"))?;
        match listing.review {
            Review::Pending => {}
            Review::Deleted => return Err(LiveError::Conflict("the listing was deleted")),
            Review::Approved | Review::Declined => {
                return Err(LiveError::Conflict("the listing was already reviewed"));
            }
        }
        let mut listing = listing.clone();
        listing.review = if approve {
            Review::Approved
        } else {
            Review::Declined
        };
        listing.reviewed_at = Some(now);
        let notice = Self::notify(
            Self::owner_recipient(&listing),
            NotificationKind::ListingReviewed,
            Some(id),
            None,
            now,
        );
        Ok(vec![Write::Listing(Box::new(listing)), notice])
    }

    /// Listings waiting for review, oldest first, each with whether it has waited longer than
    /// [`LiveRules::review_within`].
    pub fn review_queue(&self, now: DateTime<Utc>) -> Vec<(&ListingRecord, bool)> {
        let mut queue: Vec<(&ListingRecord, bool)> = self
            .listings
            .values()
            .filter(|l| l.review == Review::Pending)
            .map(|l| (l, now - l.submitted_at > self.rules.review_within))
            .collect();
        queue.sort_by_key(|a| a.0.submitted_at);
        queue
    }

    /// A listing state change. Providers: publish/unlist, freeze/unfreeze, suspend, confirm.
    /// Administrators also. Illegal changes are refused with [`LiveError::Conflict`].
    pub fn set_state(
        &self,
        principal: &Principal,
        id: &str,
        action: StateAction,
    ) -> Result<Vec<Write>, LiveError> {
        let mut listing = self.owned(principal, id)?.clone();
        use ListingState as S;
        match (&action, listing.state) {
            (StateAction::Publish, S::Public | S::Unlisted) => {
                listing.state = S::Public;
                listing.resume_state = S::Public;
            }
            (StateAction::Unlist, S::Public | S::Unlisted) => {
                listing.state = S::Unlisted;
                listing.resume_state = S::Unlisted;
            }
            (StateAction::Publish | StateAction::Unlist, _) => {
                return Err(LiveError::Conflict(
                    "a paused, suspended or frozen listing must be resumed first",
                ));
            }
            (StateAction::Freeze { note, .. }, S::Public | S::Unlisted | S::Frozen) => {
                if note.chars().count() > MAX_NOTE_CHARS {
                    return Err(LiveError::BadRequest(format!(
                        "`note` is longer than {MAX_NOTE_CHARS} characters"
                    )));
                }
                if listing.state != S::Frozen {
                    listing.resume_state = listing.state;
                }
                listing.state = S::Frozen;
            }
            (StateAction::Freeze { .. }, _) => {
                return Err(LiveError::Conflict(
                    "only a public or unlisted listing can be frozen",
                ));
            }
            (StateAction::Unfreeze, S::Frozen) => {
                listing.state = listing.resume_state;
            }
            (StateAction::Unfreeze, _) => {
                return Err(LiveError::Conflict("the listing is not frozen"));
            }
            (StateAction::Suspend, S::Suspended) => {
                return Err(LiveError::Conflict("the listing is already suspended"));
            }
            (StateAction::Suspend, state) => {
                if !matches!(state, S::Paused | S::Frozen) {
                    listing.resume_state = state;
                }
                listing.state = S::Suspended;
            }
            (StateAction::Confirm, S::Paused | S::Suspended) => {
                listing.state = listing.resume_state;
                listing.consecutive_declines = 0;
                listing.consecutive_unanswered = 0;
            }
            (StateAction::Confirm, _) => {
                return Err(LiveError::Conflict(
                    "only a paused or suspended listing is confirmed",
                ));
            }
        }
        match action {
            StateAction::Freeze {
                note,
                waiting_weeks,
            } => {
                listing.note = Some(note);
                listing.waiting_weeks = Some(waiting_weeks);
            }
            StateAction::Unfreeze => {
                listing.note = None;
                listing.waiting_weeks = None;
            }
            _ => {}
        }
        Ok(vec![Write::Listing(Box::new(listing))])
    }

    /// An administrator's bulk upload: approved, public entries without an owner; each gets a
    /// claim token (returned once, stored hashed) sent to the service's contact.
    pub fn bulk_upload(
        &self,
        principal: &Principal,
        services: Vec<Value>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Write>, Vec<Claim>), LiveError> {
        if principal != &Principal::Admin {
            return Err(LiveError::Forbidden(
                "only an administrator uploads in bulk",
            ));
        }
        let mut writes = Vec::new();
        let mut claims = Vec::new();
        for (index, input) in services.iter().enumerate() {
            let (service, _) =
                Self::check_service(input, now.date_naive()).map_err(|e| match e {
                    LiveError::Invalid(findings) => LiveError::Invalid(
                        findings
                            .into_iter()
                            .map(|mut f| {
                                f.path = f.path.replacen('$', &format!("$[{index}]"), 1);
                                f
                            })
                            .collect(),
                    ),
                    other => other,
                })?;
            if self.listings.contains_key(&service.id)
                || claims.iter().any(|(id, _)| id == &service.id)
            {
                return Err(LiveError::Conflict("a listing with this service id exists"));
            }
            let token = RandomUuids.next_uuid().simple().to_string();
            let id = service.id.clone();
            let listing = ListingRecord {
                service,
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
                claim_hash: Some(hash_secret(&token)),
            };
            let mut notice = Self::notify(
                Recipient::ServiceContact(id.clone()),
                NotificationKind::ClaimLink,
                Some(&id),
                None,
                now,
            );
            if let Write::Notification(n) = &mut notice {
                n.detail = Some(format!("/claim/{token}"));
            }
            writes.push(Write::Listing(Box::new(listing)));
            writes.push(notice);
            claims.push((id, token));
        }
        Ok((writes, claims))
    }

    /// A provider claims a bulk-uploaded entry with its token (every entry sharing the
    /// token: onboarding sends one link per provider for all its entries).
    pub fn claim(&self, principal: &Principal, token: &str) -> Result<Vec<Write>, LiveError> {
        let Principal::Provider(org) = principal else {
            return Err(LiveError::Forbidden(
                "only a provider organisation claims entries",
            ));
        };
        let hash = hash_secret(token);
        let writes: Vec<Write> = self
            .listings
            .values()
            .filter(|l| l.claim_hash.as_deref() == Some(hash.as_str()))
            .map(|listing| {
                let mut listing = listing.clone();
                listing.owner = Some(org.clone());
                listing.claim_hash = None;
                Write::Listing(Box::new(listing))
            })
            .collect();
        if writes.is_empty() {
            return Err(LiveError::NotFound("no entry to claim with this link"));
        }
        Ok(writes)
    }

    /// A self-referral (public) or a professional referral. Returns the writes, the referral
    /// id and the feedback token (returned once, stored hashed).
    pub fn refer(
        &self,
        principal: &Principal,
        service_id: &str,
        answers: BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Write>, String, String), LiveError> {
        let listing = self
            .listings
            .get(service_id)
            .filter(|l| l.review == Review::Approved)
            .filter(|l| l.state.reachable_by_id())
            .ok_or(LiveError::NotFound("no listing with this id"))?;
        let (kind, referrer) = match principal {
            Principal::Public => (ReferralKind::SelfReferral, None),
            Principal::Professional(org) | Principal::Provider(org) => {
                (ReferralKind::Professional, Some(org.clone()))
            }
            Principal::Admin => (ReferralKind::Professional, None),
        };
        if listing.kind == EntryKind::SignpostingOnly {
            return Err(LiveError::Conflict(
                "this entry is signposting only: contact the service directly",
            ));
        }
        match listing.state {
            ListingState::Paused => return Err(LiveError::Conflict("the listing is paused")),
            ListingState::Frozen => {
                return Err(LiveError::Conflict(
                    "the listing is frozen at full capacity",
                ));
            }
            ListingState::Suspended => {
                return Err(LiveError::Conflict("the listing is suspended"));
            }
            _ => {}
        }
        let fields = match &listing.route {
            ReferralRoute::ExternalLink { .. } => {
                return Err(LiveError::Conflict(
                    "this provider takes referrals through its own form: see referral_form",
                ));
            }
            ReferralRoute::Form { fields } => fields,
        };
        for (name, value) in &answers {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(LiveError::BadRequest(
                    "an answer names a field the form does not have".into(),
                ));
            }
            if value.chars().count() > MAX_ANSWER_CHARS {
                return Err(LiveError::BadRequest(format!(
                    "an answer is longer than {MAX_ANSWER_CHARS} characters"
                )));
            }
        }
        if let Some(missing) = fields
            .iter()
            .find(|f| f.required && answers.get(&f.name).is_none_or(|v| v.trim().is_empty()))
        {
            return Err(LiveError::BadRequest(format!(
                "the form field `{}` is required",
                missing.name
            )));
        }
        let id = RandomUuids.next_uuid().to_string();
        let token = RandomUuids.next_uuid().simple().to_string();
        let referral = ReferralRecord {
            id: id.clone(),
            service_id: service_id.to_owned(),
            kind,
            referrer,
            answers: Answers(answers),
            token_hash: hash_secret(&token),
            submitted_at: now,
            status: ReferralStatus::Pending,
            answered_at: None,
            reminders: 0,
            attendance_asked: false,
            attended: None,
            score: None,
            met_needs: None,
        };
        let notice = Self::notify(
            Self::owner_recipient(listing),
            NotificationKind::ReferralReceived,
            Some(service_id),
            Some(&id),
            now,
        );
        Ok((vec![Write::Referral(Box::new(referral)), notice], id, token))
    }

    fn owned_referral(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(&ReferralRecord, &ListingRecord), LiveError> {
        let referral = self
            .referrals
            .get(id)
            .ok_or(LiveError::NotFound("no referral with this id"))?;
        let listing = self
            .listings
            .get(&referral.service_id)
            .ok_or(LiveError::NotFound("no referral with this id"))?;
        match principal {
            Principal::Admin => {}
            Principal::Provider(org) if listing.owner.as_deref() == Some(org.as_str()) => {}
            Principal::Provider(_) => {
                return Err(LiveError::Forbidden(
                    "this referral is for another provider organisation",
                ));
            }
            _ => return Err(LiveError::Unauthorized),
        }
        Ok((referral, listing))
    }

    /// The provider accepts or declines a pending referral. Five declines in a row pause the
    /// listing and notify the provider; any answer resets the unanswered streak.
    pub fn answer(
        &self,
        principal: &Principal,
        id: &str,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Write>, LiveError> {
        let (referral, listing) = self.owned_referral(principal, id)?;
        if referral.status != ReferralStatus::Pending {
            return Err(LiveError::Conflict("the referral was already answered"));
        }
        let mut referral = referral.clone();
        let mut listing = listing.clone();
        referral.status = if accept {
            ReferralStatus::Accepted
        } else {
            ReferralStatus::Declined
        };
        referral.answered_at = Some(now);
        listing.consecutive_unanswered = 0;
        let mut writes = Vec::new();
        if accept {
            listing.consecutive_declines = 0;
        } else {
            listing.consecutive_declines += 1;
            if listing.consecutive_declines >= self.rules.marketplace.pause_after_declines
                && matches!(listing.state, ListingState::Public | ListingState::Unlisted)
            {
                listing.resume_state = listing.state;
                listing.state = ListingState::Paused;
                writes.push(Self::notify(
                    Self::owner_recipient(&listing),
                    NotificationKind::ListingPaused,
                    Some(&listing.service.id),
                    None,
                    now,
                ));
            }
        }
        if let Some(referrer) = &referral.referrer {
            writes.push(Self::notify(
                Recipient::Referrer(referrer.clone()),
                NotificationKind::ReferralAnswered,
                Some(&referral.service_id),
                Some(id),
                now,
            ));
        }
        writes.insert(0, Write::Listing(Box::new(listing)));
        writes.insert(1, Write::Referral(Box::new(referral)));
        Ok(writes)
    }

    /// The provider says whether the person attended (accepted referrals).
    pub fn attendance(
        &self,
        principal: &Principal,
        id: &str,
        attended: bool,
    ) -> Result<Vec<Write>, LiveError> {
        let (referral, _) = self.owned_referral(principal, id)?;
        if referral.status != ReferralStatus::Accepted {
            return Err(LiveError::Conflict(
                "attendance is recorded for accepted referrals only",
            ));
        }
        let mut referral = referral.clone();
        referral.attended = Some(attended);
        Ok(vec![Write::Referral(Box::new(referral))])
    }

    /// The referred person scores the service (1–5) with the token they were given.
    pub fn feedback(
        &self,
        id: &str,
        token: &str,
        score: u8,
        met_needs: Option<bool>,
    ) -> Result<Vec<Write>, LiveError> {
        let referral = self
            .referrals
            .get(id)
            .filter(|r| r.token_hash == hash_secret(token))
            .ok_or(LiveError::NotFound("no referral with this id and token"))?;
        if !(1..=5).contains(&score) {
            return Err(LiveError::BadRequest("`score` must be 1 to 5".into()));
        }
        if referral.status != ReferralStatus::Accepted {
            return Err(LiveError::Conflict(
                "feedback is given for accepted referrals only",
            ));
        }
        let mut referral = referral.clone();
        referral.score = Some(score);
        referral.met_needs = met_needs;
        Ok(vec![Write::Referral(Box::new(referral))])
    }

    /// The time rules at `now`: reminders, 30-day automatic declines (and suspension after
    /// unanswered referrals in a row), attendance follow-ups, the >48 h review report.
    pub fn tick(&self, now: DateTime<Utc>) -> Vec<Write> {
        let rules = &self.rules;
        let mut writes = Vec::new();
        let mut listings: BTreeMap<String, ListingRecord> = BTreeMap::new();
        let mut pending: Vec<&ReferralRecord> = self
            .referrals
            .values()
            .filter(|r| r.status == ReferralStatus::Pending)
            .collect();
        pending.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then(a.id.cmp(&b.id)));
        for referral in pending {
            let Some(listing) = listings
                .get(&referral.service_id)
                .or_else(|| self.listings.get(&referral.service_id))
                .cloned()
            else {
                continue;
            };
            let age = now - referral.submitted_at;
            if age >= rules.marketplace.auto_decline_after {
                let mut referral = referral.clone();
                let mut listing = listing;
                referral.status = ReferralStatus::AutoDeclined;
                referral.answered_at = Some(now);
                listing.consecutive_unanswered += 1;
                if let Some(referrer) = &referral.referrer {
                    writes.push(Self::notify(
                        Recipient::Referrer(referrer.clone()),
                        NotificationKind::ReferralAutoDeclined,
                        Some(&referral.service_id),
                        Some(&referral.id),
                        now,
                    ));
                }
                if listing.consecutive_unanswered >= rules.marketplace.suspend_after_unanswered
                    && listing.state != ListingState::Suspended
                {
                    if !matches!(listing.state, ListingState::Paused | ListingState::Frozen) {
                        listing.resume_state = listing.state;
                    }
                    listing.state = ListingState::Suspended;
                    writes.push(Self::notify(
                        Self::owner_recipient(&listing),
                        NotificationKind::ListingSuspended,
                        Some(&listing.service.id),
                        None,
                        now,
                    ));
                }
                writes.push(Write::Referral(Box::new(referral)));
                listings.insert(listing.service.id.clone(), listing);
                continue;
            }
            let due = i32::try_from(age.num_seconds() / rules.remind_every.num_seconds().max(1))
                .unwrap_or(i32::MAX);
            if due > i32::try_from(referral.reminders).unwrap_or(i32::MAX) {
                let mut referral = referral.clone();
                referral.reminders = u32::try_from(due).unwrap_or(u32::MAX);
                writes.push(Self::notify(
                    Self::owner_recipient(&listing),
                    NotificationKind::ReferralReminder,
                    Some(&referral.service_id),
                    Some(&referral.id),
                    now,
                ));
                writes.push(Write::Referral(Box::new(referral)));
            }
        }
        for referral in self.referrals.values() {
            if referral.status == ReferralStatus::Accepted
                && !referral.attendance_asked
                && referral
                    .answered_at
                    .is_some_and(|at| now - at >= rules.attendance_after)
                && let Some(listing) = self.listings.get(&referral.service_id)
            {
                let mut referral = referral.clone();
                referral.attendance_asked = true;
                writes.push(Self::notify(
                    Self::owner_recipient(listing),
                    NotificationKind::AttendanceFollowUp,
                    Some(&referral.service_id),
                    Some(&referral.id),
                    now,
                ));
                writes.push(Write::Referral(Box::new(referral)));
            }
        }
        let overdue: Vec<&ListingRecord> = self
            .review_queue(now)
            .into_iter()
            .filter(|(l, overdue)| *overdue && !l.review_reported)
            .map(|(l, _)| l)
            .collect();
        if !overdue.is_empty() {
            let mut notice = Self::notify(
                Recipient::Admins,
                NotificationKind::ReviewOverdue,
                None,
                None,
                now,
            );
            if let Write::Notification(n) = &mut notice {
                n.detail = Some(
                    overdue
                        .iter()
                        .map(|l| l.service.id.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                );
            }
            writes.push(notice);
            for listing in overdue {
                let mut listing = listings
                    .remove(&listing.service.id)
                    .unwrap_or_else(|| listing.clone());
                listing.review_reported = true;
                listings.insert(listing.service.id.clone(), listing);
            }
        }
        for listing in listings.into_values() {
            writes.push(Write::Listing(Box::new(listing)));
        }
        writes
    }

    /// Marks a notification delivered.
    pub fn mark_sent(&self, id: &str, now: DateTime<Utc>) -> Vec<Write> {
        match self.notifications.get(id) {
            Some(n) if n.sent_at.is_none() => {
                let mut n = n.clone();
                n.sent_at = Some(now);
                vec![Write::Notification(n)]
            }
            _ => Vec::new(),
        }
    }

    /// Referral statistics of one service.
    pub fn statistics(&self, service_id: &str) -> Statistics {
        let mut stats = Statistics::default();
        let (mut response_hours, mut responses) = (0.0, 0u32);
        let (mut attended, mut attendance_answers) = (0u32, 0u32);
        let (mut score_sum, mut scores) = (0u32, 0u32);
        for r in self
            .referrals
            .values()
            .filter(|r| r.service_id == service_id)
        {
            stats.referrals += 1;
            match r.status {
                ReferralStatus::Pending => stats.pending += 1,
                ReferralStatus::Accepted => stats.accepted += 1,
                ReferralStatus::Declined => stats.declined += 1,
                ReferralStatus::AutoDeclined => stats.auto_declined += 1,
            }
            if matches!(
                r.status,
                ReferralStatus::Accepted | ReferralStatus::Declined
            ) && let Some(at) = r.answered_at
            {
                response_hours += (at - r.submitted_at).num_seconds() as f64 / 3600.0;
                responses += 1;
            }
            if let Some(a) = r.attended {
                attendance_answers += 1;
                attended += u32::from(a);
            }
            if let Some(s) = r.score {
                scores += 1;
                score_sum += u32::from(s);
            }
        }
        let answered = stats.accepted + stats.declined + stats.auto_declined;
        let ratio = |a: u32, b: u32| (b > 0).then(|| f64::from(a) / f64::from(b));
        stats.acceptance_rate = ratio(stats.accepted, answered);
        stats.mean_response_hours = (responses > 0).then(|| response_hours / f64::from(responses));
        stats.attendance_rate = ratio(attended, attendance_answers);
        stats.mean_score = ratio(score_sum, scores);
        stats
    }
}
