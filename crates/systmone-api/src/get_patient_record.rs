//! `GetPatientRecord`: extract all or part of a patient record (reference §8.6).
//!
//! Throttled to one per 30 s, except a demographics-only filter or an entry-date window of
//! exactly today ([`v1::Request::is_throttle_exempt`]).

/// Version 1.0.
pub mod v1 {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use chrono::NaiveDate;

    use crate::error::Error;
    use crate::function::Metadata;
    use crate::record::{Demographics, Event, NonClinicalItem};
    use crate::types::{Identity, PatientId, RecordState, opt_date, write_opt_date};
    use crate::xml::{Element, Writer};

    /// `GetPatientRecord` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetPatientRecord",
        version: "1.0",
        writes: false,
        patient_record: true,
        default_limit: Some(Duration::from_secs(30)),
    };

    /// A section flag of the `Filter` (an empty element such as `<Demographics/>`), in the
    /// order they are written.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[non_exhaustive]
    pub enum RecordSection {
        /// `Appointments` (pending only).
        Appointments,
        /// `CarePlans`
        CarePlans,
        /// `Demographics`
        Demographics,
        /// `ClinicalCodes` (all coded data).
        ClinicalCodes,
        /// `Letters`
        Letters,
        /// `Medication` (acute and repeat).
        Medication,
        /// `Sensitivities`
        Sensitivities,
        /// `Recalls`
        Recalls,
        /// `Referrals`
        Referrals,
        /// `Relationships`
        Relationships,
        /// `Results` (pathology and radiology).
        Results,
        /// `Vaccinations`
        Vaccinations,
        /// `Reminders`
        Reminders,
        /// `Activity`
        Activity,
        /// `Attachments` (non-letter).
        Attachments,
        /// `Narrative`
        Narrative,
        /// `Visits` (pending only).
        Visits,
        /// `Tasks` (not completed).
        Tasks,
    }

    impl RecordSection {
        /// Every section, in wire order.
        pub const ALL: [RecordSection; 18] = [
            RecordSection::Appointments,
            RecordSection::CarePlans,
            RecordSection::Demographics,
            RecordSection::ClinicalCodes,
            RecordSection::Letters,
            RecordSection::Medication,
            RecordSection::Sensitivities,
            RecordSection::Recalls,
            RecordSection::Referrals,
            RecordSection::Relationships,
            RecordSection::Results,
            RecordSection::Vaccinations,
            RecordSection::Reminders,
            RecordSection::Activity,
            RecordSection::Attachments,
            RecordSection::Narrative,
            RecordSection::Visits,
            RecordSection::Tasks,
        ];

        /// The element name.
        pub fn as_str(self) -> &'static str {
            match self {
                RecordSection::Appointments => "Appointments",
                RecordSection::CarePlans => "CarePlans",
                RecordSection::Demographics => "Demographics",
                RecordSection::ClinicalCodes => "ClinicalCodes",
                RecordSection::Letters => "Letters",
                RecordSection::Medication => "Medication",
                RecordSection::Sensitivities => "Sensitivities",
                RecordSection::Recalls => "Recalls",
                RecordSection::Referrals => "Referrals",
                RecordSection::Relationships => "Relationships",
                RecordSection::Results => "Results",
                RecordSection::Vaccinations => "Vaccinations",
                RecordSection::Reminders => "Reminders",
                RecordSection::Activity => "Activity",
                RecordSection::Attachments => "Attachments",
                RecordSection::Narrative => "Narrative",
                RecordSection::Visits => "Visits",
                RecordSection::Tasks => "Tasks",
            }
        }
    }

    /// `Filter`: which parts of the record to return. Without a filter the whole record comes
    /// back (and is throttled).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Filter {
        /// `MinEffectiveDate`
        pub min_effective_date: Option<NaiveDate>,
        /// `MaxEffectiveDate`
        pub max_effective_date: Option<NaiveDate>,
        /// `MinEntryDate`: entered on or after.
        pub min_entry_date: Option<NaiveDate>,
        /// `MaxEntryDate`: entered on or before.
        pub max_entry_date: Option<NaiveDate>,
        /// Section flags.
        pub sections: BTreeSet<RecordSection>,
        /// `ClinicalCode*`: CTV3 codes to return (ignored with `ClinicalCodes`).
        pub clinical_codes: Vec<String>,
        /// `Numeric*`: CTV3 codes of numeric readings (e.g. `229..` height).
        pub numeric: Vec<String>,
        /// `UserNameDoneBy*`: data recorded by these users.
        pub user_names_done_by: Vec<String>,
    }

    impl Filter {
        /// A filter asking for these sections only.
        pub fn sections<I: IntoIterator<Item = RecordSection>>(sections: I) -> Self {
            Self {
                sections: sections.into_iter().collect(),
                ..Self::default()
            }
        }

        /// `<Demographics/>` alone (exempt from the 30 s limit).
        pub fn demographics_only() -> Self {
            Self::sections([RecordSection::Demographics])
        }

        /// Sets both entry dates to `day` (exempt from the 30 s limit when `day` is today).
        pub fn with_entry_date(mut self, day: NaiveDate) -> Self {
            self.min_entry_date = Some(day);
            self.max_entry_date = Some(day);
            self
        }

        /// Whether the filter asks for demographics only.
        pub fn is_demographics_only(&self) -> bool {
            self.sections.len() == 1
                && self.sections.contains(&RecordSection::Demographics)
                && self.min_effective_date.is_none()
                && self.max_effective_date.is_none()
                && self.min_entry_date.is_none()
                && self.max_entry_date.is_none()
                && self.clinical_codes.is_empty()
                && self.numeric.is_empty()
                && self.user_names_done_by.is_empty()
        }

        /// Whether both entry dates are exactly `today`.
        pub fn is_entry_date_window(&self, today: NaiveDate) -> bool {
            self.min_entry_date == Some(today) && self.max_entry_date == Some(today)
        }

        pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
            let mut sections = BTreeSet::new();
            for section in RecordSection::ALL {
                if el.has(section.as_str()) {
                    sections.insert(section);
                }
            }
            Ok(Self {
                min_effective_date: opt_date(el, "MinEffectiveDate")?,
                max_effective_date: opt_date(el, "MaxEffectiveDate")?,
                min_entry_date: opt_date(el, "MinEntryDate")?,
                max_entry_date: opt_date(el, "MaxEntryDate")?,
                sections,
                clinical_codes: el.texts("ClinicalCode"),
                numeric: el.texts("Numeric"),
                user_names_done_by: el.texts("UserNameDoneBy"),
            })
        }

        pub(crate) fn write(&self, w: &mut Writer) {
            w.open("Filter");
            write_opt_date(w, "MinEffectiveDate", self.min_effective_date);
            write_opt_date(w, "MaxEffectiveDate", self.max_effective_date);
            write_opt_date(w, "MinEntryDate", self.min_entry_date);
            write_opt_date(w, "MaxEntryDate", self.max_entry_date);
            for section in &self.sections {
                w.flag(section.as_str(), true);
            }
            w.each("ClinicalCode", &self.clinical_codes);
            w.each("Numeric", &self.numeric);
            w.each("UserNameDoneBy", &self.user_names_done_by);
            w.close("Filter");
        }
    }

    /// `GetPatientRecord` parameters.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `Identity`: the patient; `None` extracts the record open in the client.
        pub identity: Option<PatientId>,
        /// `LeaveRecordOpen` flag.
        pub leave_record_open: bool,
        /// `Filter`; `None` returns the whole record.
        pub filter: Option<Filter>,
    }

    impl Request {
        /// The record of this patient, filtered.
        pub fn new(identity: impl Into<PatientId>, filter: Option<Filter>) -> Self {
            Self {
                identity: Some(identity.into()),
                leave_record_open: false,
                filter,
            }
        }

        /// Demographics only (exempt from the 30 s limit).
        pub fn demographics(identity: impl Into<PatientId>) -> Self {
            Self::new(identity, Some(Filter::demographics_only()))
        }

        /// Whether the request is exempt from the 30 s limit on `today` (the client's local
        /// date): a demographics-only filter, or both entry dates equal to `today`.
        pub fn is_throttle_exempt(&self, today: NaiveDate) -> bool {
            self.filter
                .as_ref()
                .is_some_and(|f| f.is_demographics_only() || f.is_entry_date_window(today))
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            if let Some(id) = &self.identity {
                id.write_identity(w);
            }
            w.flag("LeaveRecordOpen", self.leave_record_open);
            if let Some(filter) = &self.filter {
                filter.write(w);
            }
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                identity: PatientId::optional_in(el)?,
                leave_record_open: el.has("LeaveRecordOpen"),
                filter: el.child("Filter").map(Filter::read).transpose()?,
            })
        }
    }

    /// The (partial) patient record.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Identity`
        pub identity: Option<Identity>,
        /// `Demographics` (if requested, or the full record).
        pub demographics: Option<Demographics>,
        /// `Clinical/Event*` in document order.
        pub events: Vec<Event>,
        /// `NonClinical` items (appointments, tasks, visits) in document order.
        pub non_clinical: Vec<NonClinicalItem>,
        /// `RecordState`
        pub record_state: Option<RecordState>,
    }

    impl Response {
        /// The tasks among the non-clinical items.
        pub fn tasks(&self) -> impl Iterator<Item = &crate::record::Task> {
            self.non_clinical.iter().filter_map(|i| match i {
                NonClinicalItem::Task(t) => Some(t),
                _ => None,
            })
        }

        /// The appointments among the non-clinical items.
        pub fn appointments(&self) -> impl Iterator<Item = &crate::record::Appointment> {
            self.non_clinical.iter().filter_map(|i| match i {
                NonClinicalItem::Appointment(a) => Some(a),
                _ => None,
            })
        }

        /// The event with this `EventUID`.
        pub fn event(&self, uid: &crate::types::EventUid) -> Option<&Event> {
            self.events
                .iter()
                .find(|e| e.event_uid.as_ref() == Some(uid))
        }

        pub(crate) fn write_body(&self, w: &mut Writer) {
            if let Some(identity) = &self.identity {
                identity.write(w);
            }
            if let Some(d) = &self.demographics {
                d.write(w);
            }
            if !self.events.is_empty() {
                w.open("Clinical");
                for e in &self.events {
                    e.write(w);
                }
                w.close("Clinical");
            }
            if !self.non_clinical.is_empty() {
                w.open("NonClinical");
                for item in &self.non_clinical {
                    item.write(w);
                }
                w.close("NonClinical");
            }
            w.opt(
                "RecordState",
                self.record_state.as_ref().map(RecordState::as_str),
            );
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            let count = el
                .children_named("Clinical")
                .map(|clinical| clinical.children().count())
                .sum();
            let mut events = Vec::with_capacity(count);
            for clinical in el.children_named("Clinical") {
                for event in clinical.children_named("Event") {
                    events.push(Event::read(event)?);
                }
            }
            let mut non_clinical = Vec::new();
            for nc in el.children_named("NonClinical") {
                non_clinical.extend(NonClinicalItem::read_all(nc)?);
            }
            Ok(Self {
                identity: Identity::optional_in(el)?,
                demographics: el
                    .child("Demographics")
                    .map(Demographics::read)
                    .transpose()?,
                events,
                non_clinical,
                record_state: el
                    .child("RecordState")
                    .map(|s| RecordState::from_wire(s.text().trim())),
            })
        }
    }
}
