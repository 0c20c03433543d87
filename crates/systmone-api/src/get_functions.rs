//! `GetFunctions`: list the supported functions and versions (reference §8.1). A harmless
//! first call for device approval.

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::{FunctionName, Metadata};
    use crate::xml::{Element, Writer};

    /// `GetFunctions` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetFunctions",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    crate::function::parameterless_request!();

    /// `SupportedFunction { Function, Version+ }`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct SupportedFunction {
        /// `Function`
        pub function: FunctionName,
        /// `Version*` (e.g. `1.0`).
        pub versions: Vec<String>,
    }

    impl SupportedFunction {
        /// A supported function and its versions.
        pub fn new(function: FunctionName, versions: Vec<String>) -> Self {
            Self { function, versions }
        }
    }

    /// The functions the client supports.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `SupportedFunction*`
        pub functions: Vec<SupportedFunction>,
    }

    impl Response {
        /// Whether `function` is listed.
        pub fn supports(&self, function: &FunctionName) -> bool {
            self.functions.iter().any(|f| &f.function == function)
        }

        pub(crate) fn write_body(&self, w: &mut Writer) {
            for f in &self.functions {
                w.open("SupportedFunction");
                w.elem("Function", f.function.as_str());
                w.each("Version", &f.versions);
                w.close("SupportedFunction");
            }
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                functions: el
                    .children_named("SupportedFunction")
                    .map(|f| SupportedFunction {
                        function: FunctionName::from_wire(
                            f.child("Function")
                                .map(|n| n.text().trim())
                                .unwrap_or_default(),
                        ),
                        versions: f
                            .children_named("Version")
                            .map(|v| v.text().trim().to_owned())
                            .collect(),
                    })
                    .collect(),
            })
        }
    }
}
