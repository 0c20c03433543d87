//! Blocking adapters for callers without a tokio runtime.
//!
//! Each adapter owns a small tokio runtime (one worker thread) on which the dispatchers run;
//! calls block the calling thread until the response (or error) arrives. Do not use them from
//! inside an async context.

use std::io;

use crate::client::{Client, ClientBuilder, ClientStatus};
use crate::error::ClientError;
use crate::gateway::GatewayId;
use crate::pool::{GatewayPool, GatewayPoolBuilder};
use systmone_api::{Request, Response};

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("systmone-client")
        .enable_all()
        .build()
}

/// A blocking [`Client`].
#[derive(Debug)]
pub struct BlockingClient {
    client: Client,
    runtime: tokio::runtime::Runtime,
}

impl BlockingClient {
    /// Starts the client described by `builder` on its own runtime.
    ///
    /// # Errors
    /// [`ClientError::Runtime`] when the runtime cannot be started, or
    /// [`ClientError::DeviceIdStore`] when the stored device id cannot be read.
    pub fn new(builder: ClientBuilder) -> Result<Self, ClientError> {
        let runtime = runtime().map_err(|source| ClientError::Runtime { source })?;
        let client = {
            let _guard = runtime.enter();
            builder.spawn()?
        };
        Ok(Self { client, runtime })
    }

    /// Sends `request` and blocks until its response (see [`Client::call`]).
    ///
    /// # Errors
    /// As [`Client::call`].
    pub fn call(&self, request: impl Into<Request>) -> Result<Response, ClientError> {
        self.runtime.block_on(self.client.call(request))
    }

    /// A status snapshot.
    #[must_use]
    pub fn status(&self) -> ClientStatus {
        self.client.status()
    }

    /// Shuts the client down and stops the runtime.
    pub fn shutdown(self) {
        self.runtime.block_on(self.client.shutdown());
    }
}

/// A blocking [`GatewayPool`].
#[derive(Debug)]
pub struct BlockingPool {
    pool: GatewayPool,
    runtime: tokio::runtime::Runtime,
}

impl BlockingPool {
    /// Starts every client in `gateways` on one runtime and pools them; `configure` may set
    /// pool options such as the health check interval.
    ///
    /// # Errors
    /// [`ClientError::Runtime`] when the runtime cannot be started, or
    /// [`ClientError::DeviceIdStore`] when a stored device id cannot be read.
    pub fn new(
        gateways: Vec<ClientBuilder>,
        configure: impl FnOnce(GatewayPoolBuilder) -> GatewayPoolBuilder,
    ) -> Result<Self, ClientError> {
        let runtime = runtime().map_err(|source| ClientError::Runtime { source })?;
        let pool = {
            let _guard = runtime.enter();
            let mut builder = GatewayPool::builder();
            for gateway in gateways {
                builder = builder.gateway(gateway.spawn()?);
            }
            configure(builder).build()
        };
        Ok(Self { pool, runtime })
    }

    /// As [`GatewayPool::call`], blocking.
    ///
    /// # Errors
    /// As [`GatewayPool::call`].
    pub fn call(&self, request: impl Into<Request>) -> Result<(GatewayId, Response), ClientError> {
        self.runtime.block_on(self.pool.call(request))
    }

    /// As [`GatewayPool::call_on`], blocking.
    ///
    /// # Errors
    /// As [`GatewayPool::call_on`].
    pub fn call_on(
        &self,
        gateway: &GatewayId,
        request: impl Into<Request>,
    ) -> Result<Response, ClientError> {
        self.runtime.block_on(self.pool.call_on(gateway, request))
    }

    /// A status snapshot of every gateway.
    #[must_use]
    pub fn status(&self) -> Vec<ClientStatus> {
        self.pool.status()
    }

    /// Shuts every client down and stops the runtime.
    pub fn shutdown(self) {
        self.runtime.block_on(self.pool.shutdown());
    }
}
