//! `DataExtract`: download a named Strategic Reporting extract into a directory on the
//! client's machine (reference §8.13).

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::xml::{Element, Writer};

    /// `DataExtract` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "DataExtract",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    /// Parameters.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `Directory` (required).
        pub directory: String,
        /// `Name` of the extract (required).
        pub name: String,
        /// `SRManifestCRC` from the previous response, to skip an unchanged extract (read also
        /// as the template's `SrManifestCrc`).
        pub sr_manifest_crc: Option<String>,
    }

    impl Request {
        /// Download an extract into a directory.
        pub fn new(directory: impl Into<String>, name: impl Into<String>) -> Self {
            Self {
                directory: directory.into(),
                name: name.into(),
                sr_manifest_crc: None,
            }
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            if self.directory.trim().is_empty() || self.name.trim().is_empty() {
                return Err(Error::InvalidRequest {
                    function: METADATA.function,
                    reason: "Directory and Name are required",
                });
            }
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            w.elem("Directory", &self.directory);
            w.elem("Name", &self.name);
            w.opt("SRManifestCRC", self.sr_manifest_crc.as_deref());
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                directory: el.child_text("Directory").unwrap_or_default(),
                name: el.child_text("Name").unwrap_or_default(),
                sr_manifest_crc: crc(el),
            })
        }
    }

    fn crc(el: Element<'_, '_>) -> Option<String> {
        el.child_text("SRManifestCRC")
            .or_else(|| el.child_text("SrManifestCrc"))
    }

    /// The manifest checksum.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `SRManifestCRC`
        pub sr_manifest_crc: Option<String>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            w.opt("SRManifestCRC", self.sr_manifest_crc.as_deref());
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                sr_manifest_crc: crc(el),
            })
        }
    }
}
