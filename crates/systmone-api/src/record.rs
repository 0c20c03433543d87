//! The patient record's building blocks, shared by reads (`GetPatientRecord`, `GetDiary`) and
//! writes (`UpdatePatientRecord`): demographics, journal events and their data items, and the
//! non-clinical items (appointments, tasks, visits). Element names and order follow the
//! reference (§8.6, §9). Unknown data items are kept as [`RawElement`]s so nothing is lost.
//!
//! `Debug` never prints text people write (narrative lines, free text, comments, notes,
//! `DoneBy`/`DoneAt`, task content, file names and paths, URLs): it shows `<n chars>` instead,
//! as such text may name the patient. Codes, terms, dates, UIDs, statuses and staff usernames
//! stay visible.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};

use crate::date;
use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{
    Address, AppointmentUid, Code, DocumentUid, Drug, EventUid, PersonName, ProblemUid,
    ReferralUid, Sex, TaskUid, VisitUid, YesNo, opt_date, opt_date_time, opt_minutes,
    write_opt_date, write_opt_date_time, write_opt_minutes,
};
use crate::xml::{Element, RawElement, Writer};

// ------------------------------------------------------------------------------------------
// Demographics
// ------------------------------------------------------------------------------------------

/// `Demographics`: on reads the patient's details; on `UpdatePatientRecord` only the fields
/// being changed. `Debug` prints which fields are set, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Demographics {
    /// `Title`
    pub title: Option<String>,
    /// `FirstName`
    pub first_name: Option<String>,
    /// `MiddleNames`
    pub middle_names: Option<String>,
    /// `Surname`
    pub surname: Option<String>,
    /// `KnownAs`
    pub known_as: Option<String>,
    /// `DateOfBirth`
    pub date_of_birth: Option<NaiveDate>,
    /// `Sex`
    pub sex: Option<Sex>,
    /// `MaritalStatus/Code` (an empty wrapper reads as `None`).
    pub marital_status: Option<Code>,
    /// `Ethnicity/Code`
    pub ethnicity: Option<Code>,
    /// `MainLanguage/Code`
    pub main_language: Option<Code>,
    /// `EnglishSpeaker`
    pub english_speaker: Option<YesNo>,
    /// `Address`
    pub address: Option<Address>,
    /// `HomeTelephone`
    pub home_telephone: Option<String>,
    /// `WorkTelephone`
    pub work_telephone: Option<String>,
    /// `MobileTelephone`
    pub mobile_telephone: Option<String>,
    /// `AlternateTelephone`
    pub alternate_telephone: Option<String>,
    /// `EmailAddress`
    pub email_address: Option<String>,
    /// `SMSConsent`
    pub sms_consent: Option<YesNo>,
    /// `UsualGPUserName`
    pub usual_gp_user_name: Option<String>,
    /// `CareStartDate`
    pub care_start_date: Option<NaiveDate>,
    /// `RegistrationType` (e.g. GMS; absent outside GP settings).
    pub registration_type: Option<String>,
}

impl fmt::Debug for Demographics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "<set>" } else { "-" };
        f.debug_struct("Demographics")
            .field(
                "name",
                &set(self.first_name.is_some() || self.surname.is_some()),
            )
            .field("date_of_birth", &set(self.date_of_birth.is_some()))
            .field("sex", &self.sex)
            .field("address", &set(self.address.is_some()))
            .field("usual_gp_user_name", &self.usual_gp_user_name)
            .field("registration_type", &self.registration_type)
            .finish_non_exhaustive()
    }
}

fn opt_code_in(el: Element<'_, '_>, name: &str) -> Result<Option<Code>, Error> {
    match el.child(name).and_then(|w| w.child("Code")) {
        Some(code) if code.attr("Code").is_some_and(|c| !c.is_empty()) => {
            Code::read(code).map(Some)
        }
        _ => Ok(None),
    }
}

fn write_opt_code_in(w: &mut Writer, name: &str, code: Option<&Code>) {
    if let Some(code) = code {
        w.open(name);
        code.write(w);
        w.close(name);
    }
}

