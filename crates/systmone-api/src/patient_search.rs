//! `PatientSearch`: search the organisation's patient list (reference §8.5). At least two
//! criteria are required; a search that matches nobody is an empty result, not an error.

/// Version 1.0.
pub mod v1 {
    use std::fmt;

    use chrono::NaiveDate;

    use crate::error::Error;
    use crate::function::Metadata;
    use crate::types::{Address, Identity, Sex, opt_date, write_opt_date};
    use crate::xml::{Element, Writer};

    /// `PatientSearch` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "PatientSearch",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    /// Search criteria (each optional, at least two required). `Debug` shows which are set.
    #[derive(Clone, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `FirstName`: full or prefix.
        pub first_name: Option<String>,
        /// `Surname`: full or prefix.
        pub surname: Option<String>,
        /// `DateOfBirth`
        pub date_of_birth: Option<NaiveDate>,
        /// `PostCode`: full and correctly spaced, or the outward code.
        pub post_code: Option<String>,
        /// `Telephone`: any of the patient's numbers.
        pub telephone: Option<String>,
        /// `Gender`: `M` or `F`.
        pub gender: Option<Sex>,
    }

    impl fmt::Debug for Request {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "PatientSearch {{ criteria: {:?} }}", self.criteria())
        }
    }

    impl Request {
        /// Criteria by surname and date of birth.
        pub fn by_surname_and_birth_date(
            surname: impl Into<String>,
            date_of_birth: NaiveDate,
        ) -> Self {
            Self {
                surname: Some(surname.into()),
                date_of_birth: Some(date_of_birth),
                ..Self::default()
            }
        }

        /// An empty search; set at least two fields before sending.
        pub fn new() -> Self {
            Self::default()
        }

        /// The names of the criteria that are set. A text criterion that is empty or only
        /// white space is not counted: it would be sent as an empty element, which searches on
        /// nothing.
        pub fn criteria(&self) -> Vec<&'static str> {
            let given = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
            [
                ("FirstName", given(self.first_name.as_deref())),
                ("Surname", given(self.surname.as_deref())),
                ("DateOfBirth", self.date_of_birth.is_some()),
                ("PostCode", given(self.post_code.as_deref())),
                ("Telephone", given(self.telephone.as_deref())),
                ("Gender", given(self.gender.as_ref().map(Sex::as_str))),
            ]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect()
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            if self.criteria().len() < 2 {
                return Err(Error::InvalidRequest {
                    function: METADATA.function,
                    reason: "at least two search criteria must be specified",
                });
            }
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            w.opt("FirstName", self.first_name.as_deref());
            w.opt("Surname", self.surname.as_deref());
            write_opt_date(w, "DateOfBirth", self.date_of_birth);
            w.opt("PostCode", self.post_code.as_deref());
            w.opt("Telephone", self.telephone.as_deref());
            w.opt("Gender", self.gender.as_ref().map(Sex::as_str));
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                first_name: el.child_text("FirstName"),
                surname: el.child_text("Surname"),
                date_of_birth: opt_date(el, "DateOfBirth")?,
                post_code: el.child_text("PostCode"),
                telephone: el.child_text("Telephone"),
                gender: el.child("Gender").map(|g| Sex::from_wire(g.text().trim())),
            })
        }
    }

    /// One matching patient. `Debug` does not print names, date of birth or contact details.
    #[derive(Clone, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct SearchResult {
        /// `Identity`
        pub identity: Identity,
        /// `FirstName`
        pub first_name: Option<String>,
        /// `Surname`
        pub surname: Option<String>,
        /// `DateOfBirth`
        pub date_of_birth: Option<NaiveDate>,
        /// `Sex`
        pub sex: Option<Sex>,
        /// `Telephone`: preferred number, absent if none.
        pub telephone: Option<String>,
        /// `Address`, absent if none.
        pub address: Option<Address>,
    }

    impl fmt::Debug for SearchResult {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SearchResult")
                .field("identity", &self.identity)
                .field("sex", &self.sex)
                .finish_non_exhaustive()
        }
    }

    impl SearchResult {
        fn read(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                identity: el
                    .child("Identity")
                    .map(Identity::read)
                    .transpose()?
                    .unwrap_or_default(),
                first_name: el.child_text("FirstName"),
                surname: el.child_text("Surname"),
                date_of_birth: opt_date(el, "DateOfBirth")?,
                sex: el.child("Sex").map(|s| Sex::from_wire(s.text().trim())),
                telephone: el.child_text("Telephone"),
                address: el.child("Address").map(Address::read),
            })
        }

        fn write(&self, w: &mut Writer) {
            w.open("Result");
            self.identity.write(w);
            w.opt("FirstName", self.first_name.as_deref());
            w.opt("Surname", self.surname.as_deref());
            write_opt_date(w, "DateOfBirth", self.date_of_birth);
            w.opt("Sex", self.sex.as_ref().map(Sex::as_str));
            w.opt("Telephone", self.telephone.as_deref());
            if let Some(a) = &self.address {
                a.write_as(w, "Address");
            }
            w.close("Result");
        }
    }

    /// The matches (possibly none).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Result*`
        pub results: Vec<SearchResult>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            for r in &self.results {
                r.write(w);
            }
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                results: el
                    .children_named("Result")
                    .map(SearchResult::read)
                    .collect::<Result<_, _>>()?,
            })
        }
    }
}
