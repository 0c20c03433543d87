//! The fictitious organisation's data: sites, users, patients, journal events, tasks, clinics
//! and appointment slots.
//!
//! These types are what a JSON fixture file holds (see [`crate::fixture`]) and what the
//! inspection methods of [`crate::Organisation`] return. Field names in JSON are the Rust field
//! names (snake case); every field that has a sensible empty value may be left out.

use chrono::{NaiveDate, NaiveDateTime};
use nhs_identifiers::NhsNumber;
use serde::{Deserialize, Serialize};

/// A postal address, in SystmOne's parts. Empty strings mean "not recorded".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Address {
    /// House name.
    pub house_name: String,
    /// House number.
    pub house_number: String,
    /// Road.
    pub road: String,
    /// Locality.
    pub locality: String,
    /// Town.
    pub town: String,
    /// County.
    pub county: String,
    /// Postcode, correctly spaced (`LS18 5TN`).
    pub postcode: String,
}

impl Address {
    /// An address from its number, road, town and postcode.
    pub fn new(house_number: &str, road: &str, town: &str, postcode: &str) -> Self {
        Self {
            house_number: house_number.to_owned(),
            road: road.to_owned(),
            town: town.to_owned(),
            postcode: postcode.to_owned(),
            ..Self::default()
        }
    }
}

/// A site of the organisation (a surgery or branch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Site {
    /// ODS-style site code, e.g. `B11111`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Telephone number.
    #[serde(default)]
    pub telephone: String,
    /// Fax number, left out of responses when unknown.
    #[serde(default)]
    pub fax: Option<String>,
    /// E-mail address, left out of responses when unknown.
    #[serde(default)]
    pub email: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Address,
    /// Whether this is the organisation's primary site.
    #[serde(default)]
    pub primary: bool,
}

/// A SystmOne user of the organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct User {
    /// SystmOne login name, the user's unique identifier (case-sensitive), e.g. `jbloggs1234`.
    pub user_name: String,
    /// Title (`Dr`, `Mrs`, ...).
    #[serde(default)]
    pub title: String,
    /// First name.
    pub first_name: String,
    /// Middle names.
    #[serde(default)]
    pub middle_names: String,
    /// Surname.
    pub surname: String,
    /// `M`, `F` or empty.
    #[serde(default)]
    pub gender: String,
    /// Job role, e.g. `General Medical Practitioner`.
    #[serde(default)]
    pub role: String,
    /// National smartcard role code, e.g. `S0010:G0020:R0260`.
    #[serde(default)]
    pub role_code: String,
    /// National professional id (e.g. a GMC number).
    #[serde(default)]
    pub national_id: String,
    /// Type of [`User::national_id`] (`GMC`, `NMC`, ...).
    #[serde(default)]
    pub national_id_type: String,
    /// Id of the user's site (one of the organisation's [`Site::id`]s).
    #[serde(default)]
    pub site_id: String,
    /// Access rights.
    #[serde(default)]
    pub access_rights: Vec<String>,
    /// User groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Whether this user is logged in on one of the practice's Gateway PCs. The first such user
    /// is the default logged-in user of a [`crate::GatewayConfig`].
    #[serde(default)]
    pub gateway: bool,
}

impl User {
    /// How SystmOne displays the user as a `DoneBy`: `SURNAME, First (Role)`.
    pub fn display_name(&self) -> String {
        if self.role.is_empty() {
            format!("{}, {}", self.surname.to_uppercase(), self.first_name)
        } else {
            format!(
                "{}, {} ({})",
                self.surname.to_uppercase(),
                self.first_name,
                self.role
            )
        }
    }
}

/// Who added a record item through the Client Integration interface: the integrating software's
/// device. Only the device that added an item may delete it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AddedBy {
    /// The device id the request carried (after allocation).
    pub device_id: String,
    /// The request's `DeviceVersion` text.
    #[serde(default)]
    pub device_version: String,
}

