//! Case-note writeback into the SystmOne journal.
//!
//! Notes are filed once, by the right author, to the right patient: the author's SystmOne
//! username goes in `Event@UserName` (the Gateway user always shows as "Entered by"), the patient
//! is verified by demographics before writing, a durable outbox keeps every accepted note, and a
//! write whose outcome is unknown is reconciled by reading today's entries before any retry.

#![warn(missing_docs)]