fn opt_yes_no(el: Element<'_, '_>, name: &str) -> Option<YesNo> {
    el.child(name)
        .map(|c| c.text().trim())
        .filter(|t| !t.is_empty())
        .map(YesNo::from_wire)
}

fn opt_sex(el: Element<'_, '_>, name: &str) -> Option<Sex> {
    el.child(name)
        .map(|c| c.text().trim())
        .filter(|t| !t.is_empty())
        .map(Sex::from_wire)
}

impl Demographics {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            title: el.child_text("Title"),
            first_name: el.child_text("FirstName"),
            middle_names: el.child_text("MiddleNames"),
            surname: el.child_text("Surname"),
            known_as: el.child_text("KnownAs"),
            date_of_birth: opt_date(el, "DateOfBirth")?,
            sex: opt_sex(el, "Sex"),
            marital_status: opt_code_in(el, "MaritalStatus")?,
            ethnicity: opt_code_in(el, "Ethnicity")?,
            main_language: opt_code_in(el, "MainLanguage")?,
            english_speaker: opt_yes_no(el, "EnglishSpeaker"),
            address: el.child("Address").map(Address::read),
            home_telephone: el.child_text("HomeTelephone"),
            work_telephone: el.child_text("WorkTelephone"),
            mobile_telephone: el.child_text("MobileTelephone"),
            alternate_telephone: el.child_text("AlternateTelephone"),
            email_address: el.child_text("EmailAddress"),
            sms_consent: opt_yes_no(el, "SMSConsent"),
            usual_gp_user_name: el.child_text("UsualGPUserName"),
            care_start_date: opt_date(el, "CareStartDate")?,
            registration_type: el.child_text("RegistrationType"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Demographics");
        w.opt("Title", self.title.as_deref());
        w.opt("FirstName", self.first_name.as_deref());
        w.opt("MiddleNames", self.middle_names.as_deref());
        w.opt("Surname", self.surname.as_deref());
        w.opt("KnownAs", self.known_as.as_deref());
        write_opt_date(w, "DateOfBirth", self.date_of_birth);
        w.opt("Sex", self.sex.as_ref().map(Sex::as_str));
        write_opt_code_in(w, "MaritalStatus", self.marital_status.as_ref());
        write_opt_code_in(w, "Ethnicity", self.ethnicity.as_ref());
        write_opt_code_in(w, "MainLanguage", self.main_language.as_ref());
        w.opt(
            "EnglishSpeaker",
            self.english_speaker.as_ref().map(YesNo::as_str),
        );
        if let Some(a) = &self.address {
            a.write_as(w, "Address");
        }
        w.opt("HomeTelephone", self.home_telephone.as_deref());
        w.opt("WorkTelephone", self.work_telephone.as_deref());
        w.opt("MobileTelephone", self.mobile_telephone.as_deref());
        w.opt("AlternateTelephone", self.alternate_telephone.as_deref());
        w.opt("EmailAddress", self.email_address.as_deref());
        w.opt("SMSConsent", self.sms_consent.as_ref().map(YesNo::as_str));
        w.opt("UsualGPUserName", self.usual_gp_user_name.as_deref());
        write_opt_date(w, "CareStartDate", self.care_start_date);
        w.opt("RegistrationType", self.registration_type.as_deref());
        w.close("Demographics");
    }
}

// ------------------------------------------------------------------------------------------
// Clinical events
// ------------------------------------------------------------------------------------------

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