/// One data item of a journal event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum JournalItem {
    /// Free-text note, one entry per line.
    Narrative {
        /// The lines.
        lines: Vec<String>,
    },
    /// A coded entry.
    ClinicalCode {
        /// `CTV3` or `Snomed`.
        scheme: String,
        /// The code.
        code: String,
        /// The code's term, if known.
        #[serde(default)]
        term: String,
        /// Free text attached to the code.
        #[serde(default)]
        free_text: String,
        /// A numeric value (makes the code a reading).
        #[serde(default)]
        value: Option<String>,
        /// Units of [`JournalItem::ClinicalCode::value`].
        #[serde(default)]
        units: Option<String>,
    },
    /// A file or URL attachment.
    Attachment {
        /// The file path or URL it was read from.
        source: String,
        /// Comments.
        #[serde(default)]
        comments: String,
        /// The document's UID (for `GetDocument`).
        #[serde(default)]
        document_uid: String,
    },
    /// Any other item (medication, vaccination, ...), kept as a one-line summary.
    Other {
        /// The wire element name, e.g. `Medication`.
        element: String,
        /// A human-readable summary.
        #[serde(default)]
        summary: String,
    },
}

/// A journal event (one entry in the patient's record, holding data items).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct JournalEvent {
    /// Opaque 16-hex-character UID.
    pub event_uid: String,
    /// When it happened (`Event@DateTime`), local time.
    pub date_time: NaiveDateTime,
    /// When it was entered into the record (the entry date the `MinEntryDate`/`MaxEntryDate`
    /// filters use). Defaults to [`JournalEvent::date_time`] in fixtures.
    #[serde(default)]
    pub entered_at: Option<NaiveDateTime>,
    /// The author: user name of the person who performed it (`Event@UserName`).
    pub author: String,
    /// The user logged in to the SystmOne client that saved it ("Entered by"); through the
    /// interface this is the Gateway user.
    pub entered_by: String,
    /// The integration device that added it, or `None` for data entered in SystmOne itself.
    #[serde(default)]
    pub added_by: Option<AddedBy>,
    /// The software name SystmOne stamps on events added through the interface.
    #[serde(default)]
    pub software: Option<String>,
    /// Free-text source (`Event@DoneBy` on write).
    #[serde(default)]
    pub done_by_text: Option<String>,
    /// Free-text location (`Event@DoneAt`).
    #[serde(default)]
    pub done_at: Option<String>,
    /// Consultation method (`Event@Method`).
    #[serde(default)]
    pub method: Option<String>,
    /// The data items.
    #[serde(default)]
    pub items: Vec<JournalItem>,
    /// Whether the change is saved. `false` while it was written with `LeaveRecordOpen` and the
    /// record is still open (the user has not pressed Save).
    #[serde(default = "yes")]
    pub committed: bool,
}

fn yes() -> bool {
    true
}

impl JournalEvent {
    /// The entry date-time, falling back to the event's own date-time.
    pub fn entry_date_time(&self) -> NaiveDateTime {
        self.entered_at.unwrap_or(self.date_time)
    }
}

/// A task (a non-clinical work item) about a patient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Task {
    /// Opaque 16-hex-character UID.
    pub task_uid: String,
    /// When it was created.
    pub date_time: NaiveDateTime,
    /// Task type, e.g. `Clinical Review Required`.
    pub task_type: String,
    /// Status, e.g. `Not Started`, `Completed`.
    #[serde(default = "not_started")]
    pub status: String,
    /// Content text.
    #[serde(default)]
    pub content: String,
    /// Assigned user name.
    #[serde(default)]
    pub user_name_assigned: Option<String>,
    /// Assigned group.
    #[serde(default)]
    pub group_name_assigned: Option<String>,
    /// Assigned team.
    #[serde(default)]
    pub team_name_assigned: Option<String>,
    /// Due date.
    #[serde(default)]
    pub due: Option<NaiveDate>,
    /// The user logged in to the client that created it.
    #[serde(default)]
    pub entered_by: String,
    /// The integration device that added it, if any.
    #[serde(default)]
    pub added_by: Option<AddedBy>,
}

fn not_started() -> String {
    "Not Started".to_owned()
}

/// An appointment booked for a patient in a clinic slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Appointment {
    /// Opaque 16-hex-character UID.
    pub appointment_uid: String,
    /// Start date-time.
    pub date_time: NaiveDateTime,
    /// Duration in minutes.
    pub duration_minutes: u32,
    /// Clinician's user name.
    pub user_name: String,
    /// Site name.
    pub site_name: String,
    /// Clinic type.
    pub clinic_type: String,
    /// Slot type.
    #[serde(default)]
    pub slot_type: String,
    /// Status, e.g. `Booked`, `Arrived`.
    #[serde(default = "booked")]
    pub status: String,
    /// Free-text comments.
    #[serde(default)]
    pub comments: String,
    /// The integration device that booked it, if any.
    #[serde(default)]
    pub added_by: Option<AddedBy>,
}

