//! `GetAppointmentSlots`: free appointment slots (reference §8.10).

/// Version 1.0.
pub mod v1 {
    use chrono::NaiveDateTime;

    use crate::error::Error;
    use crate::function::Metadata;
    use crate::record::Clinic;
    use crate::types::{opt_date_time, write_opt_date_time};
    use crate::xml::{Element, Writer};

    /// `GetAppointmentSlots` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetAppointmentSlots",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    /// Parameters, all optional.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `MinDateTime`
        pub min_date_time: Option<NaiveDateTime>,
        /// `MaxDateTime`
        pub max_date_time: Option<NaiveDateTime>,
        /// `UserName*`
        pub user_names: Vec<String>,
        /// `SiteName*`
        pub site_names: Vec<String>,
        /// `ClinicType*` ("rota type").
        pub clinic_types: Vec<String>,
        /// `SlotType*`
        pub slot_types: Vec<String>,
    }

    impl Request {
        /// Slots between two times.
        pub fn between(min: NaiveDateTime, max: NaiveDateTime) -> Self {
            Self {
                min_date_time: Some(min),
                max_date_time: Some(max),
                ..Self::default()
            }
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            write_opt_date_time(w, "MinDateTime", self.min_date_time);
            write_opt_date_time(w, "MaxDateTime", self.max_date_time);
            w.each("UserName", &self.user_names);
            w.each("SiteName", &self.site_names);
            w.each("ClinicType", &self.clinic_types);
            w.each("SlotType", &self.slot_types);
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                min_date_time: opt_date_time(el, "MinDateTime")?,
                max_date_time: opt_date_time(el, "MaxDateTime")?,
                user_names: el.texts("UserName"),
                site_names: el.texts("SiteName"),
                clinic_types: el.texts("ClinicType"),
                slot_types: el.texts("SlotType"),
            })
        }
    }

    /// Clinics with their free slots.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Clinic*`
        pub clinics: Vec<Clinic>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            for c in &self.clinics {
                c.write(w);
            }
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                clinics: el
                    .children_named("Clinic")
                    .map(Clinic::read)
                    .collect::<Result<_, _>>()?,
            })
        }
    }
}
