//! Ward assurance sync: assurance-dashboard audits completing hub ward tasks.
//!
//! The seven audit types and their hub codes, the dashboard webhook and its transform into a
//! hub sync request, an indexed matcher that completes the one pending task of that type, ward
//! and local date (idempotently), and an authenticated HTTP endpoint.

#![warn(missing_docs)]