fn booked() -> String {
    "Booked".to_owned()
}

/// A fictitious patient registered with the organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Patient {
    /// NHS number, from the 999 test range (checked when a fixture is loaded).
    pub nhs_number: NhsNumber,
    /// Strategic Reporting identifier.
    pub strategic_reporting_id: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// First name.
    pub first_name: String,
    /// Middle names.
    #[serde(default)]
    pub middle_names: String,
    /// Surname.
    pub surname: String,
    /// Known-as name.
    #[serde(default)]
    pub known_as: Option<String>,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// `M`, `F`, `I` or `U`.
    pub sex: String,
    /// Home address.
    #[serde(default)]
    pub address: Address,
    /// Home telephone.
    #[serde(default)]
    pub home_telephone: String,
    /// Mobile telephone.
    #[serde(default)]
    pub mobile_telephone: String,
    /// Work telephone.
    #[serde(default)]
    pub work_telephone: String,
    /// Alternative telephone.
    #[serde(default)]
    pub alternate_telephone: String,
    /// E-mail address.
    #[serde(default)]
    pub email_address: String,
    /// Consent to SMS messages.
    #[serde(default)]
    pub sms_consent: bool,
    /// User name of the usual GP.
    #[serde(default)]
    pub usual_gp_user_name: String,
    /// Registration type (`GMS`, `Private`, ...).
    #[serde(default)]
    pub registration_type: String,
    /// Date care started.
    #[serde(default)]
    pub care_start_date: Option<NaiveDate>,
    /// Journal events, oldest first.
    #[serde(default)]
    pub journal: Vec<JournalEvent>,
    /// Tasks.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// Appointments.
    #[serde(default)]
    pub appointments: Vec<Appointment>,
}

impl Patient {
    /// The preferred telephone number: mobile, home, work, then alternative.
    pub fn preferred_telephone(&self) -> Option<&str> {
        [
            &self.mobile_telephone,
            &self.home_telephone,
            &self.work_telephone,
            &self.alternate_telephone,
        ]
        .into_iter()
        .find(|t| !t.is_empty())
        .map(String::as_str)
    }

    /// Every telephone number on record.
    pub fn telephones(&self) -> impl Iterator<Item = &str> {
        [
            &self.home_telephone,
            &self.mobile_telephone,
            &self.work_telephone,
            &self.alternate_telephone,
        ]
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(String::as_str)
    }
}

/// A free or booked appointment slot in a clinic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Slot {
    /// Slot type, e.g. `Routine`.
    pub slot_type: String,
    /// Start date-time.
    pub start: NaiveDateTime,
    /// Duration in minutes.
    pub duration_minutes: u32,
    /// The appointment booked into it, if any.
    #[serde(default)]
    pub booked_appointment_uid: Option<String>,
}

/// A clinic (rota) session of one clinician at one site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Clinic {
    /// Clinician's user name.
    pub user_name: String,
    /// Site name.
    pub site_name: String,
    /// Clinic type.
    pub clinic_type: String,
    /// The slots.
    #[serde(default)]
    pub slots: Vec<Slot>,
}

/// A software registration: the name SystmOne stamps on events written with an API key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RegisteredSoftware {
    /// The API key TPP issued.
    pub api_key: String,
    /// The software name recorded against the key.
    pub name: String,
}

/// A numeric Read code's units (`GetReferenceData`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NumericUnits {
    /// CTV3 code, e.g. `229..`.
    pub code: String,
    /// Units, e.g. `m`.
    pub units: String,
    /// When the units were created.
    pub created_date: NaiveDate,
}

/// Everything a fixture describes: the organisation's initial state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OrganisationData {
    /// The organisation's name.
    pub name: String,
    /// Sites.
    pub sites: Vec<Site>,
    /// Users.
    pub users: Vec<User>,
    /// Patients.
    #[serde(default)]
    pub patients: Vec<Patient>,
    /// Clinics with their slots.
    #[serde(default)]
    pub clinics: Vec<Clinic>,
    /// Configured slot types.
    #[serde(default)]
    pub slot_types: Vec<String>,
    /// Configured clinic types.
    #[serde(default)]
    pub clinic_types: Vec<String>,
    /// Software registered against API keys.
    #[serde(default)]
    pub registered_software: Vec<RegisteredSoftware>,
    /// Units of numeric codes.
    #[serde(default)]
    pub reference_data: Vec<NumericUnits>,
}
