//! Things to come back to: `Recall` and `Reminder`.

use chrono::NaiveDate;

use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{opt_date, write_opt_date};
use crate::xml::{Element, Writer};

/// `Recall`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recall {
    /// `RecallDate`
    pub recall_date: Option<NaiveDate>,
    /// `Type` (set per practice).
    pub recall_type: Option<String>,
    /// `FreeText`
    pub free_text: Option<String>,
    /// `Comments`
    pub comments: Option<String>,
    /// `Status` (default Pending).
    pub status: Option<String>,
}

debug_redacted!(Recall {
    recall_date,
    recall_type,
    free_text: redacted,
    comments: redacted,
    status
});

impl Recall {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            recall_date: opt_date(el, "RecallDate")?,
            recall_type: el.child_text("Type"),
            free_text: el.child_text("FreeText"),
            comments: el.child_text("Comments"),
            status: el.child_text("Status"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Recall");
        write_opt_date(w, "RecallDate", self.recall_date);
        w.opt("Type", self.recall_type.as_deref());
        w.opt("FreeText", self.free_text.as_deref());
        w.opt("Comments", self.comments.as_deref());
        w.opt("Status", self.status.as_deref());
        w.close("Recall");
    }
}

nhs_identifiers::open_enum! {
    /// `Reminder/Severity`.
    pub enum ReminderSeverity {
        /// `Low`
        Low = "Low",
        /// `Normal`
        Normal = "Normal",
        /// `High`
        High = "High",
    }
}

/// `Reminder`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reminder {
    /// `FreeText`
    pub free_text: Option<String>,
    /// `Severity`
    pub severity: Option<ReminderSeverity>,
    /// `ExpiryDate`
    pub expiry_date: Option<NaiveDate>,
}

debug_redacted!(Reminder {
    free_text: redacted,
    severity,
    expiry_date
});

impl Reminder {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            free_text: el.child_text("FreeText"),
            severity: el
                .child("Severity")
                .map(|s| ReminderSeverity::from_wire(s.text().trim())),
            expiry_date: opt_date(el, "ExpiryDate")?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Reminder");
        w.opt("FreeText", self.free_text.as_deref());
        w.opt(
            "Severity",
            self.severity.as_ref().map(ReminderSeverity::as_str),
        );
        write_opt_date(w, "ExpiryDate", self.expiry_date);
        w.close("Reminder");
    }
}
