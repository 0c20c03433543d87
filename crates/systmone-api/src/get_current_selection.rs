//! `GetCurrentSelection`: the drugs or codes selected on the client's active screen
//! (reference §8.4). Honours `OutputScheme`.

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::types::{Code, Drug, Identity};
    use crate::xml::{Element, Writer};

    /// `GetCurrentSelection` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetCurrentSelection",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    crate::function::parameterless_request!();

    /// `CurrentSelection { Drug*, Code* }` (empty when nothing is selected).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct CurrentSelection {
        /// `Drug*`
        pub drugs: Vec<Drug>,
        /// `Code*`
        pub codes: Vec<Code>,
    }

    impl CurrentSelection {
        pub(crate) fn read(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                drugs: el
                    .children_named("Drug")
                    .map(Drug::read)
                    .collect::<Result<_, _>>()?,
                codes: el
                    .children_named("Code")
                    .map(Code::read)
                    .collect::<Result<_, _>>()?,
            })
        }

        pub(crate) fn write(&self, w: &mut Writer) {
            w.open("CurrentSelection");
            for d in &self.drugs {
                d.write(w);
            }
            for c in &self.codes {
                c.write(w);
            }
            w.close("CurrentSelection");
        }
    }

    /// The selection.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Identity` of the open record, if any.
        pub identity: Option<Identity>,
        /// `CurrentSelection`
        pub current_selection: CurrentSelection,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            if let Some(i) = &self.identity {
                i.write(w);
            }
            self.current_selection.write(w);
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                identity: Identity::optional_in(el)?,
                current_selection: el
                    .child("CurrentSelection")
                    .map(CurrentSelection::read)
                    .transpose()?
                    .unwrap_or_default(),
            })
        }
    }
}
