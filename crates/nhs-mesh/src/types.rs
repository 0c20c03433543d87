//! Validated identifiers and what a send carries.

use std::fmt;

use crate::error::MeshError;

/// A MESH mailbox id (`X26ABC1`): 1–20 ASCII letters and digits, kept upper case (MESH
/// compares it with the token's mailbox).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxId(String);

impl MailboxId {
    /// Validates and upper-cases `id`.
    ///
    /// # Errors
    /// [`MeshError::InvalidField`] when empty, longer than 20 or not ASCII alphanumeric.
    pub fn new(id: &str) -> Result<Self, MeshError> {
        if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(MeshError::InvalidField {
                field: "mailbox id",
                reason: "must be 1-20 ASCII letters or digits",
            });
        }
        Ok(Self(id.to_ascii_uppercase()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A MESH message id. Opaque (the sandbox uses 32 hex digits, real MESH
/// `20200529155357895317_3573F8`): 1–100 characters from `A-Z a-z 0-9 _ - .`, so it is safe in
/// a URL path.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl TryFrom<String> for MessageId {
    type Error = MeshError;
    fn try_from(value: String) -> Result<Self, MeshError> {
        Self::new(&value)
    }
}

impl From<MessageId> for String {
    fn from(value: MessageId) -> String {
        value.0
    }
}

impl MessageId {
    /// Validates `id`.
    ///
    /// # Errors
    /// [`MeshError::Malformed`] when it is empty, too long or has other characters.
    pub fn new(id: &str) -> Result<Self, MeshError> {
        if id.is_empty()
            || id.len() > 100
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            || id == "."
            || id == ".."
        {
            return Err(MeshError::Malformed {
                operation: "message id",
                detail: "not 1-100 characters of A-Z a-z 0-9 _ - .".into(),
            });
        }
        Ok(Self(id.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The envelope of a message to send (the `mex-*` headers).
///
/// `Debug` masks the recipient (an automated-routing `GPPROVIDER_…` address carries an NHS
/// number) and shows only the lengths of subject and file name.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// `mex-To`: a mailbox id or an automated-routing address (≤ 100).
    pub to: String,
    /// `mex-WorkflowID` (≤ 300).
    pub workflow_id: String,
    /// `mex-Subject` (≤ 500; no NHS number).
    pub subject: Option<String>,
    /// `mex-LocalID` (≤ 300; no NHS number). The outbox sets a fresh UUID when absent.
    pub local_id: Option<String>,
    /// `mex-FileName` (≤ 300; no NHS number).
    pub file_name: Option<String>,
    /// `mex-Content-Type`, passed through to the recipient (for example `application/fhir+json`).
    pub content_type: Option<String>,
    /// `mex-PartnerID`.
    pub partner_id: Option<String>,
    /// `mex-Content-Checksum` (≤ 100; letters, digits, whitespace and `:-/`).
    pub checksum: Option<String>,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("to", &mask_address(&self.to))
            .field("workflow_id", &self.workflow_id)
            .field("subject_len", &self.subject.as_ref().map(String::len))
            .field("local_id", &self.local_id)
            .field("file_name_len", &self.file_name.as_ref().map(String::len))
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// `to` safe for logs: automated-routing addresses are masked, other text has NHS numbers
/// masked.
pub fn mask_address(to: &str) -> String {
    if to.starts_with("GPPROVIDER_") {
        "GPPROVIDER_***".to_owned()
    } else {
        nhs_identifiers::scan::redact(to)
    }
}

impl Envelope {
    /// An envelope to `to` on `workflow_id`, every optional header unset.
    pub fn new(to: impl Into<String>, workflow_id: impl Into<String>) -> Self {
        Self {
            to: to.into(),
            workflow_id: workflow_id.into(),
            subject: None,
            local_id: None,
            file_name: None,
            content_type: None,
            partner_id: None,
            checksum: None,
        }
    }

    /// Sets `mex-Subject`.
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets `mex-LocalID`.
    #[must_use]
    pub fn local_id(mut self, local_id: impl Into<String>) -> Self {
        self.local_id = Some(local_id.into());
        self
    }

    /// Sets `mex-FileName`.
    #[must_use]
    pub fn file_name(mut self, file_name: impl Into<String>) -> Self {
        self.file_name = Some(file_name.into());
        self
    }

    /// Sets `mex-Content-Type`.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Checks every header against the MESH limits and refuses an NHS number in
    /// `mex-LocalID`, `mex-Subject` or `mex-FileName`.
    ///
    /// # Errors
    /// [`MeshError::InvalidField`] naming the header (never the value).
    pub fn validate(&self) -> Result<(), MeshError> {
        check("mex-To", Some(&self.to), 100, true)?;
        check("mex-WorkflowID", Some(&self.workflow_id), 300, true)?;
        check("mex-Subject", self.subject.as_deref(), 500, false)?;
        check("mex-LocalID", self.local_id.as_deref(), 300, false)?;
        check("mex-FileName", self.file_name.as_deref(), 300, false)?;
        check("mex-Content-Type", self.content_type.as_deref(), 300, false)?;
        check("mex-PartnerID", self.partner_id.as_deref(), 300, false)?;
        check("mex-Content-Checksum", self.checksum.as_deref(), 100, false)?;
        for (field, value) in [
            ("mex-Subject", &self.subject),
            ("mex-LocalID", &self.local_id),
            ("mex-FileName", &self.file_name),
        ] {
            if value
                .as_deref()
                .is_some_and(nhs_identifiers::scan::contains_nhs_number)
            {
                return Err(MeshError::InvalidField {
                    field,
                    reason: "contains an NHS number (no patient identifiers in MESH metadata)",
                });
            }
        }
        if let Some(c) = &self.checksum
            && !c
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch.is_whitespace() || ":-/".contains(ch))
        {
            return Err(MeshError::InvalidField {
                field: "mex-Content-Checksum",
                reason: "only letters, digits, whitespace and :-/ are allowed",
            });
        }
        Ok(())
    }
}

fn check(
    field: &'static str,
    value: Option<&str>,
    max: usize,
    required: bool,
) -> Result<(), MeshError> {
    let Some(v) = value else { return Ok(()) };
    if v.is_empty() {
        return if required {
            Err(MeshError::InvalidField {
                field,
                reason: "must not be empty",
            })
        } else {
            Ok(())
        };
    }
    if v.chars().count() > max {
        return Err(MeshError::InvalidField {
            field,
            reason: "too long for MESH",
        });
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(MeshError::InvalidField {
            field,
            reason: "control characters are not allowed",
        });
    }
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(MeshError::InvalidField {
            field,
            reason: "MESH refuses values that start with http(s)://",
        });
    }
    if !v.is_ascii() {
        return Err(MeshError::InvalidField {
            field,
            reason: "HTTP header values must be ASCII",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nhs_identifiers::NhsNumber;

    #[test]
    fn an_nhs_number_in_local_id_subject_or_file_name_is_refused() {
        let n = NhsNumber::fictitious(3);
        let spaced = {
            let s = n.expose();
            format!("{} {} {}", &s[..3], &s[3..6], &s[6..])
        };
        for (env, field) in [
            (
                Envelope::new("X26ABC2", "WF").local_id(format!("ref-{}", n.expose())),
                "mex-LocalID",
            ),
            (
                Envelope::new("X26ABC2", "WF").subject(format!("Letter for {spaced}")),
                "mex-Subject",
            ),
            (
                Envelope::new("X26ABC2", "WF").file_name(format!("{}.pdf", n.expose())),
                "mex-FileName",
            ),
        ] {
            match env.validate() {
                Err(MeshError::InvalidField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
            let err = env.validate().unwrap_err().to_string();
            assert!(!err.contains(n.expose().as_str()), "{err}");
        }
        assert!(
            Envelope::new("X26ABC2", "WF")
                .local_id("9990000000")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn limits_and_control_characters() {
        assert!(Envelope::new("", "WF").validate().is_err());
        assert!(Envelope::new("X", "W\nF").validate().is_err());
        assert!(
            Envelope::new("X", "WF")
                .subject("x".repeat(501))
                .validate()
                .is_err()
        );
        assert!(
            Envelope::new("X", "WF")
                .subject("https://a")
                .validate()
                .is_err()
        );
        assert!(
            Envelope::new("X", "WF")
                .subject("x".repeat(500))
                .validate()
                .is_ok()
        );
        assert!(MailboxId::new("x26abc1").unwrap().as_str() == "X26ABC1");
        assert!(MailboxId::new("X26/../").is_err());
        assert!(MessageId::new("../x").is_err());
        assert!(MessageId::new("20200529155357895317_3573F8").is_ok());
    }

    #[test]
    fn debug_masks_automated_routing() {
        let n = NhsNumber::fictitious(4);
        let env = Envelope::new(format!("GPPROVIDER_{}_19700101_Smith", n.expose()), "WF");
        let shown = format!("{env:?}");
        assert!(
            !shown.contains(n.expose().as_str()) && !shown.contains("Smith"),
            "{shown}"
        );
    }
}
