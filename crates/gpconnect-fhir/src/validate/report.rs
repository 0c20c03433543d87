//! What validation reports: findings with severity, location and ITK3 response code, and the
//! options that choose between the Send Document guide editions.

use std::fmt;

use crate::codes::{GuideVersion, ResponseCode};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// The input could not be read at all.
    Fatal,
    /// Breaks a rule: a receiver may reject the message.
    Error,
    /// Departs from guidance or a newer edition; usually accepted.
    Warning,
    /// Worth knowing.
    Information,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fatal => "fatal",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Information => "information",
        })
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// FHIRPath-like location (`Bundle.entry[2].resource.entry[0].resource.section[1].code`).
    pub location: String,
    /// What is wrong. Never contains an NHS number or a name.
    pub message: String,
    /// The ITK3 response code a receiver would answer with, where one applies.
    pub itk_code: Option<ResponseCode>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.location, self.message)?;
        if let Some(code) = &self.itk_code {
            write!(f, " [ITK {code}]")?;
        }
        Ok(())
    }
}

/// All findings for one input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ValidationReport {
    /// Findings in the order the checks ran.
    pub findings: Vec<Finding>,
}

impl ValidationReport {
    /// No fatal findings and no errors.
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity <= Severity::Error)
    }

    /// Fatal findings and errors.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity <= Severity::Error)
    }

    /// The ITK3 code a receiver would answer with: the lowest-numbered code among the fatal
    /// findings and errors (ITK3 checks the handling specification, then the header, then the
    /// payload, and the code ranges follow that order); 20013 Success when there is none.
    pub fn response_code(&self) -> ResponseCode {
        self.errors()
            .filter_map(|f| f.itk_code.clone())
            .min_by_key(|c| c.as_str().parse::<u32>().unwrap_or(u32::MAX))
            .unwrap_or(ResponseCode::Success)
    }

    /// Findings whose message contains `text` (handy in tests).
    pub fn matching<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings
            .iter()
            .filter(move |f| f.message.contains(text) || f.location.contains(text))
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// What the validator accepts where the guides differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ValidationOptions {
    /// `None` (default): accept the values of either Send Document edition, with a warning for
    /// the older one. `Some(edition)`: values of the other edition are errors.
    pub guide: Option<GuideVersion>,
}

impl ValidationOptions {
    /// Accept only the values of `guide`.
    pub fn pinned(guide: GuideVersion) -> Self {
        Self { guide: Some(guide) }
    }
}
