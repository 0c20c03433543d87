//! A journal `Event` and the [`DataItem`]s it holds (unknown items kept whole).

use chrono::NaiveDateTime;

use crate::date;
use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{EventUid, ProblemUid, ReferralUid};
use crate::xml::{Element, RawElement, Writer};

use super::activity::Activity;
use super::coded::{ClinicalCode, Narrative};
use super::document::{Attachment, Letter};
use super::medication::{DrugSensitivity, Medication, RepeatMedication, Vaccination};
use super::recall::{Recall, Reminder};
use super::report::Report;

/// A journal `Event`: attributes saying when, by whom and where, plus its data items.
///
/// On writes every attribute is optional (`DateTime` defaults to now, `UserName` to the
/// logged-in user). `Software` and `EventUID` are set by SystmOne and appear on reads. The
/// "Entered by" user (the Gateway PC's session user) is not in the XML at all.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// `DateTime`: when it happened (local time).
    pub date_time: Option<NaiveDateTime>,
    /// `UserName`: SystmOne username of the person who performed it (the author).
    pub user_name: Option<String>,
    /// `DoneBy`: free-text person or organisation (on reads: `SURNAME, First (Role)`).
    pub done_by: Option<String>,
    /// `DoneAt`: free-text location.
    pub done_at: Option<String>,
    /// `Method`: consultation method (locally configurable: Telephone, Face to face, …).
    pub method: Option<String>,
    /// `Software`: the third-party software that added it (reads only).
    pub software: Option<String>,
    /// `LinkedReferralUID`: links the event to one referral.
    pub linked_referral_uid: Option<ReferralUid>,
    /// `EventUID` (reads only).
    pub event_uid: Option<EventUid>,
    /// `LinkedProblemUID*` children: problems the whole event is linked to.
    pub linked_problem_uids: Vec<ProblemUid>,
    /// The data items, in document order.
    pub items: Vec<DataItem>,
}

debug_redacted!(Event {
    date_time,
    user_name,
    done_by: redacted,
    done_at: redacted,
    method,
    software,
    linked_referral_uid,
    event_uid,
    linked_problem_uids,
    items
});

impl Event {
    /// An event with these data items and no attributes.
    pub fn new(items: Vec<DataItem>) -> Self {
        Self {
            items,
            ..Self::default()
        }
    }

    /// Sets `UserName` (the author).
    pub fn with_user_name(mut self, user_name: impl Into<String>) -> Self {
        self.user_name = Some(user_name.into());
        self
    }

    /// Sets `DateTime`.
    pub fn with_date_time(mut self, date_time: NaiveDateTime) -> Self {
        self.date_time = Some(date_time);
        self
    }

    /// Sets `DoneBy`.
    pub fn with_done_by(mut self, done_by: impl Into<String>) -> Self {
        self.done_by = Some(done_by.into());
        self
    }

    /// Sets `DoneAt`.
    pub fn with_done_at(mut self, done_at: impl Into<String>) -> Self {
        self.done_at = Some(done_at.into());
        self
    }

    /// Sets `Method`.
    pub fn with_method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// All narrative lines of the event, in order.
    pub fn narrative_lines(&self) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .flat_map(|item| match item {
                DataItem::Narrative(n) => n.lines.as_slice(),
                _ => &[],
            })
            .map(String::as_str)
    }

    /// All clinical codes of the event, in order.
    pub fn clinical_codes(&self) -> impl Iterator<Item = &ClinicalCode> {
        self.items.iter().filter_map(|item| match item {
            DataItem::ClinicalCode(c) => Some(c),
            _ => None,
        })
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        let mut event = Event {
            date_time: crate::types::opt_attr_date_time(el, "DateTime")?,
            user_name: el.attr("UserName").map(str::to_owned),
            done_by: el.attr("DoneBy").map(str::to_owned),
            done_at: el.attr("DoneAt").map(str::to_owned),
            method: el.attr("Method").map(str::to_owned),
            software: el.attr("Software").map(str::to_owned),
            linked_referral_uid: el.attr("LinkedReferralUID").map(ReferralUid::from),
            event_uid: el.attr("EventUID").map(EventUid::from),
            linked_problem_uids: Vec::new(),
            items: Vec::with_capacity(el.children().count()),
        };
        for child in el.children() {
            if child.name() == "LinkedProblemUID" {
                event
                    .linked_problem_uids
                    .push(ProblemUid::new(child.text().trim()));
            } else {
                event.items.push(DataItem::read(child)?);
            }
        }
        Ok(event)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let date_time = self.date_time.map(date::format_date_time);
        w.open_attrs(
            "Event",
            &[
                ("DateTime", date_time.as_deref()),
                ("UserName", self.user_name.as_deref()),
                ("DoneBy", self.done_by.as_deref()),
                ("DoneAt", self.done_at.as_deref()),
                ("Method", self.method.as_deref()),
                ("Software", self.software.as_deref()),
                (
                    "LinkedReferralUID",
                    self.linked_referral_uid.as_ref().map(ReferralUid::as_str),
                ),
                ("EventUID", self.event_uid.as_ref().map(EventUid::as_str)),
            ],
        );
        for p in &self.linked_problem_uids {
            w.elem("LinkedProblemUID", p.as_str());
        }
        for item in &self.items {
            item.write(w);
        }
        w.close("Event");
    }
}

