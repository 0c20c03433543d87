//! The `GetPatientRecord` filter: which sections, entry and effective dates, codes and
//! authors to return.

use chrono::NaiveDate;

use crate::model::{JournalEvent, JournalItem, Patient, Task};

/// Which parts of the record to return.
#[derive(Clone, Debug, Default)]
pub(crate) struct RecordSelection {
    /// `None`: no filter, the whole record.
    pub(crate) filtered: bool,
    pub(crate) demographics: bool,
    pub(crate) clinical_codes: bool,
    pub(crate) narrative: bool,
    pub(crate) attachments: bool,
    pub(crate) other_clinical: bool,
    pub(crate) tasks: bool,
    pub(crate) appointments: bool,
    pub(crate) min_entry: Option<NaiveDate>,
    pub(crate) max_entry: Option<NaiveDate>,
    pub(crate) min_effective: Option<NaiveDate>,
    pub(crate) max_effective: Option<NaiveDate>,
    pub(crate) done_by: Vec<String>,
    pub(crate) codes: Vec<String>,
}

impl RecordSelection {
    fn wants_item(&self, item: &JournalItem) -> bool {
        if !self.filtered {
            return true;
        }
        match item {
            JournalItem::ClinicalCode { code, .. } => {
                self.clinical_codes || self.codes.iter().any(|c| c == code)
            }
            JournalItem::Narrative { .. } => self.narrative,
            JournalItem::Attachment { .. } => self.attachments,
            JournalItem::Other { .. } => self.other_clinical,
        }
    }

    fn date_ok(date: NaiveDate, min: Option<NaiveDate>, max: Option<NaiveDate>) -> bool {
        min.is_none_or(|m| date >= m) && max.is_none_or(|m| date <= m)
    }

    /// Whether the filter names only dates and no section (then every section is wanted).
    fn sections_unspecified(&self) -> bool {
        !(self.demographics
            || self.clinical_codes
            || self.narrative
            || self.attachments
            || self.other_clinical
            || self.tasks
            || self.appointments
            || !self.codes.is_empty())
    }

    /// The selection with "dates only" widened to every section.
    pub(crate) fn normalised(mut self) -> Self {
        if self.filtered && self.sections_unspecified() {
            self.clinical_codes = true;
            self.narrative = true;
            self.attachments = true;
            self.other_clinical = true;
            self.tasks = true;
            self.appointments = true;
        }
        self
    }

    pub(crate) fn include_demographics(&self) -> bool {
        !self.filtered || self.demographics
    }

    pub(crate) fn include_tasks(&self) -> bool {
        !self.filtered || self.tasks
    }

    pub(crate) fn include_appointments(&self) -> bool {
        !self.filtered || self.appointments
    }

    /// The events to return, each with only the wanted items (events left empty are dropped).
    pub(crate) fn events(&self, patient: &Patient) -> Vec<JournalEvent> {
        patient
            .journal
            .iter()
            .filter(|e| {
                Self::date_ok(e.entry_date_time().date(), self.min_entry, self.max_entry)
                    && Self::date_ok(e.date_time.date(), self.min_effective, self.max_effective)
                    && (self.done_by.is_empty() || self.done_by.iter().any(|u| u == &e.author))
            })
            .filter_map(|e| {
                let items: Vec<JournalItem> = e
                    .items
                    .iter()
                    .filter(|i| self.wants_item(i))
                    .cloned()
                    .collect();
                if items.is_empty() && self.filtered {
                    return None;
                }
                let mut event = e.clone();
                event.items = items;
                Some(event)
            })
            .collect()
    }

    pub(crate) fn tasks(&self, patient: &Patient) -> Vec<Task> {
        patient
            .tasks
            .iter()
            .filter(|t| !self.filtered || t.status != "Completed")
            .filter(|t| Self::date_ok(t.date_time.date(), self.min_entry, self.max_entry))
            .cloned()
            .collect()
    }
}
