//! NHS identifiers that validate at construction and never print in full.
//!
//! - [`NhsNumber`]: ten digits with a Modulus 11 check digit. Parsing accepts the usual
//!   written forms (`9991234578`, `999 123 4578`, `999-123-4578`) and normalises them. Its
//!   `Debug` and `Display` show only `999 *** **78`; [`NhsNumber::expose`] gives the full value
//!   where it is really needed (a wire message, a database key).
//! - [`OdsCode`]: an Organisation Data Service code (practice, trust or site), upper-cased.
//! - [`scan`]: finds valid NHS numbers in free text, to redact them or to keep them out of
//!   non-clinical channels (SystmOne instant messages are permanent and disclosable).
//! - [`system`]: the FHIR identifier system URIs these identifiers use.
//!
//! It is also the workspace's ground floor: every crate depends on it already and it does no
//! IO, so the small tools every crate needs live here once, rather than in a second crate that
//! every crate would also have to depend on:
//! [`open_enum!`](macro@open_enum) (code lists with a private catch-all), [`text_id!`] (text identifiers),
//! [`redact`] ([`redact::Redacted`], [`redact::Secret`], [`debug_redacted!`], [`redact::serde_error`]),
//! [`clock`] (one `Clock`, a manual test clock and the Europe/London date) and [`uuid`]
//! (random v4 ids, a deterministic sequence for snapshots).
//!
//! ```
//! use nhs_identifiers::NhsNumber;
//!
//! let n: NhsNumber = "999 123 4578".parse()?;
//! assert_eq!(n.expose(), "9991234578");
//! assert_eq!(n.to_string(), "999 *** **78"); // safe for logs
//! assert!(n.is_test_range());
//! assert!("999 123 4571".parse::<NhsNumber>().is_err()); // wrong check digit
//! # Ok::<(), nhs_identifiers::IdentifierError>(())
//! ```

#![warn(missing_docs)]

pub mod clock;
mod error;
mod nhs_number;
mod ods;
pub mod open_enum;
pub mod redact;
pub mod scan;
mod text_id;
pub mod uuid;
pub mod verhoeff;

#[doc(hidden)]
pub use serde as __serde;

pub use error::IdentifierError;
pub use nhs_number::{NhsNumber, TEST_RANGE_PREFIX};
pub use ods::OdsCode;

/// FHIR identifier system URIs for NHS identifiers (as used by GP Connect and Care Connect).
pub mod system {
    /// NHS number (`Patient.identifier.system`).
    pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";
    /// ODS organisation code (`Organization.identifier.system`).
    pub const ODS_ORGANIZATION_CODE: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
    /// ODS site code (`Location.identifier.system`).
    pub const ODS_SITE_CODE: &str = "https://fhir.nhs.uk/Id/ods-site-code";
    /// SDS user id (`Practitioner.identifier.system`).
    pub const SDS_USER_ID: &str = "https://fhir.nhs.uk/Id/sds-user-id";
    /// SDS role profile id (`PractitionerRole.identifier.system`).
    pub const SDS_ROLE_PROFILE_ID: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
    /// GMC number of a doctor.
    pub const GMC_NUMBER: &str = "https://fhir.nhs.uk/Id/gmc-number";
    /// A local patient identifier (hospital number), qualified by an assigner.
    pub const LOCAL_PATIENT_IDENTIFIER: &str = "https://fhir.nhs.uk/Id/local-patient-identifier";
}

/// `proptest` strategies for valid identifiers (feature `proptest`).
#[cfg(feature = "proptest")]
pub mod strategies {
    use proptest::prelude::*;

    use crate::NhsNumber;

    /// Any valid NHS number from the 999 test range.
    pub fn test_nhs_number() -> impl Strategy<Value = NhsNumber> {
        (0u32..900_000).prop_map(NhsNumber::fictitious)
    }

    /// Any valid NHS number (any range), for codec round-trips.
    pub fn any_nhs_number() -> impl Strategy<Value = NhsNumber> {
        proptest::array::uniform9(0u8..10)
            .prop_filter_map("check digit 10", |stem| NhsNumber::from_stem(stem).ok())
    }
}
