//! Validated identifiers: wards, task ids, audit ids and the staff member completing an audit.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use nhs_identifiers::redact::Redact;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::AssuranceError;

fn invalid(field: &str, reason: impl Into<String>) -> AssuranceError {
    AssuranceError::InvalidField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Check a short single-line text: trimmed, 1..=max characters, no control characters.
pub(crate) fn short_text(field: &str, value: &str, max: usize) -> Result<String, AssuranceError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// A ward name as the hub and the dashboard spell it, e.g. `Ward 7` or `Maple Ward`.
///
/// Leading and trailing spaces are dropped and inner runs of whitespace become one space.
/// Two wards are equal when they are equal ignoring ASCII case (`Ward 7` = `WARD 7`), so the
/// dashboard's and the hub's spellings meet; [`Ward::as_str`] keeps the spelling given.
/// Cloning is cheap (shared).
#[derive(Clone)]
pub struct Ward {
    name: Arc<str>,
    key: Arc<str>,
}

impl Ward {
    /// Longest accepted ward name, in characters.
    pub const MAX_LEN: usize = 100;

    /// Validate and normalise a ward name.
    ///
    /// # Errors
    /// [`AssuranceError::InvalidField`] (`ward`) when empty, too long or containing control
    /// characters.
    pub fn new(name: &str) -> Result<Self, AssuranceError> {
        Self::for_field("ward", name)
    }

    pub(crate) fn for_field(field: &str, name: &str) -> Result<Self, AssuranceError> {
        let text = short_text(field, name, Self::MAX_LEN)?;
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let key = collapsed.to_ascii_lowercase();
        Ok(Self {
            name: Arc::from(collapsed),
            key: Arc::from(key),
        })
    }

    /// The ward name as given (normalised whitespace).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The comparison key: the name in lower case (what equality and hashing use, and what
    /// database stores index).
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for Ward {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Ward {}
impl Hash for Ward {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}
impl fmt::Debug for Ward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ward").field(&&*self.name).finish()
    }
}
impl fmt::Display for Ward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
impl Serialize for Ward {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}
impl<'de> Deserialize<'de> for Ward {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::new(&value).map_err(serde::de::Error::custom)
    }
}
impl TryFrom<&str> for Ward {
    type Error = AssuranceError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

/// Longest accepted [`TaskId`], [`AuditId`] or [`StaffId`], in characters.
const ID_MAX_LEN: usize = 128;

/// Declares a validated id with the shared [`nhs_identifiers::text_id!`]: 1 to 128 characters
/// after trimming, no control characters; errors name `$field`.
macro_rules! assurance_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:ident) => {
        fn $check(value: &str) -> Result<String, AssuranceError> {
            short_text($field, value, ID_MAX_LEN)
        }

        nhs_identifiers::text_id! {
            $(#[$doc])*
            pub struct $name; validate = $check, error = AssuranceError;
        }

        impl $name {
            /// Longest accepted id, in characters.
            pub const MAX_LEN: usize = ID_MAX_LEN;
        }
    };
}

assurance_id!(
    /// A hub task id, e.g. `T-1001`: 1 to 128 characters after trimming, no control
    /// characters ([`AssuranceError::InvalidField`] naming `id` otherwise).
    TaskId,
    "id",
    check_task_id
);
assurance_id!(
    /// The assurance dashboard's audit id, e.g. `AUD-2026-0001`. One audit completes at most
    /// one task. 1 to 128 characters after trimming, no control characters
    /// ([`AssuranceError::InvalidField`] naming `auditId` otherwise).
    AuditId,
    "auditId",
    check_audit_id
);

impl AuditId {
    /// Validates an audit id whose errors name `field` (e.g. `audit.id` in a webhook).
    pub(crate) fn for_field(field: &str, value: &str) -> Result<Self, AssuranceError> {
        short_text(field, value, Self::MAX_LEN).map(Self)
    }
}
assurance_id!(
    /// A staff member's id in the Trust's directory, e.g. `S10042`: 1 to 128 characters after
    /// trimming, no control characters ([`AssuranceError::InvalidField`] naming
    /// `completedBy.staffId` otherwise).
    StaffId,
    "completedBy.staffId",
    check_staff_id
);

/// The person who completed an audit. `Debug` shows the length of the name, e-mail and staff
/// id only.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StaffMember {
    /// Display name.
    pub name: String,
    /// Work e-mail, when the dashboard sends one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Directory id, when the sender gives one (the dashboard webhook does; the design's
    /// sync body, whose `completedBy` is a plain name, does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<StaffId>,
}

impl StaffMember {
    /// Validate a staff member: a name (1..=200 characters), an optional e-mail (at most 254
    /// characters, one `@` with text on both sides) and an optional staff id (blank counts as
    /// absent).
    ///
    /// # Errors
    /// [`AssuranceError::InvalidField`] naming the field under `completedBy`.
    pub fn new(
        name: &str,
        email: Option<&str>,
        staff_id: Option<&str>,
    ) -> Result<Self, AssuranceError> {
        let name = short_text("completedBy.name", name, 200)?;
        let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(e) => {
                let e = short_text("completedBy.email", e, 254)?;
                match e.split_once('@') {
                    Some((local, domain))
                        if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
                    {
                        Some(e)
                    }
                    _ => return Err(invalid("completedBy.email", "is not an e-mail address")),
                }
            }
        };
        let staff_id = match staff_id.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(id) => Some(StaffId::new(id)?),
        };
        Ok(Self {
            name,
            email,
            staff_id,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStaffMember {
    name: String,
    email: Option<String>,
    staff_id: Option<String>,
}

impl<'de> Deserialize<'de> for StaffMember {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireStaffMember::deserialize(deserializer)?;
        Self::new(&wire.name, wire.email.as_deref(), wire.staff_id.as_deref())
            .map_err(serde::de::Error::custom)
    }
}

/// A staff id in a redacted `Debug` shows its length only.
impl Redact for StaffId {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt_redacted(f)
    }
}

// `Debug` shows the shape of the name, e-mail and staff id (`<12 chars>`), never the text.
nhs_identifiers::debug_redacted!(StaffMember {
    name: redacted,
    email: redacted,
    staff_id: redacted,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ward_normalises_and_ignores_case() {
        let a = Ward::new("  Ward   7 ").unwrap();
        let b = Ward::new("WARD 7").unwrap();
        assert_eq!(a.as_str(), "Ward 7");
        assert_eq!(a, b);
        assert_ne!(a, Ward::new("Ward 8").unwrap());
        assert!(Ward::new("   ").is_err());
        assert!(Ward::new("Ward\u{0}7").is_err());
        assert!(Ward::new(&"x".repeat(101)).is_err());
    }

    #[test]
    fn staff_debug_is_masked() {
        let s =
            StaffMember::new("Alex Example", Some("alex.example@nhs.test"), Some("S1")).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("Alex Example"));
        assert!(!debug.contains("alex.example"));
        assert!(!debug.contains("S1"));
        assert!(StaffMember::new("A", Some("not-an-email"), None).is_err());
        assert!(
            StaffMember::new("A", None, Some(" "))
                .unwrap()
                .staff_id
                .is_none()
        );
        assert!(
            StaffMember::new("A", Some(""), Some("S1"))
                .unwrap()
                .email
                .is_none()
        );
    }
}
