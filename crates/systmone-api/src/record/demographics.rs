//! `Demographics`: the patient's details on reads, the changed fields on updates.

use std::fmt;

use chrono::NaiveDate;

use crate::error::Error;
use crate::types::{Address, Code, Sex, YesNo, opt_date, write_opt_date};
use crate::xml::{Element, Writer};

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
