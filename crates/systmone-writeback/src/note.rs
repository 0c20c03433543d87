//! The case note a platform files: narrative, optional SNOMED code, optional task for the GP,
//! the author, and the patient it is about.

use std::fmt;

use chrono::NaiveDate;
use nhs_identifiers::NhsNumber;

use thiserror::Error;

/// A note that cannot be accepted as given: fix the input, retrying will not help.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InvalidNote {
    /// The SystmOne username is not usable.
    #[error("SystmOne username {0}")]
    Username(&'static str),
    /// The SNOMED CT code is not a valid concept id.
    #[error("SNOMED CT code {0}")]
    SnomedCode(&'static str),
    /// The narrative is not usable.
    #[error("narrative {0}")]
    Narrative(&'static str),
    /// Another free-text field is not usable.
    #[error("{field} {problem}")]
    Field {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// Longest narrative accepted, in characters (a case note, not a document).
pub const MAX_NARRATIVE_CHARS: usize = 20_000;
/// Longest single free-text field (names, task content, place, method), in characters.
pub const MAX_FIELD_CHARS: usize = 1_000;

/// A SystmOne username, e.g. `jbloggs1234`: the user's login name and unique identifier.
///
/// Case-sensitive: it is kept exactly as given (only surrounding whitespace is refused).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SystmOneUsername(String);

impl SystmOneUsername {
    /// The username as SystmOne spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for SystmOneUsername {
    type Error = InvalidNote;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        if value.is_empty() {
            return Err(InvalidNote::Username("is empty"));
        }
        if value.chars().count() > 64 {
            return Err(InvalidNote::Username("is longer than 64 characters"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(InvalidNote::Username(
                "may hold only letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

impl TryFrom<String> for SystmOneUsername {
    type Error = InvalidNote;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::try_from(value.as_str())
    }
}

impl fmt::Debug for SystmOneUsername {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SystmOneUsername({})", self.0)
    }
}

impl fmt::Display for SystmOneUsername {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SNOMED CT concept id: 6 to 18 digits, no leading zero, valid Verhoeff check digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SnomedCode(String);

impl SnomedCode {
    /// The concept id digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for SnomedCode {
    type Error = InvalidNote;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        let len = value.len();
        if !(6..=18).contains(&len) || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidNote::SnomedCode("must be 6 to 18 digits"));
        }
        if value.starts_with('0') {
            return Err(InvalidNote::SnomedCode("must not start with 0"));
        }
        if !nhs_identifiers::verhoeff::verhoeff_valid(value) {
            return Err(InvalidNote::SnomedCode("has a wrong check digit"));
        }
        Ok(Self(value.to_owned()))
    }
}

/// A clinical code filed with the note, e.g. "Referral to social prescribing service".
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodedEntry {
    /// The SNOMED CT concept.
    pub code: SnomedCode,
    /// Optional free text filed against the code.
    pub free_text: Option<String>,
}

impl CodedEntry {
    /// A code with no free text.
    pub fn new(code: SnomedCode) -> Self {
        Self {
            code,
            free_text: None,
        }
    }

    /// Adds free text filed against the code.
    pub fn with_free_text(mut self, text: &str) -> Result<Self, InvalidNote> {
        self.free_text = Some(checked_field("code free text", text)?);
        Ok(self)
    }
}

/// A task for the practice, e.g. "Clinical Review Required" assigned to the patient's GP.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GpTask {
    /// The task type as configured at the practice (e.g. `Clinical Review Required`).
    pub task_type: String,
    /// What the task asks for.
    pub content: String,
    /// The SystmOne user it is assigned to; unassigned when absent.
    pub assignee: Option<SystmOneUsername>,
}

impl GpTask {
    /// A task of the given type and content, unassigned.
    pub fn new(task_type: &str, content: &str) -> Result<Self, InvalidNote> {
        Ok(Self {
            task_type: checked_field("task type", task_type)?,
            content: checked_field("task content", content)?,
            assignee: None,
        })
    }

    /// Assigns the task to a SystmOne user.
    pub fn assigned_to(mut self, user: SystmOneUsername) -> Self {
        self.assignee = Some(user);
        self
    }
}

/// Who wrote the note on the platform.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Author {
    /// The author's name and role as it should read in `DoneBy` text (e.g.
    /// `Sam Patel (Link worker, Example Social Prescribing)`).
    pub display_name: String,
    /// The author's SystmOne username, when they have one.
    pub username: Option<SystmOneUsername>,
}

impl Author {
    /// An author with a SystmOne username: the event is written with it as author.
    pub fn with_username(
        display_name: &str,
        username: SystmOneUsername,
    ) -> Result<Self, InvalidNote> {
        Ok(Self {
            display_name: checked_field("author name", display_name)?,
            username: Some(username),
        })
    }

    /// An author with no SystmOne username: named in `DoneBy` text instead.
    pub fn named(display_name: &str) -> Result<Self, InvalidNote> {
        Ok(Self {
            display_name: checked_field("author name", display_name)?,
            username: None,
        })
    }

    /// How the journal will attribute a note by this author.
    pub fn authorship(&self) -> Authorship {
        match &self.username {
            Some(username) => Authorship::SystmOneUser {
                username: username.clone(),
            },
            None => Authorship::DoneByText {
                name: self.display_name.clone(),
            },
        }
    }
}

impl fmt::Debug for Author {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Author")
            .field("display_name", &self.display_name)
            .field("username", &self.username)
            .finish()
    }
}

/// How the journal attributes a note.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authorship {
    /// Written with `Event@UserName` = the author: the journal shows the author, the Gateway
    /// user as "Entered by" and the author again as "Added by".
    SystmOneUser {
        /// The author's SystmOne username.
        username: SystmOneUsername,
    },
    /// The author has no SystmOne username: the journal's author is the Gateway user and the
    /// author is named in the event's `DoneBy` text.
    DoneByText {
        /// The name written in `DoneBy`.
        name: String,
    },
}

impl fmt::Display for Authorship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SystmOneUser { username } => write!(f, "authored by SystmOne user {username}"),
            Self::DoneByText { name } => write!(
                f,
                "no SystmOne username: the Gateway user is shown as author and \"{name}\" is named in DoneBy text"
            ),
        }
    }
}

