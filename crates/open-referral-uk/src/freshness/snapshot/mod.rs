//! What one check of a website saw ([`Observation`] → [`Snapshot`]) and how two snapshots
//! differ ([`compare`] → [`Comparison`]: a [`Verdict`] and a readable list of [`Change`]s).
//! No IO.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::contacts::{self, ContactDetails, ContactKind};
use super::normalise::{fingerprint, normalise, normalise_line};
use super::text::visible_text;

/// The most visible lines a snapshot keeps for readable diffs.
pub const KEPT_LINES: usize = 200;
/// The most characters of a kept line.
pub const KEPT_LINE_CHARS: usize = 200;
/// The most changed lines listed in one diff (each way).
pub const MAX_LINE_CHANGES: usize = 20;

/// Why a check could not tell whether the page changed (the listing is left alone and the
/// check retried).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Inconclusive {
    /// No complete answer within the time-out (a slow drip, a silent server, slow DNS).
    TimedOut,
    /// The body was larger than the cap (reading stopped there).
    TooLarge,
    /// A redirect led back to an address already visited.
    RedirectLoop,
    /// More redirects than the limit.
    TooManyRedirects,
    /// The connection failed (refused, reset, TLS).
    ConnectFailed,
    /// Another HTTP status (5xx, 403, 429…).
    Status {
        /// The status.
        status: u16,
    },
    /// The page is not text (a PDF, an image).
    NotText,
    /// The website address is not an `http(s)://` URL.
    BadUrl,
    /// The name resolves only to private, loopback or link-local addresses (refused).
    PrivateAddress,
    /// Any other transport failure.
    Transport,
}

impl fmt::Display for Inconclusive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut => f.write_str("the website did not answer in time"),
            Self::TooLarge => f.write_str("the page is larger than the size cap"),
            Self::RedirectLoop => f.write_str("the website redirects in a loop"),
            Self::TooManyRedirects => f.write_str("the website redirects too many times"),
            Self::ConnectFailed => f.write_str("the connection to the website failed"),
            Self::Status { status } => write!(f, "the website answered HTTP {status}"),
            Self::NotText => f.write_str("the page is not text"),
            Self::BadUrl => f.write_str("the website address is not an http(s) URL"),
            Self::PrivateAddress => {
                f.write_str("the website resolves to a private address (not fetched)")
            }
            Self::Transport => f.write_str("the website could not be fetched"),
        }
    }
}

/// What fetching a listing's website found (the fetcher's answer, or a test's).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Observation {
    /// A page (2xx), its body as received (any bytes: invalid UTF-8 is read lossily).
    Page {
        /// The body (at most the size cap).
        body: Vec<u8>,
    },
    /// The page is gone (404 or 410).
    Gone {
        /// The status.
        status: u16,
    },
    /// The domain does not resolve.
    Unresolved,
    /// The site now redirects to another site.
    RedirectedElsewhere {
        /// The other site's host.
        host: String,
    },
    /// Nothing can be concluded.
    Inconclusive(Inconclusive),
}

/// How the website answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PageStatus {
    /// A page.
    Ok,
    /// Gone (404/410).
    Gone {
        /// The HTTP status.
        code: u16,
    },
    /// The domain does not resolve.
    Unresolved,
    /// Redirects to another site.
    RedirectedElsewhere {
        /// That site's host.
        host: String,
    },
}

/// A normalised picture of a website at one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// How it answered.
    pub status: PageStatus,
    /// Its contact details.
    #[serde(default)]
    pub contacts: ContactDetails,
    /// SHA-256 of the normalised text (cosmetic changes do not move it).
    pub fingerprint: String,
    /// SHA-256 of the visible text as shown (any change moves it).
    pub raw_fingerprint: String,
    /// The first [`KEPT_LINES`] visible lines, for readable diffs.
    #[serde(default)]
    pub lines: Vec<String>,
}

impl Snapshot {
    /// The snapshot of a page body.
    pub fn of_page(body: &[u8]) -> Self {
        let html = String::from_utf8_lossy(body);
        let page = visible_text(&html);
        let contacts = contacts::extract(&page.lines, &page.links);
        Self {
            status: PageStatus::Ok,
            contacts,
            fingerprint: fingerprint(&normalise(&page.lines)),
            raw_fingerprint: fingerprint(&page.lines),
            lines: page
                .lines
                .iter()
                .take(KEPT_LINES)
                .map(|l| l.chars().take(KEPT_LINE_CHARS).collect())
                .collect(),
        }
    }

    /// A snapshot of a site that did not serve a page.
    pub fn of_status(status: PageStatus) -> Self {
        Self {
            status,
            contacts: ContactDetails::default(),
            fingerprint: fingerprint::<&str>(&[]),
            raw_fingerprint: fingerprint::<&str>(&[]),
            lines: Vec::new(),
        }
    }

    /// The snapshot of an observation, or why there is none.
    pub fn of(observation: &Observation) -> Result<Self, Inconclusive> {
        Ok(match observation {
            Observation::Page { body } => Self::of_page(body),
            Observation::Gone { status } => Self::of_status(PageStatus::Gone { code: *status }),
            Observation::Unresolved => Self::of_status(PageStatus::Unresolved),
            Observation::RedirectedElsewhere { host } => {
                Self::of_status(PageStatus::RedirectedElsewhere { host: host.clone() })
            }
            Observation::Inconclusive(why) => return Err(why.clone()),
        })
    }
}

