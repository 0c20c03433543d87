//! Appointments: `Appointment`, its status, and the clinics and free slots it is booked
//! into.

use chrono::NaiveDateTime;

use crate::error::Error;
use crate::redact::debug_redacted;
use crate::types::{
    AppointmentUid, ReferralUid, opt_date_time, opt_minutes, write_opt_date_time, write_opt_minutes,
};
use crate::xml::{Element, Writer};

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
