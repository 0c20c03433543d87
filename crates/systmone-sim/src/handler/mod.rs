//! The simulated client's request handler: what SystmOne does with one decoded request.
//!
//! - [`envelope`] — decode the envelope, admit the device and the API key, encode the answer;
//! - [`functions`] — the dispatch from a request to its function;
//! - [`session`], [`record`], [`diary`]: the functions, grouped by what they touch (the
//!   client and organisation, one patient's record, the appointment book);
//! - [`wire`] — conversions between the model and the `systmone-api` wire types.
//!
//! (Named `handler` rather than `engine`: elsewhere in the workspace an "engine" is
//! writeback's state machine or ward-assurance's sync engine.)

mod diary;
mod envelope;
mod functions;
mod record;
mod session;
mod wire;

pub(crate) use envelope::{
    MALFORMED_RESPONSE, decode, execute, is_throttled_record_read, undecodable_response,
};
