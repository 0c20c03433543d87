//! `nhs-integration`: open Rust libraries that let software outside the NHS clinical record
//! talk to it safely.
//!
//! This root crate re-exports the member crates, each behind a Cargo feature of the same name
//! (all on by default), so `nhs-integration` alone is enough to get started:
//!
//! | feature / crate | what it does |
//! | --- | --- |
//! | `nhs-identifiers` | NHS number (Modulus 11), ODS code; never printed in full |
//! | `systmone-api` | SystmOne Client Integration messages, XML codec, framing, throttle policy (no IO) |
//! | `systmone-client` | tokio transport per SystmOne client, timeouts, device id, gateway pool |
//! | `systmone-sim` | a SystmOne client simulator with fault injection |
//! | `systmone-writeback` | case notes filed once, by the right author, to the right patient |
//! | `gpconnect-fhir` | GP Connect Send Document and Transfer of Care (FHIR STU3, ITK3) |
//! | `nhs-mesh` | MESH API v2 client: auth, mTLS, chunking, exactly-once outbox, poller, ITK3 acks |
//! | `ward-assurance` | assurance-dashboard audits completing hub ward tasks |
//! | `open-referral-uk` | Open Referral UK 3.0 model, validation, search, API, marketplace |
//! | `systmone-gateway` | agent on a Gateway PC: dials the hub over TLS, relays to SystmOne |
//! | `systmone-gateway-hub` | central side: device registry, per-practice pools, writeback routing |
//!
//! See `README.md` for the two commands that get it running and `ARCHITECTURE.md` for the code
//! map and invariants.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "gpconnect-fhir")]
pub use gpconnect_fhir;
#[cfg(feature = "nhs-identifiers")]
pub use nhs_identifiers;
#[cfg(feature = "nhs-mesh")]
pub use nhs_mesh;
#[cfg(feature = "open-referral-uk")]
pub use open_referral_uk;
#[cfg(feature = "systmone-api")]
pub use systmone_api;
#[cfg(feature = "systmone-client")]
pub use systmone_client;
#[cfg(feature = "systmone-gateway")]
pub use systmone_gateway;
#[cfg(feature = "systmone-gateway-hub")]
pub use systmone_gateway_hub;
#[cfg(feature = "systmone-sim")]
pub use systmone_sim;
#[cfg(feature = "systmone-writeback")]
pub use systmone_writeback;
#[cfg(feature = "ward-assurance")]
pub use ward_assurance;
