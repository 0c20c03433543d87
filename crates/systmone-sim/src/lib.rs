//! A simulator of the SystmOne desktop client's Client Integration interface.
//!
//! It speaks newline-framed XML over TCP on loopback with a fictitious organisation (999
//! test-range NHS numbers only), behaves as SystmOne does (device ids, two-criteria search,
//! record locking, throttling by silence) and injects faults on demand so that error handling
//! can be tested.

#![warn(missing_docs)]