/// One data item of an [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
// Items are built once and kept in a Vec; boxing the larger ones would only make matching and
// construction clumsier.
#[allow(clippy::large_enum_variant)]
pub enum DataItem {
    /// `Narrative { Line+ }`: free-text journal note.
    Narrative(Narrative),
    /// `ClinicalCode`: a coded entry (optionally a numeric value or a problem).
    ClinicalCode(ClinicalCode),
    /// `Medication`: acute medication.
    Medication(Medication),
    /// `RepeatMedication`: a repeat template.
    RepeatMedication(RepeatMedication),
    /// `DrugSensitivity`: an allergy or sensitivity.
    DrugSensitivity(DrugSensitivity),
    /// `Vaccination`
    Vaccination(Vaccination),
    /// `Recall`
    Recall(Recall),
    /// `Reminder`
    Reminder(Reminder),
    /// `Report`: pathology, radiology, blood spot or screening.
    Report(Report),
    /// `Letter`: a letter whose file SystmOne reads from `DocumentPath`.
    Letter(Letter),
    /// `Attachment`: a file (by path) or a URL.
    Attachment(Attachment),
    /// `Activity`
    Activity(Activity),
    /// Any other item (`CarePlan`, `Relationship`, `ScratchPad`, `PatientPlan`, referral items,
    /// or one newer than this crate), kept whole so it round-trips.
    Other(RawElement),
}

impl DataItem {
    /// The element name of the item.
    pub fn element_name(&self) -> &str {
        match self {
            DataItem::Narrative(_) => "Narrative",
            DataItem::ClinicalCode(_) => "ClinicalCode",
            DataItem::Medication(_) => "Medication",
            DataItem::RepeatMedication(_) => "RepeatMedication",
            DataItem::DrugSensitivity(_) => "DrugSensitivity",
            DataItem::Vaccination(_) => "Vaccination",
            DataItem::Recall(_) => "Recall",
            DataItem::Reminder(_) => "Reminder",
            DataItem::Report(_) => "Report",
            DataItem::Letter(_) => "Letter",
            DataItem::Attachment(_) => "Attachment",
            DataItem::Activity(_) => "Activity",
            DataItem::Other(raw) => &raw.name,
        }
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(match el.name() {
            "Narrative" => DataItem::Narrative(Narrative {
                lines: el.texts("Line"),
            }),
            "ClinicalCode" => DataItem::ClinicalCode(ClinicalCode::read(el)?),
            "Medication" => DataItem::Medication(Medication::read(el)?),
            "RepeatMedication" => DataItem::RepeatMedication(RepeatMedication::read(el)?),
            "DrugSensitivity" => DataItem::DrugSensitivity(DrugSensitivity::read(el)?),
            "Vaccination" => DataItem::Vaccination(Vaccination::read(el)),
            "Recall" => DataItem::Recall(Recall::read(el)?),
            "Reminder" => DataItem::Reminder(Reminder::read(el)?),
            "Report" => DataItem::Report(Report::read(el)?),
            "Letter" => DataItem::Letter(Letter::read(el)?),
            "Attachment" => DataItem::Attachment(Attachment::read(el)),
            "Activity" => DataItem::Activity(Activity::read(el)?),
            _ => DataItem::Other(el.to_raw()),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        match self {
            DataItem::Narrative(n) => {
                w.open("Narrative");
                w.each("Line", &n.lines);
                w.close("Narrative");
            }
            DataItem::ClinicalCode(c) => c.write(w),
            DataItem::Medication(m) => m.write(w),
            DataItem::RepeatMedication(m) => m.write(w),
            DataItem::DrugSensitivity(s) => s.write(w),
            DataItem::Vaccination(v) => v.write(w),
            DataItem::Recall(r) => r.write(w),
            DataItem::Reminder(r) => r.write(w),
            DataItem::Report(r) => r.write(w),
            DataItem::Letter(l) => l.write(w),
            DataItem::Attachment(a) => a.write(w),
            DataItem::Activity(a) => a.write(w),
            DataItem::Other(raw) => raw.write(w),
        }
    }
}

impl From<Narrative> for DataItem {
    fn from(n: Narrative) -> Self {
        DataItem::Narrative(n)
    }
}

impl From<ClinicalCode> for DataItem {
    fn from(c: ClinicalCode) -> Self {
        DataItem::ClinicalCode(c)
    }
}
