//! `GetReferenceData`: units of measurement of numeric Read codes (reference §8.15).

/// Version 1.0.
pub mod v1 {
    use chrono::NaiveDate;

    use crate::error::Error;
    use crate::function::Metadata;
    use crate::types::{opt_date, write_opt_date};
    use crate::xml::{Element, Writer};

    /// `GetReferenceData` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetReferenceData",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    crate::function::parameterless_request!();

    /// `NumericReadCodeUnits { Code, Units, CreatedDate }` (e.g. `229..` → `m`).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct NumericReadCodeUnits {
        /// `Code` (CTV3).
        pub code: Option<String>,
        /// `Units`
        pub units: Option<String>,
        /// `CreatedDate`
        pub created_date: Option<NaiveDate>,
    }

    /// The units table.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `NumericReadCodeUnits*`
        pub units: Vec<NumericReadCodeUnits>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            for u in &self.units {
                w.open("NumericReadCodeUnits");
                w.opt("Code", u.code.as_deref());
                w.opt("Units", u.units.as_deref());
                write_opt_date(w, "CreatedDate", u.created_date);
                w.close("NumericReadCodeUnits");
            }
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                units: el
                    .children_named("NumericReadCodeUnits")
                    .map(|u| {
                        Ok(NumericReadCodeUnits {
                            code: u.child_text("Code"),
                            units: u.child_text("Units"),
                            created_date: opt_date(u, "CreatedDate")?,
                        })
                    })
                    .collect::<Result<_, Error>>()?,
            })
        }
    }
}