/// A patient's sex as SystmOne records it (`M`, `F`, `I`, `U`, or a value a newer SystmOne
/// sends): `systmone-api`'s type.
pub use systmone_api::Sex;

/// Reads a sex code as stored or received, tolerating case and surrounding space (`" f "` is
/// [`Sex::Female`]); anything else is kept as [`Sex::Other`].
pub(crate) fn sex_from_code(code: &str) -> Sex {
    let code = code.trim();
    match code {
        "m" | "f" | "i" | "u" => Sex::from_wire(&code.to_ascii_uppercase()),
        other => Sex::from_wire(other),
    }
}

/// The patient a note is for, as the platform knows them: checked against the SystmOne record
/// before anything is written.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatientIdentity {
    /// NHS number (the record key).
    pub nhs_number: NhsNumber,
    /// Surname (compared case-insensitively, ignoring surrounding space).
    pub surname: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex.
    pub sex: Sex,
}

impl PatientIdentity {
    /// The identity to verify.
    pub fn new(
        nhs_number: NhsNumber,
        surname: &str,
        date_of_birth: NaiveDate,
        sex: Sex,
    ) -> Result<Self, InvalidNote> {
        Ok(Self {
            nhs_number,
            surname: checked_field("surname", surname)?,
            date_of_birth,
            sex,
        })
    }
}

impl fmt::Debug for PatientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a patient's details: the NHS number masks itself, the rest is hidden.
        f.debug_struct("PatientIdentity")
            .field("nhs_number", &self.nhs_number)
            .finish_non_exhaustive()
    }
}

/// A case note to file: build with [`CaseNote::new`] and the `with_*` methods.
///
/// `Debug` shows the narrative's length, not its text (free text may name the patient).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaseNote {
    /// The patient, verified before writing.
    pub patient: PatientIdentity,
    /// Who wrote it.
    pub author: Author,
    /// The narrative (line breaks become separate journal lines).
    pub narrative: String,
    /// An optional SNOMED-coded entry.
    pub code: Option<CodedEntry>,
    /// An optional task for the practice.
    pub task: Option<GpTask>,
    /// Where it was done (`Event@DoneAt`), e.g. `Community hub`.
    pub done_at: Option<String>,
    /// How (`Event@Method`), e.g. `Telephone`.
    pub method: Option<String>,
}

impl fmt::Debug for CaseNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaseNote")
            .field("patient", &self.patient)
            .field("author", &self.author)
            .field("narrative_chars", &self.narrative.chars().count())
            .field("code", &self.code)
            .field("task", &self.task.as_ref().map(|t| &t.task_type))
            .field("done_at", &self.done_at)
            .field("method", &self.method)
            .finish()
    }
}