impl From<Narrative> for DataItem {
    fn from(n: Narrative) -> Self {
        DataItem::Narrative(n)
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

impl From<ClinicalCode> for DataItem {
    fn from(c: ClinicalCode) -> Self {
        DataItem::ClinicalCode(c)
    }
}

/// `Medication` (acute).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Medication {
    /// `MedicationType`
    pub medication_type: Option<String>,
    /// `Drug`
    pub drug: Option<Drug>,
    /// `Dose`
    pub dose: Option<String>,
    /// `Quantity`
    pub quantity: Option<String>,
    /// `StartDate`
    pub start_date: Option<NaiveDate>,
    /// `EndDate`
    pub end_date: Option<NaiveDate>,
    /// `EndReason` (reads).
    pub end_reason: Option<String>,
    /// `RepeatIssue`
    pub repeat_issue: Option<String>,
}

debug_redacted!(Medication {
    medication_type,
    drug,
    dose,
    quantity,
    start_date,
    end_date,
    end_reason: redacted,
    repeat_issue
});

impl Medication {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            medication_type: el.child_text("MedicationType"),
            drug: el.child("Drug").map(Drug::read).transpose()?,
            dose: el.child_text("Dose"),
            quantity: el.child_text("Quantity"),
            start_date: opt_date(el, "StartDate")?,
            end_date: opt_date(el, "EndDate")?,
            end_reason: el.child_text("EndReason"),
            repeat_issue: el.child_text("RepeatIssue"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Medication");
        w.opt("MedicationType", self.medication_type.as_deref());
        if let Some(d) = &self.drug {
            d.write(w);
        }
        w.opt("Dose", self.dose.as_deref());
        w.opt("Quantity", self.quantity.as_deref());
        write_opt_date(w, "StartDate", self.start_date);
        write_opt_date(w, "EndDate", self.end_date);
        w.opt("EndReason", self.end_reason.as_deref());
        w.opt("RepeatIssue", self.repeat_issue.as_deref());
        w.close("Medication");
    }
}

/// `RepeatMedication`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepeatMedication {
    /// `Drug`
    pub drug: Option<Drug>,
    /// `Dose`
    pub dose: Option<String>,
    /// `Quantity`
    pub quantity: Option<String>,
    /// `StartDate`
    pub start_date: Option<NaiveDate>,
    /// `MaxIssues`
    pub max_issues: Option<String>,
    /// `ReviewDate`
    pub review_date: Option<NaiveDate>,
    /// `IssueDurationDays`
    pub issue_duration_days: Option<String>,
    /// `MedicationType`
    pub medication_type: Option<String>,
}

impl RepeatMedication {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            drug: el.child("Drug").map(Drug::read).transpose()?,
            dose: el.child_text("Dose"),
            quantity: el.child_text("Quantity"),
            start_date: opt_date(el, "StartDate")?,
            max_issues: el.child_text("MaxIssues"),
            review_date: opt_date(el, "ReviewDate")?,
            issue_duration_days: el.child_text("IssueDurationDays"),
            medication_type: el.child_text("MedicationType"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("RepeatMedication");
        if let Some(d) = &self.drug {
            d.write(w);
        }
        w.opt("Dose", self.dose.as_deref());
        w.opt("Quantity", self.quantity.as_deref());
        write_opt_date(w, "StartDate", self.start_date);
        w.opt("MaxIssues", self.max_issues.as_deref());
        write_opt_date(w, "ReviewDate", self.review_date);
        w.opt("IssueDurationDays", self.issue_duration_days.as_deref());
        w.opt("MedicationType", self.medication_type.as_deref());
        w.close("RepeatMedication");
    }
}

/// `Ingredient` of a drug sensitivity (reads).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ingredient {
    /// `Scheme`
    pub scheme: Option<String>,
    /// `IngredientID`
    pub ingredient_id: Option<String>,
    /// `Name`
    pub name: Option<String>,
    /// `Details`
    pub details: Option<String>,
}

/// `DrugSensitivity`: an allergy or sensitivity.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrugSensitivity {
    /// `Type` (e.g. `Drug`, `Ingredient`).
    pub sensitivity_type: Option<String>,
    /// `Drug`
    pub drug: Option<Drug>,
    /// `Ingredient` (reads).
    pub ingredient: Option<Ingredient>,
    /// `FreeText`
    pub free_text: Option<String>,
    /// `EndDate`
    pub end_date: Option<NaiveDate>,
    /// `EndedWithUnknownDate` flag.
    pub ended_with_unknown_date: bool,
}

debug_redacted!(DrugSensitivity {
    sensitivity_type,
    drug,
    ingredient,
    free_text: redacted,
    end_date,
    ended_with_unknown_date
});

