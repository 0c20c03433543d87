//! `Debug` that shows the shape of free text (whether it is set, how long it is), never the
//! text: notes, comments, `DoneBy`, file names and the like may hold a patient's name,
//! address, phone number or NHS number. The tools are the workspace's shared ones
//! (`nhs_identifiers::redact`), under the names this crate's modules use.

pub(crate) use nhs_identifiers::debug_redacted;
pub(crate) use nhs_identifiers::redact::Shape as Redacted;
