//! GP Connect Send Document and Transfer of Care payloads (FHIR STU3, ITK3 messaging).
//!
//! Builders for ITK3 message bundles (Send Document, ITK007C; mental health discharge, ITK004D)
//! on `fhir-model` (STU3 only), a validator for the NHS profile rules, ITK3 acknowledgements and
//! a FHIR XML writer, plus the MESH routing fields each message implies.

#![warn(missing_docs)]
