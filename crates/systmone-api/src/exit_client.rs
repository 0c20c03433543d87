//! `ExitClient`: make the SystmOne client exit to the desktop (reference §8.12). The response
//! is sent first; the client exits within about 3 s.

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::xml::{Element, Writer};

    /// `ExitClient` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "ExitClient",
        version: "1.0",
        writes: true,
        patient_record: false,
        default_limit: None,
    };

    /// Parameters.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `Restart` flag (XSD): restart after exiting.
        pub restart: bool,
    }

    impl Request {
        /// Exit without restarting.
        pub fn new() -> Self {
            Self::default()
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            w.flag("Restart", self.restart);
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                restart: el.has("Restart"),
            })
        }
    }

    /// Empty response.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {}

    impl Response {
        pub(crate) fn write_body(&self, _w: &mut Writer) {}

        pub(crate) fn read_body(_el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {})
        }
    }
}