impl DrugSensitivity {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            sensitivity_type: el.child_text("Type"),
            drug: el.child("Drug").map(Drug::read).transpose()?,
            ingredient: el.child("Ingredient").map(|i| Ingredient {
                scheme: i.attr("Scheme").map(str::to_owned),
                ingredient_id: i.attr("IngredientID").map(str::to_owned),
                name: i.attr("Name").map(str::to_owned),
                details: i.attr("Details").map(str::to_owned),
            }),
            free_text: el.child_text("FreeText"),
            end_date: opt_date(el, "EndDate")?,
            ended_with_unknown_date: el.has("EndedWithUnknownDate"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("DrugSensitivity");
        w.opt("Type", self.sensitivity_type.as_deref());
        if let Some(d) = &self.drug {
            d.write(w);
        }
        if let Some(i) = &self.ingredient {
            w.empty_attrs(
                "Ingredient",
                &[
                    ("Scheme", i.scheme.as_deref()),
                    ("IngredientID", i.ingredient_id.as_deref()),
                    ("Name", i.name.as_deref()),
                    ("Details", i.details.as_deref()),
                ],
            );
        }
        w.opt("FreeText", self.free_text.as_deref());
        write_opt_date(w, "EndDate", self.end_date);
        w.flag("EndedWithUnknownDate", self.ended_with_unknown_date);
        w.close("DrugSensitivity");
    }
}

/// `Vaccination`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Vaccination {
    /// `Name` (from SystmOne's Available Vaccinations list).
    pub name: Option<String>,
    /// `BatchNumber`
    pub batch_number: Option<String>,
    /// `Notes`
    pub notes: Option<String>,
    /// `PartType`
    pub part_type: Option<String>,
    /// `Dosage`
    pub dosage: Option<String>,
}

debug_redacted!(Vaccination {
    name,
    batch_number,
    notes: redacted,
    part_type,
    dosage
});

impl Vaccination {
    pub(crate) fn read(el: Element<'_, '_>) -> Self {
        Self {
            name: el.child_text("Name"),
            batch_number: el.child_text("BatchNumber"),
            notes: el.child_text("Notes"),
            part_type: el.child_text("PartType"),
            dosage: el.child_text("Dosage"),
        }
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Vaccination");
        w.opt("Name", self.name.as_deref());
        w.opt("BatchNumber", self.batch_number.as_deref());
        w.opt("Notes", self.notes.as_deref());
        w.opt("PartType", self.part_type.as_deref());
        w.opt("Dosage", self.dosage.as_deref());
        w.close("Vaccination");
    }
}

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

nhs_identifiers::open_enum! {
    /// `Letter/Direction`.
    pub enum LetterDirection {
        /// `Incoming`
        Incoming = "Incoming",
        /// `Outgoing`
        Outgoing = "Outgoing",
        /// `Other`
        OtherDirection = "Other",
    }
}

/// `Letter`. `DocumentPath` is a file SystmOne reads on its own machine; leave
/// `date_sent_received` out for an unsent letter. Recipient name or organisation is required.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Letter {
    /// `RecipientName`
    pub recipient_name: Option<PersonName>,
    /// `RecipientOrganisation`
    pub recipient_organisation: Option<String>,
    /// `RecipientAddress`
    pub recipient_address: Option<Address>,
    /// `SenderName`
    pub sender_name: Option<PersonName>,
    /// `SenderOrganisation`
    pub sender_organisation: Option<String>,
    /// `SenderAddress`
    pub sender_address: Option<Address>,
    /// `DocumentPath` (writes).
    pub document_path: Option<String>,
    /// `Type` ("Miscellaneous" is always accepted).
    pub letter_type: Option<String>,
    /// `Direction`
    pub direction: Option<LetterDirection>,
    /// `DateSentReceived`
    pub date_sent_received: Option<NaiveDate>,
    /// `DocumentUID` (reads).
    pub document_uid: Option<DocumentUid>,
}

debug_redacted!(Letter {
    recipient_name,
    recipient_organisation,
    recipient_address,
    sender_name,
    sender_organisation,
    sender_address,
    document_path: redacted,
    letter_type,
    direction,
    date_sent_received,
    document_uid
});

