//! Coded entries: `Narrative`, `ClinicalCode` and its code lists (episodicity, problem
//! severity, comparator).

use chrono::NaiveDate;

use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{Code, ProblemUid, opt_date, write_opt_date};
use crate::xml::{Element, Writer};

/// `Narrative { Line+ }`. A line may hold newlines; they travel as `&#10;`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Narrative {
    /// The `Line`s in order.
    pub lines: Vec<String>,
}

debug_redacted!(Narrative { lines: redacted });

impl Narrative {
    /// A narrative with these lines.
    pub fn new<I, S>(lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            lines: lines.into_iter().map(Into::into).collect(),
        }
    }
}

nhs_identifiers::open_enum! {
    /// `Episodicity` of a code.
    pub enum Episodicity {
        /// `New`
        New = "New",
        /// `Ongoing`
        Ongoing = "Ongoing",
    }
}

nhs_identifiers::open_enum! {
    /// `ProblemSeverity`: makes a code a problem header. The templates also list the
    /// Episode/Event forms.
    pub enum ProblemSeverity {
        /// `Major`
        Major = "Major",
        /// `Minor`
        Minor = "Minor",
        /// `Major Episode`
        MajorEpisode = "Major Episode",
        /// `Major Event`
        MajorEvent = "Major Event",
        /// `Minor Episode`
        MinorEpisode = "Minor Episode",
        /// `Minor Event`
        MinorEvent = "Minor Event",
    }
}

nhs_identifiers::open_enum! {
    /// `Comparator` of a numeric value (codes 3–8; 4 `=` is the default).
    pub enum Comparator {
        /// `3`: approximately.
        Approximately = "3",
        /// `4`: equal (default).
        Equal = "4",
        /// `5`: greater than or equal.
        GreaterOrEqual = "5",
        /// `6`: greater than.
        Greater = "6",
        /// `7`: less than.
        Less = "7",
        /// `8`: less than or equal.
        LessOrEqual = "8",
    }
}

/// `ClinicalCode`: a code with optional free text, numeric value and problem details.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClinicalCode {
    /// `Code`
    pub code: Code,
    /// `FreeText`
    pub free_text: Option<String>,
    /// `Episodicity`
    pub episodicity: Option<Episodicity>,
    /// `ProblemUID` (reads).
    pub problem_uid: Option<ProblemUid>,
    /// `ProblemSeverity`
    pub problem_severity: Option<ProblemSeverity>,
    /// `ProblemEndDate`
    pub problem_end_date: Option<NaiveDate>,
    /// `Value`: makes the code a numeric reading (kept as the decimal text).
    pub value: Option<String>,
    /// `Units` (SystmOne's default units if left out).
    pub units: Option<String>,
    /// `Comparator`
    pub comparator: Option<Comparator>,
    /// `LinkedProblemUID*`: problems this item alone is linked to.
    pub linked_problem_uids: Vec<ProblemUid>,
}

debug_redacted!(ClinicalCode {
    code,
    free_text: redacted,
    episodicity,
    problem_uid,
    problem_severity,
    problem_end_date,
    value,
    units,
    comparator,
    linked_problem_uids
});

impl ClinicalCode {
    /// A plain code.
    pub fn new(code: Code) -> Self {
        Self {
            code,
            free_text: None,
            episodicity: None,
            problem_uid: None,
            problem_severity: None,
            problem_end_date: None,
            value: None,
            units: None,
            comparator: None,
            linked_problem_uids: Vec::new(),
        }
    }

    /// Sets `FreeText`.
    pub fn with_free_text(mut self, text: impl Into<String>) -> Self {
        self.free_text = Some(text.into());
        self
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            code: Code::read(el.require("Code")?)?,
            free_text: el.child_text("FreeText"),
            episodicity: el
                .child("Episodicity")
                .map(|e| Episodicity::from_wire(e.text().trim())),
            problem_uid: el
                .child("ProblemUID")
                .map(|e| ProblemUid::new(e.text().trim())),
            problem_severity: el
                .child("ProblemSeverity")
                .map(|e| ProblemSeverity::from_wire(e.text().trim())),
            problem_end_date: opt_date(el, "ProblemEndDate")?,
            value: el.child("Value").map(|e| e.text().trim().to_owned()),
            units: el.child_text("Units"),
            comparator: el
                .child("Comparator")
                .map(|e| Comparator::from_wire(e.text().trim())),
            linked_problem_uids: el
                .children_named("LinkedProblemUID")
                .map(|e| ProblemUid::new(e.text().trim()))
                .collect(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("ClinicalCode");
        self.code.write(w);
        w.opt("FreeText", self.free_text.as_deref());
        w.opt(
            "Episodicity",
            self.episodicity.as_ref().map(Episodicity::as_str),
        );
        w.opt(
            "ProblemUID",
            self.problem_uid.as_ref().map(ProblemUid::as_str),
        );
        w.opt(
            "ProblemSeverity",
            self.problem_severity.as_ref().map(ProblemSeverity::as_str),
        );
        write_opt_date(w, "ProblemEndDate", self.problem_end_date);
        w.opt("Value", self.value.as_deref());
        w.opt("Units", self.units.as_deref());
        w.opt(
            "Comparator",
            self.comparator.as_ref().map(Comparator::as_str),
        );
        for p in &self.linked_problem_uids {
            w.elem("LinkedProblemUID", p.as_str());
        }
        w.close("ClinicalCode");
    }
}
