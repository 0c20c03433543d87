//! The IO side of the SystmOne Client Integration API.
//!
//! A tokio dispatcher per SystmOne client owns the socket and the throttle from
//! `systmone-api`, sends one request at a time, applies per-function timeouts, persists the
//! allocated device id and classifies failures (retry is safe, outcome unknown, permanent).
//! A gateway pool spreads work over an organisation's Gateway PCs and fails over.

#![warn(missing_docs)]