impl Letter {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            recipient_name: el.child("RecipientName").map(PersonName::read),
            recipient_organisation: el.child_text("RecipientOrganisation"),
            recipient_address: el.child("RecipientAddress").map(Address::read),
            sender_name: el.child("SenderName").map(PersonName::read),
            sender_organisation: el.child_text("SenderOrganisation"),
            sender_address: el.child("SenderAddress").map(Address::read),
            document_path: el.child_text("DocumentPath"),
            letter_type: el.child_text("Type"),
            direction: el
                .child("Direction")
                .map(|d| LetterDirection::from_wire(d.text().trim())),
            date_sent_received: opt_date(el, "DateSentReceived")?,
            document_uid: el
                .child("DocumentUID")
                .map(|d| DocumentUid::new(d.text().trim())),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Letter");
        if let Some(n) = &self.recipient_name {
            n.write_as(w, "RecipientName");
        }
        w.opt(
            "RecipientOrganisation",
            self.recipient_organisation.as_deref(),
        );
        if let Some(a) = &self.recipient_address {
            a.write_as(w, "RecipientAddress");
        }
        if let Some(n) = &self.sender_name {
            n.write_as(w, "SenderName");
        }
        w.opt("SenderOrganisation", self.sender_organisation.as_deref());
        if let Some(a) = &self.sender_address {
            a.write_as(w, "SenderAddress");
        }
        w.opt("DocumentPath", self.document_path.as_deref());
        w.opt("Type", self.letter_type.as_deref());
        w.opt(
            "Direction",
            self.direction.as_ref().map(LetterDirection::as_str),
        );
        write_opt_date(w, "DateSentReceived", self.date_sent_received);
        w.opt(
            "DocumentUID",
            self.document_uid.as_ref().map(DocumentUid::as_str),
        );
        w.close("Letter");
    }
}

/// `Attachment`: on writes a `DocumentPath` (a file on the SystmOne PC) or a `URL`; on reads
/// file metadata and a `DocumentUID` for `GetDocument`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attachment {
    /// `DocumentPath` (writes).
    pub document_path: Option<String>,
    /// `URL` (writes).
    pub url: Option<String>,
    /// `FileName` (reads).
    pub file_name: Option<String>,
    /// `FileSize` (reads).
    pub file_size: Option<String>,
    /// `DocumentUID` (reads).
    pub document_uid: Option<DocumentUid>,
    /// `Comments`
    pub comments: Option<String>,
}

debug_redacted!(Attachment {
    document_path: redacted,
    url: redacted,
    file_name: redacted,
    file_size,
    document_uid,
    comments: redacted
});

impl Attachment {
    /// An attachment of a file on the SystmOne client's machine.
    pub fn from_path(path: impl Into<String>) -> Self {
        Self {
            document_path: Some(path.into()),
            ..Self::default()
        }
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Self {
        Self {
            document_path: el.child_text("DocumentPath"),
            url: el.child_text("URL"),
            file_name: el.child_text("FileName"),
            file_size: el.child_text("FileSize"),
            document_uid: el
                .child("DocumentUID")
                .map(|d| DocumentUid::new(d.text().trim())),
            comments: el.child_text("Comments"),
        }
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Attachment");
        w.opt("DocumentPath", self.document_path.as_deref());
        w.opt("URL", self.url.as_deref());
        w.opt("FileName", self.file_name.as_deref());
        w.opt("FileSize", self.file_size.as_deref());
        w.opt(
            "DocumentUID",
            self.document_uid.as_ref().map(DocumentUid::as_str),
        );
        w.opt("Comments", self.comments.as_deref());
        w.close("Attachment");
    }
}

/// `Activity { Performed, With, Method, Duration }` (values configured locally).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Activity {
    /// `Performed`
    pub performed: Option<String>,
    /// `With`
    pub with: Option<String>,
    /// `Method`
    pub method: Option<String>,
    /// `Duration` in minutes.
    pub duration: Option<u32>,
}

impl Activity {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            performed: el.child_text("Performed"),
            with: el.child_text("With"),
            method: el.child_text("Method"),
            duration: opt_minutes(el, "Duration")?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Activity");
        w.opt("Performed", self.performed.as_deref());
        w.opt("With", self.with.as_deref());
        w.opt("Method", self.method.as_deref());
        write_opt_minutes(w, "Duration", self.duration);
        w.close("Activity");
    }
}