/// How much a website changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Not at all.
    Unchanged,
    /// Only dates, counters, whitespace, case.
    Cosmetic,
    /// Text changed, contact details did not (news, descriptions).
    ContentChanged,
    /// Contact details changed, or the page is gone, the domain does not resolve, or the
    /// site redirects elsewhere.
    Meaningful,
}

/// One difference, readable by the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// A contact detail appeared.
    ContactAdded {
        /// Which kind.
        kind: ContactKind,
        /// The detail.
        value: String,
    },
    /// A contact detail disappeared.
    ContactRemoved {
        /// Which kind.
        kind: ContactKind,
        /// The detail.
        value: String,
    },
    /// The page is gone.
    PageGone {
        /// 404 or 410.
        code: u16,
    },
    /// The domain no longer resolves.
    DomainUnresolved,
    /// The site now redirects to another site.
    RedirectsElsewhere {
        /// That site.
        host: String,
    },
    /// The page answers again.
    PageBack,
    /// A line of text appeared.
    LineAdded {
        /// The line as shown.
        text: String,
    },
    /// A line of text disappeared.
    LineRemoved {
        /// The line as shown.
        text: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ContactAdded { kind, value } => write!(f, "{kind} added: {value}"),
            Self::ContactRemoved { kind, value } => write!(f, "{kind} removed: {value}"),
            Self::PageGone { code } => write!(f, "the page is gone (HTTP {code})"),
            Self::DomainUnresolved => f.write_str("the website's domain no longer resolves"),
            Self::RedirectsElsewhere { host } => {
                write!(f, "the website now redirects to another site: {host}")
            }
            Self::PageBack => f.write_str("the website answers again"),
            Self::LineAdded { text } => write!(f, "text added: \"{text}\""),
            Self::LineRemoved { text } => write!(f, "text removed: \"{text}\""),
        }
    }
}

/// The result of comparing a confirmed snapshot with a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Comparison {
    /// How much changed.
    pub verdict: Verdict,
    /// What changed (contact details first, then text lines, capped).
    pub changes: Vec<Change>,
}

impl Comparison {
    /// Whether the change is the site being unreachable (gone, unresolved, elsewhere), which
    /// is confirmed by more than one check before it suspends a listing.
    pub fn unreachable(&self) -> bool {
        self.changes.iter().any(|c| {
            matches!(
                c,
                Change::PageGone { .. }
                    | Change::DomainUnresolved
                    | Change::RedirectsElsewhere { .. }
            )
        })
    }

    /// The changes as a readable list, one per line.
    pub fn readable(&self) -> String {
        readable(&self.changes)
    }
}

/// Changes as a readable list, one per line (`- phone number removed: 0118 496 0000`).
pub fn readable(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("- {c}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn line_changes(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let set =
        |s: &Snapshot| -> BTreeSet<String> { s.lines.iter().map(|l| normalise_line(l)).collect() };
    let (old, new) = (set(before), set(after));
    let mut changes = Vec::new();
    let mut seen = BTreeSet::new();
    for line in &before.lines {
        let n = normalise_line(line);
        if !n.is_empty() && !new.contains(&n) && seen.insert(n) {
            changes.push(Change::LineRemoved { text: line.clone() });
            if changes.len() >= MAX_LINE_CHANGES {
                break;
            }
        }
    }
    let removed = changes.len();
    for line in &after.lines {
        let n = normalise_line(line);
        if !n.is_empty() && !old.contains(&n) && seen.insert(n) {
            changes.push(Change::LineAdded { text: line.clone() });
            if changes.len() - removed >= MAX_LINE_CHANGES {
                break;
            }
        }
    }
    changes
}

/// Compares the confirmed snapshot with a new one.
pub fn compare(confirmed: &Snapshot, observed: &Snapshot) -> Comparison {
    let mut changes = Vec::new();
    match (&confirmed.status, &observed.status) {
        (_, PageStatus::Gone { code }) if confirmed.status != observed.status => {
            changes.push(Change::PageGone { code: *code });
        }
        (_, PageStatus::Unresolved) if confirmed.status != observed.status => {
            changes.push(Change::DomainUnresolved);
        }
        (_, PageStatus::RedirectedElsewhere { host }) if confirmed.status != observed.status => {
            changes.push(Change::RedirectsElsewhere { host: host.clone() });
        }
        (PageStatus::Ok, PageStatus::Ok) => {}
        (_, PageStatus::Ok) => {
            // Back after being gone: a new baseline, not a suspension.
            return Comparison {
                verdict: Verdict::ContentChanged,
                changes: vec![Change::PageBack],
            };
        }
        _ => {
            return Comparison {
                verdict: Verdict::Unchanged,
                changes,
            };
        }
    }
    if !changes.is_empty() {
        return Comparison {
            verdict: Verdict::Meaningful,
            changes,
        };
    }
    for kind in ContactDetails::KINDS {
        let (before, after) = (confirmed.contacts.of(kind), observed.contacts.of(kind));
        for value in before.difference(after) {
            changes.push(Change::ContactRemoved {
                kind,
                value: value.clone(),
            });
        }
        for value in after.difference(before) {
            changes.push(Change::ContactAdded {
                kind,
                value: value.clone(),
            });
        }
    }
    let verdict = if !changes.is_empty() {
        Verdict::Meaningful
    } else if confirmed.fingerprint != observed.fingerprint {
        Verdict::ContentChanged
    } else if confirmed.raw_fingerprint != observed.raw_fingerprint {
        Verdict::Cosmetic
    } else {
        Verdict::Unchanged
    };
    if verdict >= Verdict::ContentChanged {
        changes.extend(line_changes(confirmed, observed));
    }
    Comparison { verdict, changes }
}

#[cfg(test)]
mod tests;
