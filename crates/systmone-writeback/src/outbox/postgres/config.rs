//! The settings of a [`super::PostgresOutbox`] and whose clock its leases run on.

/// Whose clock leases run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseClock {
    /// The database server's clock: workers' clocks may disagree (the default).
    #[default]
    Database,
    /// The time the engine passes in (its injected clock): only for workers that share one
    /// clock, e.g. engines in one test process under tokio's paused time.
    Caller,
}

/// Settings of a [`PostgresOutbox`](super::PostgresOutbox).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PostgresConfig {
    /// Connections in the pool.
    pub pool_size: usize,
    /// Whose clock leases run on.
    pub lease_clock: LeaseClock,
    /// Whether concurrent accepts share one transaction (group commit).
    pub group_commit: bool,
    /// The most notes one group commit takes.
    pub max_batch: usize,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            pool_size: 8,
            lease_clock: LeaseClock::Database,
            group_commit: true,
            max_batch: 256,
        }
    }
}

impl PostgresConfig {
    /// Sets whose clock leases run on.
    pub fn with_lease_clock(mut self, clock: LeaseClock) -> Self {
        self.lease_clock = clock;
        self
    }

    /// Turns group commit on or off.
    pub fn with_group_commit(mut self, on: bool) -> Self {
        self.group_commit = on;
        self
    }

    /// Sets the pool size (at least 1).
    pub fn with_pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections.max(1);
        self
    }
}