// ------------------------------------------------------------------------------------------
// Non-clinical items
// ------------------------------------------------------------------------------------------

/// One item under `NonClinical`, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonClinicalItem {
    /// `Appointment`
    Appointment(Appointment),
    /// `Task`
    Task(Task),
    /// `Visit`
    Visit(Visit),
    /// An item this crate does not type, kept whole.
    Other(RawElement),
}

impl NonClinicalItem {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(match el.name() {
            "Appointment" => NonClinicalItem::Appointment(Appointment::read(el)?),
            "Task" => NonClinicalItem::Task(Task::read(el)?),
            "Visit" => NonClinicalItem::Visit(Visit::read(el)?),
            _ => NonClinicalItem::Other(el.to_raw()),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        match self {
            NonClinicalItem::Appointment(a) => a.write(w),
            NonClinicalItem::Task(t) => t.write(w),
            NonClinicalItem::Visit(v) => v.write(w),
            NonClinicalItem::Other(raw) => raw.write(w),
        }
    }

    pub(crate) fn read_all(parent: Element<'_, '_>) -> Result<Vec<Self>, Error> {
        parent.children().map(Self::read).collect()
    }
}

impl From<Task> for NonClinicalItem {
    fn from(t: Task) -> Self {
        NonClinicalItem::Task(t)
    }
}

impl From<Appointment> for NonClinicalItem {
    fn from(a: Appointment) -> Self {
        NonClinicalItem::Appointment(a)
    }
}

impl From<Visit> for NonClinicalItem {
    fn from(v: Visit) -> Self {
        NonClinicalItem::Visit(v)
    }
}

nhs_identifiers::open_enum! {
    /// Appointment `Status`.
    pub enum AppointmentStatus {
        /// `Booked`
        Booked = "Booked",
        /// `Arrived`
        Arrived = "Arrived",
        /// `In Progress`
        InProgress = "In Progress",
        /// `Finished`
        Finished = "Finished",
        /// `Did Not Attend`
        DidNotAttend = "Did Not Attend",
        /// `Cancelled by Patient`
        CancelledByPatient = "Cancelled by Patient",
        /// `Cancelled by Unit`
        CancelledByUnit = "Cancelled by Unit",
        /// `Cancelled by Other Service`
        CancelledByOtherService = "Cancelled by Other Service",
        /// `Patient Walked Out`
        PatientWalkedOut = "Patient Walked Out",
    }
}

/// A free slot: `Slot { SlotType, DateTimeStart, Duration }`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Slot {
    /// `SlotType`
    pub slot_type: Option<String>,
    /// `DateTimeStart`
    pub date_time_start: Option<NaiveDateTime>,
    /// `Duration` in minutes.
    pub duration: Option<u32>,
}

impl Slot {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            slot_type: el.child_text("SlotType"),
            date_time_start: opt_date_time(el, "DateTimeStart")?,
            duration: opt_minutes(el, "Duration")?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Slot");
        w.opt("SlotType", self.slot_type.as_deref());
        write_opt_date_time(w, "DateTimeStart", self.date_time_start);
        write_opt_minutes(w, "Duration", self.duration);
        w.close("Slot");
    }
}

/// A clinic: `Clinic { UserName, SiteName, ClinicType, Slot* }`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Clinic {
    /// `UserName`: the clinic owner.
    pub user_name: Option<String>,
    /// `SiteName`
    pub site_name: Option<String>,
    /// `ClinicType` ("rota type").
    pub clinic_type: Option<String>,
    /// `Slot*`
    pub slots: Vec<Slot>,
}

impl Clinic {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            user_name: el.child_text("UserName"),
            site_name: el.child_text("SiteName"),
            clinic_type: el.child_text("ClinicType"),
            slots: el
                .children_named("Slot")
                .map(Slot::read)
                .collect::<Result<_, _>>()?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Clinic");
        w.opt("UserName", self.user_name.as_deref());
        w.opt("SiteName", self.site_name.as_deref());
        w.opt("ClinicType", self.clinic_type.as_deref());
        for s in &self.slots {
            s.write(w);
        }
        w.close("Clinic");
    }
}

