//! `GetCurrentActivity`: which screen the client is on, and the open patient (reference §8.3).

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::get_current_selection::v1::CurrentSelection;
    use crate::types::Identity;
    use crate::xml::{Element, Writer};

    /// `GetCurrentActivity` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetCurrentActivity",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    crate::function::parameterless_request!();

    /// The client's activity.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Identity`: present only if a record is open.
        pub identity: Option<Identity>,
        /// `Activity*`, general to specific (e.g. `Patient Actions`, `Prescribing`, …).
        pub activities: Vec<String>,
        /// `CurrentSelection`
        pub current_selection: Option<CurrentSelection>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            if let Some(i) = &self.identity {
                i.write(w);
            }
            w.each("Activity", &self.activities);
            if let Some(s) = &self.current_selection {
                s.write(w);
            }
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                identity: Identity::optional_in(el)?,
                activities: el.texts("Activity"),
                current_selection: el
                    .child("CurrentSelection")
                    .map(CurrentSelection::read)
                    .transpose()?,
            })
        }
    }
}
