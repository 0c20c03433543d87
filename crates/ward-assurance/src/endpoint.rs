//! The whole sync endpoint without IO: size limit, authentication, parsing, sync, response.

use chrono::{DateTime, Utc};

use crate::auth::{Authenticator, Credentials};
use crate::error::AssuranceError;
use crate::payload::parse_sync_body;
use crate::store::TaskStore;
use crate::sync::{SyncEngine, SyncResponse};

/// Default body limit: 64 KiB (a webhook is a few hundred bytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Authenticator + engine + body limit: what `POST /api/assurance/sync` does, as a function
/// of (credentials, body bytes, now). Every request, accepted or refused, is written to the
/// engine's audit log; a refused request changes nothing.
pub struct SyncEndpoint<S> {
    authenticator: Authenticator,
    engine: SyncEngine<S>,
    max_body_bytes: usize,
}

impl<S: TaskStore> SyncEndpoint<S> {
    /// An endpoint with the default body limit.
    pub fn new(authenticator: Authenticator, engine: SyncEngine<S>) -> Self {
        Self {
            authenticator,
            engine,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Set the body limit in bytes.
    #[must_use]
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The body limit in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The engine (and through it the store).
    pub fn engine(&self) -> &SyncEngine<S> {
        &self.engine
    }

    /// The engine, mutably.
    pub fn engine_mut(&mut self) -> &mut SyncEngine<S> {
        &mut self.engine
    }

    /// Authenticate a request that is not a sync (e.g. listing the sync log); a refusal is
    /// written to the audit log.
    ///
    /// # Errors
    /// As [`Authenticator::authenticate`].
    pub fn authenticate(
        &mut self,
        credentials: &Credentials<'_>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<crate::auth::Caller, AssuranceError> {
        self.authenticator
            .authenticate(credentials, body, now)
            .inspect_err(|error| self.engine.record_rejection(error, None, now))
    }

    /// Refuse a request before its body was read (e.g. a body over the limit), logging it.
    pub fn reject(&mut self, error: &AssuranceError, now: DateTime<Utc>) -> SyncResponse {
        self.engine.record_rejection(error, None, now);
        SyncResponse::from_error(error)
    }

    /// Handle one request.
    pub fn handle(
        &mut self,
        credentials: &Credentials<'_>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> SyncResponse {
        if body.len() > self.max_body_bytes {
            return self.reject(
                &AssuranceError::BodyTooLarge {
                    limit: self.max_body_bytes,
                },
                now,
            );
        }
        let caller = match self.authenticator.authenticate(credentials, body, now) {
            Ok(caller) => caller,
            Err(error) => return self.reject(&error, now),
        };
        let request = match parse_sync_body(body) {
            Ok(request) => request,
            Err(error) => {
                self.engine.record_rejection(&error, Some(&caller), now);
                return SyncResponse::from_error(&error);
            }
        };
        SyncResponse::from_result(&self.engine.sync(&request, now, Some(&caller)))
    }
}