/// `Appointment`. Reads carry `DateTime`, `Duration`, `Clinician`, `UserName`, `Site`,
/// `ClinicType`, `AppointmentUID` and `Status`. To book, send `Clinic` (with its `Slot`
/// inside, as the spec and template nest it) matching a free slot; to update, send
/// `AppointmentUID` plus the changed fields (e.g. `Status`).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Appointment {
    /// `AppointmentUID`
    pub appointment_uid: Option<AppointmentUid>,
    /// `DateTime`
    pub date_time: Option<NaiveDateTime>,
    /// `Duration` in minutes.
    pub duration: Option<u32>,
    /// `Clinician` (display name).
    pub clinician: Option<String>,
    /// `UserName`
    pub user_name: Option<String>,
    /// `Site`
    pub site: Option<String>,
    /// `ClinicType`
    pub clinic_type: Option<String>,
    /// `Clinic` (bookings). A `Slot` sent as a sibling of `Clinic` (the XSD's nesting) is read
    /// into this clinic's slots.
    pub clinic: Option<Clinic>,
    /// `Status`
    pub status: Option<AppointmentStatus>,
    /// `Comments`
    pub comments: Option<String>,
    /// `LinkedReferralUID`
    pub linked_referral_uid: Option<ReferralUid>,
    /// `Flag` (free text).
    pub flag: Option<String>,
}

debug_redacted!(Appointment {
    appointment_uid,
    date_time,
    duration,
    clinician,
    user_name,
    site,
    clinic_type,
    clinic,
    status,
    comments: redacted,
    linked_referral_uid,
    flag: redacted
});

impl Appointment {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        let mut clinic = el.child("Clinic").map(Clinic::read).transpose()?;
        let sibling_slots = el
            .children_named("Slot")
            .map(Slot::read)
            .collect::<Result<Vec<_>, _>>()?;
        if !sibling_slots.is_empty() {
            clinic
                .get_or_insert_with(Clinic::default)
                .slots
                .extend(sibling_slots);
        }
        Ok(Self {
            appointment_uid: el
                .child("AppointmentUID")
                .map(|u| AppointmentUid::new(u.text().trim())),
            date_time: opt_date_time(el, "DateTime")?,
            duration: opt_minutes(el, "Duration")?,
            clinician: el.child_text("Clinician"),
            user_name: el.child_text("UserName"),
            site: el.child_text("Site"),
            clinic_type: el.child_text("ClinicType"),
            clinic,
            status: el
                .child("Status")
                .map(|s| AppointmentStatus::from_wire(s.text().trim())),
            comments: el.child_text("Comments"),
            linked_referral_uid: el
                .child("LinkedReferralUID")
                .map(|u| ReferralUid::new(u.text().trim())),
            flag: el.child_text("Flag"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Appointment");
        w.opt(
            "AppointmentUID",
            self.appointment_uid.as_ref().map(AppointmentUid::as_str),
        );
        write_opt_date_time(w, "DateTime", self.date_time);
        write_opt_minutes(w, "Duration", self.duration);
        w.opt("Clinician", self.clinician.as_deref());
        w.opt("UserName", self.user_name.as_deref());
        w.opt("Site", self.site.as_deref());
        w.opt("ClinicType", self.clinic_type.as_deref());
        if let Some(c) = &self.clinic {
            c.write(w);
        }
        w.opt(
            "Status",
            self.status.as_ref().map(AppointmentStatus::as_str),
        );
        w.opt("Comments", self.comments.as_deref());
        w.opt(
            "LinkedReferralUID",
            self.linked_referral_uid.as_ref().map(ReferralUid::as_str),
        );
        w.opt("Flag", self.flag.as_deref());
        w.close("Appointment");
    }
}

/// `Task`. New tasks: `TaskType`, `Due`?, `Content`, and at most one of the assignees (none
/// means unassigned). Updates: `TaskUID` plus the changed content or assignment. Reads carry
/// `TaskUID`, `DateTime`, `TaskType`, `Status`, `Content`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Task {
    /// `TaskUID`
    pub task_uid: Option<TaskUid>,
    /// `DateTime` (reads).
    pub date_time: Option<NaiveDateTime>,
    /// `TaskType` (locally configured, e.g. "Clinical Review Required").
    pub task_type: Option<String>,
    /// `Status` (reads).
    pub status: Option<String>,
    /// `Due`
    pub due: Option<NaiveDate>,
    /// `Content`
    pub content: Option<String>,
    /// `UserNameAssigned`
    pub user_name_assigned: Option<String>,
    /// `GroupNameAssigned`
    pub group_name_assigned: Option<String>,
    /// `TeamNameAssigned`
    pub team_name_assigned: Option<String>,
}

debug_redacted!(Task {
    task_uid,
    date_time,
    task_type,
    status,
    due,
    content: redacted,
    user_name_assigned,
    group_name_assigned,
    team_name_assigned
});

impl Task {
    /// A new task of this type with this content, unassigned.
    pub fn new(task_type: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            task_type: Some(task_type.into()),
            content: Some(content.into()),
            ..Self::default()
        }
    }

