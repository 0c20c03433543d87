//! Typed messages for TPP SystmOne's Client Integration API, with no IO.
//!
//! SystmOne's desktop client listens on `localhost:40700` for newline-framed XML documents
//! (`ClientIntegrationRequest` / `ClientIntegrationResponse`). This crate holds the envelope,
//! one module per wire function (with a version submodule), the quick-xml codec, the streaming
//! framer and the throttle policy (1 request/s per client, `GetPatientRecord` 1 per 30 s with
//! exemptions). It never opens a socket and never reads a clock: the IO lives in
//! `systmone-client`.

#![warn(missing_docs)]
