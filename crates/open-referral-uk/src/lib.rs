//! Open Referral UK (HSDS 3.0 UK profile) directory model, validation, search and API.
//!
//! serde types for every ORUK 3.0 object, a validator with JSON-path findings, indexed search
//! (text, taxonomy, age, schedule, cost, distance), the ORUK 3.0 HTTP API and marketplace
//! listing and referral rules.

#![warn(missing_docs)]
