//! The IO side of the SystmOne Client Integration API.
//!
//! A tokio dispatcher per SystmOne client owns the socket and the throttle from
//! `systmone-api`, sends one request at a time, applies per-function timeouts, persists the
//! allocated device id and classifies failures (retry is safe, outcome unknown, permanent).
//! A gateway pool spreads work over an organisation's Gateway PCs and fails over.
//!
//! # Layout
//!
//! * [`Client`] / [`ClientBuilder`] (module `client`): the handle to one dispatcher task
//!   (module `dispatcher`) per SystmOne client. The task owns the connection (via a
//!   [`Connector`]: [`TcpConnector`] to `127.0.0.1:40700` by default, or any stream, e.g. the
//!   simulator's in-memory one), the
//!   throttle (`systmone_api`'s policy on a [`TokioClock`]) and the device id
//!   ([`DeviceIdStore`]; by default a [`FileDeviceIdStore`] per gateway in the per-user state
//!   directory, see [`default_device_id_dir`]; [`ClientBuilder::device_id_file`] for another
//!   file, [`ClientBuilder::in_memory_device_id`] for tests and demos).
//! * [`GatewayPool`]: several Gateway PCs of one organisation, health checks, selection of a
//!   healthy idle gateway, failover. `pool.call(request)` returns `(GatewayId, Response)`;
//!   `pool.call_on(&gateway, request)` targets one gateway.
//! * [`ClientError`] with [`ClientError::retry`] → [`Retry`]: `Safe` (never sent, or a read),
//!   `Later` (record in use, gateway down), `CheckFirst` (a write whose outcome is unknown:
//!   never retried blindly), `Never`.
//! * [`BlockingClient`] / [`BlockingPool`]: the same for callers without a runtime.
//!
//! # Invariants
//!
//! * Exactly one dispatcher per SystmOne client: requests on it are strictly one at a time,
//!   and no two sends are closer than the throttle policy allows (1 s; 30 s between full
//!   record reads), across reconnects. A client's start counts as a send (and, by default, as
//!   a whole-record read), so the limits also hold across a process restart.
//! * The device id SystmOne allocated survives restarts by default (one file per gateway;
//!   the API key is never part of a file name or a log line).
//! * A write that was sent and got no usable answer is reported as
//!   [`ClientError::OutcomeUnknown`] and never resent by this crate (the pool included).
//! * `tracing` spans carry the function, the `RequestUID` and the gateway; never a patient
//!   identifier, and never the API key.

#![warn(missing_docs)]

mod backoff;
mod blocking;
mod client;
mod clock;
mod config;
mod connector;
mod device_id;
mod dispatcher;
mod error;
mod gateway;
mod pool;
mod wire;

pub use backoff::BackoffPolicy;
pub use blocking::{BlockingClient, BlockingPool};
pub use client::{Client, ClientBuilder, ClientStatus};
pub use clock::{TokioClock, TokioInstant};
pub use config::{ClientConfig, DEFAULT_PACING_MARGIN, Timeouts};
pub use connector::{
    BoxStream, ByteStream, ConnectFuture, Connector, DEFAULT_ADDR, FnConnector, TcpConnector,
};
pub use device_id::{
    DEVICE_ID_DIR_ENV, DeviceIdStore, FileDeviceIdStore, MAX_DEVICE_ID_LEN, MemoryDeviceIdStore,
    default_device_id_dir,
};
pub use error::{ClientError, FailureCause, Retry};
pub use gateway::GatewayId;
pub use pool::{DEFAULT_HEALTH_CHECK_INTERVAL, GatewayPool, GatewayPoolBuilder};

/// The `systmone-api` types this crate's API uses, re-exported for convenience.
pub use systmone_api::{ApiKey, FunctionRequest, Request, Response, ThrottleConfig};