impl CaseNote {
    /// A narrative note by `author` about `patient`.
    pub fn new(
        patient: PatientIdentity,
        author: Author,
        narrative: &str,
    ) -> Result<Self, InvalidNote> {
        let narrative = narrative.trim();
        if narrative.is_empty() {
            return Err(InvalidNote::Narrative("is empty"));
        }
        if narrative.chars().count() > MAX_NARRATIVE_CHARS {
            return Err(InvalidNote::Narrative("is longer than 20000 characters"));
        }
        if narrative
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(InvalidNote::Narrative("holds control characters"));
        }
        if narrative.contains(crate::reference::MARKER) {
            return Err(InvalidNote::Narrative(
                "contains the reserved reference marker \"[nhsi-ref \"",
            ));
        }
        Ok(Self {
            patient,
            author,
            narrative: narrative.to_owned(),
            code: None,
            task: None,
            done_at: None,
            method: None,
        })
    }

    /// Files a SNOMED-coded entry with the note.
    pub fn with_code(mut self, code: CodedEntry) -> Self {
        self.code = Some(code);
        self
    }

    /// Raises a task for the practice with the note.
    pub fn with_task(mut self, task: GpTask) -> Self {
        self.task = Some(task);
        self
    }

    /// Sets where it was done (`DoneAt`).
    pub fn done_at(mut self, place: &str) -> Result<Self, InvalidNote> {
        self.done_at = Some(checked_field("done at", place)?);
        Ok(self)
    }

    /// Sets the consultation method (`Method`, e.g. `Telephone`).
    pub fn method(mut self, method: &str) -> Result<Self, InvalidNote> {
        self.method = Some(checked_field("method", method)?);
        Ok(self)
    }

    /// The narrative as journal lines (blank lines dropped, `\r` removed).
    pub fn narrative_lines(&self) -> Vec<String> {
        self.narrative
            .lines()
            .map(|line| line.trim_end_matches('\r').trim_end())
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Trims a one-line free-text field and checks it is non-empty, short and free of control
/// characters.
pub(crate) fn checked_field(field: &'static str, value: &str) -> Result<String, InvalidNote> {
    let value = value.trim();
    if value.is_empty() {
        return Err(InvalidNote::Field {
            field,
            problem: "is empty",
        });
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(InvalidNote::Field {
            field,
            problem: "is longer than 1000 characters",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidNote::Field {
            field,
            problem: "holds control characters",
        });
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> PatientIdentity {
        PatientIdentity::new(
            NhsNumber::fictitious(7),
            "Example",
            NaiveDate::from_ymd_opt(1970, 5, 14).unwrap(),
            Sex::Female,
        )
        .unwrap()
    }

    #[test]
    fn usernames_are_case_sensitive_and_validated() {
        let a = SystmOneUsername::try_from("JBloggs1234").unwrap();
        let b = SystmOneUsername::try_from("jbloggs1234").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "JBloggs1234");
        assert!(SystmOneUsername::try_from("").is_err());
        assert!(SystmOneUsername::try_from("j bloggs").is_err());
        assert!(SystmOneUsername::try_from("x".repeat(65)).is_err());
    }

    #[test]
    fn snomed_codes_need_a_valid_verhoeff_check_digit() {
        for good in ["871731000000106", "22298006", "38341003", "116154003"] {
            assert!(SnomedCode::try_from(good).is_ok(), "{good}");
        }
        assert!(SnomedCode::try_from("871731000000107").is_err());
        assert!(SnomedCode::try_from("12345").is_err());
        assert!(SnomedCode::try_from("0871731000").is_err());
        assert!(SnomedCode::try_from("8717310000x0106").is_err());
    }

    #[test]
    fn authorship_says_when_the_author_has_no_username() {
        let named = Author::named("Sam Patel (Link worker)").unwrap();
        let text = named.authorship().to_string();
        assert!(text.contains("no SystmOne username"), "{text}");
        let user = Author::with_username(
            "Jo Bloggs",
            SystmOneUsername::try_from("jbloggs1234").unwrap(),
        )
        .unwrap();
        assert!(matches!(user.authorship(), Authorship::SystmOneUser { .. }));
    }

    #[test]
    fn narrative_is_validated_and_split_into_lines() {
        let author = Author::named("Sam").unwrap();
        assert!(CaseNote::new(patient(), author.clone(), "   ").is_err());
        assert!(CaseNote::new(patient(), author.clone(), "a\u{0}b").is_err());
        assert!(
            CaseNote::new(
                patient(),
                author.clone(),
                &"x".repeat(MAX_NARRATIVE_CHARS + 1)
            )
            .is_err()
        );
        assert!(CaseNote::new(patient(), author.clone(), "x [nhsi-ref 1] y").is_err());
        let note = CaseNote::new(patient(), author, "First line.\r\n\r\nSecond line.  ").unwrap();
        assert_eq!(note.narrative_lines(), vec!["First line.", "Second line."]);
    }

    #[test]
    fn note_debug_shows_no_free_text() {
        let note = CaseNote::new(
            patient(),
            Author::named("Sam").unwrap(),
            "Spoke to Alex about 999 000 0026.",
        )
        .unwrap();
        let text = format!("{note:?}");
        assert!(!text.contains("Alex") && !text.contains("0026"), "{text}");
    }

    #[test]
    fn patient_debug_hides_details() {
        let text = format!("{:?}", patient());
        assert!(!text.contains("Example"), "{text}");
        assert!(!text.contains("1970"), "{text}");
        assert!(!text.contains(&NhsNumber::fictitious(7).expose()), "{text}");
    }

    #[test]
    fn sex_codes_round_trip_with_a_catch_all() {
        for code in ["M", "F", "I", "U", "X"] {
            assert_eq!(sex_from_code(code).as_str(), code);
        }
        assert_eq!(sex_from_code("Z"), Sex::from_wire("Z"));
        assert!(!sex_from_code("Z").is_known());
        assert_eq!(sex_from_code(" f "), Sex::Female);
    }
}
