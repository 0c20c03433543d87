//! `Report` (pathology, radiology and similar) and its `FollowUpAction`s.

use chrono::NaiveDate;

use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{opt_date, write_opt_date};
use crate::xml::{Element, RawElement, Writer};

/// `FollowUpAction` of a report.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FollowUpAction {
    /// `Action`
    pub action: Option<String>,
    /// `Comments`
    pub comments: Option<String>,
}

debug_redacted!(FollowUpAction {
    action,
    comments: redacted
});

/// `Report`: pathology or radiology and similar.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// `BatteryHeaders` (kept whole).
    pub battery_headers: Option<RawElement>,
    /// `IssueDate`
    pub issue_date: Option<NaiveDate>,
    /// `Result`
    pub result: Option<String>,
    /// `Comments`
    pub comments: Option<String>,
    /// `PatientToBeInformed`
    pub patient_to_be_informed: Option<String>,
    /// `ResultGivenDate`
    pub result_given_date: Option<NaiveDate>,
    /// `ArchivedDate`
    pub archived_date: Option<NaiveDate>,
    /// `CollectionDate`
    pub collection_date: Option<NaiveDate>,
    /// `Type`: Pathology, Radiology, Blood Spot, Screening.
    pub report_type: Option<String>,
    /// `FollowUpActions/FollowUpAction*`
    pub follow_up_actions: Vec<FollowUpAction>,
}

debug_redacted!(Report {
    battery_headers,
    issue_date,
    result: redacted,
    comments: redacted,
    patient_to_be_informed,
    result_given_date,
    archived_date,
    collection_date,
    report_type,
    follow_up_actions
});

impl Report {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            battery_headers: el.child("BatteryHeaders").map(Element::to_raw),
            issue_date: opt_date(el, "IssueDate")?,
            result: el.child_text("Result"),
            comments: el.child_text("Comments"),
            patient_to_be_informed: el.child_text("PatientToBeInformed"),
            result_given_date: opt_date(el, "ResultGivenDate")?,
            archived_date: opt_date(el, "ArchivedDate")?,
            collection_date: opt_date(el, "CollectionDate")?,
            report_type: el.child_text("Type"),
            follow_up_actions: el
                .child("FollowUpActions")
                .map(|f| {
                    f.children_named("FollowUpAction")
                        .map(|a| FollowUpAction {
                            action: a.child_text("Action"),
                            comments: a.child_text("Comments"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Report");
        if let Some(b) = &self.battery_headers {
            b.write(w);
        }
        write_opt_date(w, "IssueDate", self.issue_date);
        w.opt("Result", self.result.as_deref());
        w.opt("Comments", self.comments.as_deref());
        w.opt(
            "PatientToBeInformed",
            self.patient_to_be_informed.as_deref(),
        );
        write_opt_date(w, "ResultGivenDate", self.result_given_date);
        write_opt_date(w, "ArchivedDate", self.archived_date);
        write_opt_date(w, "CollectionDate", self.collection_date);
        w.opt("Type", self.report_type.as_deref());
        if !self.follow_up_actions.is_empty() {
            w.open("FollowUpActions");
            for a in &self.follow_up_actions {
                w.open("FollowUpAction");
                w.opt("Action", a.action.as_deref());
                w.opt("Comments", a.comments.as_deref());
                w.close("FollowUpAction");
            }
            w.close("FollowUpActions");
        }
        w.close("Report");
    }
}
