//! The patient record's building blocks, shared by reads (`GetPatientRecord`, `GetDiary`) and
//! writes (`UpdatePatientRecord`): demographics, journal events and their data items, and the
//! non-clinical items (appointments, tasks, visits). Element names and order follow the
//! reference (§8.6, §9). Unknown data items are kept as [`RawElement`](crate::RawElement)s so
//! nothing is lost.
//!
//! `Debug` never prints text people write (narrative lines, free text, comments, notes,
//! `DoneBy`/`DoneAt`, task content, file names and paths, URLs): it shows `<n chars>` instead,
//! as such text may name the patient. Codes, terms, dates, UIDs, statuses and staff usernames
//! stay visible.
//!
//! One file per concern: `demographics`; `event` (an [`Event`] and its [`DataItem`]s) over the
//! item files `coded` (narrative, clinical codes), `medication` (drugs, sensitivities,
//! vaccinations), `recall` (recalls, reminders), `report`, `document` (letters, attachments)
//! and `activity`; `non_clinical` ([`NonClinicalItem`], tasks, visits) over `appointment`
//! (appointments, clinics, slots). Every type is re-exported here.

mod activity;
mod appointment;
mod coded;
mod demographics;
mod document;
mod event;
mod medication;
mod non_clinical;
mod recall;
mod report;

pub use activity::Activity;
pub use appointment::{Appointment, AppointmentStatus, Clinic, Slot};
pub use coded::{ClinicalCode, Comparator, Episodicity, Narrative, ProblemSeverity};
pub use demographics::Demographics;
pub use document::{Attachment, Letter, LetterDirection};
pub use event::{DataItem, Event};
pub use medication::{DrugSensitivity, Ingredient, Medication, RepeatMedication, Vaccination};
pub use non_clinical::{NonClinicalItem, Task, Visit};
pub use recall::{Recall, Reminder, ReminderSeverity};
pub use report::{FollowUpAction, Report};
