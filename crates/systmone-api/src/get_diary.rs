//! `GetDiary`: upcoming appointments and visits linked to patients (reference §8.11).

/// Version 1.0.
pub mod v1 {
    use chrono::NaiveDateTime;

    use crate::error::Error;
    use crate::function::Metadata;
    use crate::record::{Demographics, NonClinicalItem};
    use crate::types::{Identity, opt_date_time, write_opt_date_time};
    use crate::xml::{Element, Writer};

    /// `GetDiary` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetDiary",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    /// Parameters, all optional. Neither `appointments` nor `visits` means both.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `MinDateTime`
        pub min_date_time: Option<NaiveDateTime>,
        /// `MaxDateTime`
        pub max_date_time: Option<NaiveDateTime>,
        /// `UserName*`
        pub user_names: Vec<String>,
        /// `SiteName*` (appointments only).
        pub site_names: Vec<String>,
        /// `Appointments` flag.
        pub appointments: bool,
        /// `Visits` flag.
        pub visits: bool,
    }

    impl Request {
        /// The diary between two times.
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
            w.flag("Appointments", self.appointments);
            w.flag("Visits", self.visits);
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                min_date_time: opt_date_time(el, "MinDateTime")?,
                max_date_time: opt_date_time(el, "MaxDateTime")?,
                user_names: el.texts("UserName"),
                site_names: el.texts("SiteName"),
                appointments: el.has("Appointments"),
                visits: el.has("Visits"),
            })
        }
    }

    /// One patient's diary entries.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct DiaryEntry {
        /// `Identity`
        pub identity: Option<Identity>,
        /// `Demographics { Title, FirstName, MiddleNames, Surname, DateOfBirth, Sex }`
        pub demographics: Option<Demographics>,
        /// `Appointment*` / `Visit*` in document order.
        pub items: Vec<NonClinicalItem>,
    }

    /// One entry per patient.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Result*`
        pub results: Vec<DiaryEntry>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            for r in &self.results {
                w.open("Result");
                if let Some(i) = &r.identity {
                    i.write(w);
                }
                if let Some(d) = &r.demographics {
                    d.write(w);
                }
                for item in &r.items {
                    item.write(w);
                }
                w.close("Result");
            }
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            let mut results = Vec::new();
            for r in el.children_named("Result") {
                let mut items = Vec::new();
                for child in r.children() {
                    if matches!(child.name(), "Appointment" | "Visit") {
                        items.push(NonClinicalItem::read(child)?);
                    }
                }
                results.push(DiaryEntry {
                    identity: Identity::optional_in(r)?,
                    demographics: r
                        .child("Demographics")
                        .map(Demographics::read)
                        .transpose()?,
                    items,
                });
            }
            Ok(Self { results })
        }
    }
}