    /// Assigns the task to a SystmOne user.
    pub fn assigned_to_user(mut self, user_name: impl Into<String>) -> Self {
        self.user_name_assigned = Some(user_name.into());
        self
    }

    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            task_uid: el.child("TaskUID").map(|u| TaskUid::new(u.text().trim())),
            date_time: opt_date_time(el, "DateTime")?,
            task_type: el.child_text("TaskType"),
            status: el.child_text("Status"),
            due: opt_date(el, "Due")?,
            content: el.child_text("Content"),
            user_name_assigned: el.child_text("UserNameAssigned"),
            group_name_assigned: el.child_text("GroupNameAssigned"),
            team_name_assigned: el.child_text("TeamNameAssigned"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Task");
        w.opt("TaskUID", self.task_uid.as_ref().map(TaskUid::as_str));
        write_opt_date_time(w, "DateTime", self.date_time);
        w.opt("TaskType", self.task_type.as_deref());
        w.opt("Status", self.status.as_deref());
        write_opt_date(w, "Due", self.due);
        w.opt("Content", self.content.as_deref());
        w.opt("UserNameAssigned", self.user_name_assigned.as_deref());
        w.opt("GroupNameAssigned", self.group_name_assigned.as_deref());
        w.opt("TeamNameAssigned", self.team_name_assigned.as_deref());
        w.close("Task");
    }
}

/// `Visit { DateTime, Duration, Comments?, UserName, LinkedReferralUID?, Status? }`; update
/// with `VisitUID` + `Status`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Visit {
    /// `VisitUID`
    pub visit_uid: Option<VisitUid>,
    /// `DateTime`
    pub date_time: Option<NaiveDateTime>,
    /// `Duration` in minutes.
    pub duration: Option<u32>,
    /// `Comments`
    pub comments: Option<String>,
    /// `UserName`
    pub user_name: Option<String>,
    /// `LinkedReferralUID`
    pub linked_referral_uid: Option<ReferralUid>,
    /// `Status`
    pub status: Option<String>,
}

debug_redacted!(Visit {
    visit_uid,
    date_time,
    duration,
    comments: redacted,
    user_name,
    linked_referral_uid,
    status
});

impl Visit {
    pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
        Ok(Self {
            visit_uid: el.child("VisitUID").map(|u| VisitUid::new(u.text().trim())),
            date_time: opt_date_time(el, "DateTime")?,
            duration: opt_minutes(el, "Duration")?,
            comments: el.child_text("Comments"),
            user_name: el.child_text("UserName"),
            linked_referral_uid: el
                .child("LinkedReferralUID")
                .map(|u| ReferralUid::new(u.text().trim())),
            status: el.child_text("Status"),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.open("Visit");
        w.opt("VisitUID", self.visit_uid.as_ref().map(VisitUid::as_str));
        write_opt_date_time(w, "DateTime", self.date_time);
        write_opt_minutes(w, "Duration", self.duration);
        w.opt("Comments", self.comments.as_deref());
        w.opt("UserName", self.user_name.as_deref());
        w.opt(
            "LinkedReferralUID",
            self.linked_referral_uid.as_ref().map(ReferralUid::as_str),
        );
        w.opt("Status", self.status.as_deref());
        w.close("Visit");
    }
}
