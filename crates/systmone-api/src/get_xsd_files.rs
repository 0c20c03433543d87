//! `GetXSDFiles`: make the client write its XSD files to disk (reference §8.15). For
//! development.

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::xml::{Element, Writer};

    /// `GetXSDFiles` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetXSDFiles",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    /// Parameters.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `Path` (default: SystmOne's temp folder).
        pub path: Option<String>,
    }

    impl Request {
        /// Into SystmOne's temp folder.
        pub fn new() -> Self {
            Self::default()
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            w.opt("Path", self.path.as_deref());
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                path: el.child_text("Path"),
            })
        }
    }

    /// `XSD { Function, Version, Result }`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct XsdFile {
        /// `Function`
        pub function: Option<String>,
        /// `Version`
        pub version: Option<String>,
        /// `Result`
        pub result: Option<String>,
    }

    /// The files written.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `XSD*`
        pub files: Vec<XsdFile>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            for f in &self.files {
                w.open("XSD");
                w.opt("Function", f.function.as_deref());
                w.opt("Version", f.version.as_deref());
                w.opt("Result", f.result.as_deref());
                w.close("XSD");
            }
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                files: el
                    .children_named("XSD")
                    .map(|x| XsdFile {
                        function: x.child_text("Function"),
                        version: x.child_text("Version"),
                        result: x.child_text("Result"),
                    })
                    .collect(),
            })
        }
    }
}
