//! [`Gateways`] over the `systmone-client` [`GatewayPool`]: each operation is one typed
//! SystmOne request ([`crate::wire`]) sent to the best available Gateway PC (the pool fails
//! over), and each [`ClientError`] is classified by what the engine may do next.

use nhs_identifiers::NhsNumber;
use systmone_api::{get_patient_record, update_patient_record};
use systmone_client::{ClientError, GatewayPool, Retry};

use crate::gateway::{
    EntriesQuery, GatewayError, Gateways, JournalEntries, JournalWrite, WriteReceipt,
};
use crate::verify::RecordDemographics;
use crate::wire;

/// The engine's [`Gateways`] over an organisation's [`GatewayPool`].
#[derive(Debug)]
pub struct PoolGateways {
    pool: GatewayPool,
}

impl PoolGateways {
    /// Files through `pool`.
    pub fn new(pool: GatewayPool) -> Self {
        Self { pool }
    }

    /// The pool (for status and shutdown).
    pub fn pool(&self) -> &GatewayPool {
        &self.pool
    }
}

/// What the engine may do after a client error.
pub fn classify(error: &ClientError) -> GatewayError {
    let reason = error.to_string();
    match error.retry() {
        Retry::Safe | Retry::Later => GatewayError::RetrySafe { reason },
        Retry::Never => GatewayError::Permanent { reason },
        // CheckFirst, and anything a newer client adds: assume the worst.
        _ => GatewayError::OutcomeUnknown { reason },
    }
}

fn unexpected(what: &str, error: impl std::fmt::Display) -> GatewayError {
    GatewayError::Permanent {
        reason: format!("unexpected {what} response: {error}"),
    }
}

impl Gateways for PoolGateways {
    async fn read_demographics(
        &self,
        nhs_number: &NhsNumber,
    ) -> Result<RecordDemographics, GatewayError> {
        let request = wire::demographics_request(*nhs_number);
        let (_gateway, response) = self.pool.call(request).await.map_err(|e| classify(&e))?;
        let record = get_patient_record::v1::Response::try_from(response)
            .map_err(|e| unexpected("GetPatientRecord", e))?;
        wire::record_demographics(*nhs_number, &record)
    }

    async fn write_note(&self, write: &JournalWrite) -> Result<WriteReceipt, GatewayError> {
        let request = wire::update_request(write);
        let (gateway, response) = self.pool.call(request).await.map_err(|e| classify(&e))?;
        let response = update_patient_record::v1::Response::try_from(response).map_err(|e| {
            GatewayError::OutcomeUnknown {
                reason: format!("unexpected UpdatePatientRecord response: {e}"),
            }
        })?;
        let (event_uid, task_uid) = wire::written_uids(&response)?;
        Ok(WriteReceipt::new(event_uid, task_uid, gateway.as_str()))
    }

    /// Reads through **every** gateway in turn. Each SystmOne client handles one request at a
    /// time, so a read answered by a gateway comes after any write that gateway may still have
    /// been applying; a gateway that refuses connections is not running and can apply nothing
    /// (assumption: a SystmOne client that cannot be connected to has no request in hand).
    /// Only then is "not in the journal" trusted. Any other failure is a failed read.
    async fn read_entries(&self, query: &EntriesQuery) -> Result<JournalEntries, GatewayError> {
        let request = wire::entries_request(query);
        let mut events = Vec::new();
        let mut tasks = Vec::new();
        let mut answered = 0usize;
        for gateway in self.pool.gateways() {
            match self.pool.call_on(&gateway, request.clone()).await {
                Ok(response) => {
                    let record = get_patient_record::v1::Response::try_from(response)
                        .map_err(|e| unexpected("GetPatientRecord", e))?;
                    answered += 1;
                    for event in wire::journal_events(&record) {
                        if !events.contains(&event) {
                            events.push(event);
                        }
                    }
                    for task in wire::journal_tasks(&record) {
                        if !tasks.contains(&task) {
                            tasks.push(task);
                        }
                    }
                }
                // The SystmOne client refuses connections (or its client is backing off after
                // failing to connect, which is the only cause of `GatewayUnavailable`): it is
                // not running, so it holds no write that could still be applied.
                Err(ClientError::Connect { .. } | ClientError::GatewayUnavailable { .. }) => {}
                Err(error) => {
                    return Err(GatewayError::RetrySafe {
                        reason: format!("journal read not confirmed by every gateway: {error}"),
                    });
                }
            }
        }
        if answered == 0 {
            return Err(GatewayError::RetrySafe {
                reason: "no gateway answered the journal read".into(),
            });
        }
        Ok(JournalEntries::new(events, tasks))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use systmone_client::{FailureCause, GatewayId};

    use super::*;

    #[test]
    fn client_errors_map_to_what_the_engine_may_do() {
        let gateway = GatewayId::new("gateway-1");
        let function = "UpdatePatientRecord".to_owned();
        let in_use = ClientError::Remote {
            gateway: gateway.clone(),
            function: function.clone(),
            message: "The patient record is in use".into(),
            permanent: false,
        };
        assert!(matches!(classify(&in_use), GatewayError::RetrySafe { .. }));
        let refused = ClientError::Remote {
            gateway: gateway.clone(),
            function: function.clone(),
            message: "Invalid code".into(),
            permanent: true,
        };
        assert!(matches!(classify(&refused), GatewayError::Permanent { .. }));
        let unknown = ClientError::OutcomeUnknown {
            gateway: gateway.clone(),
            function: function.clone(),
            request_uid: "nhsi-7".into(),
            cause: FailureCause::NoResponse {
                waited: Duration::from_secs(30),
            },
        };
        assert!(matches!(
            classify(&unknown),
            GatewayError::OutcomeUnknown { .. }
        ));
        let not_sent = ClientError::GatewayUnavailable {
            gateway,
            function,
            retry_after: Duration::from_secs(3),
        };
        assert!(matches!(
            classify(&not_sent),
            GatewayError::RetrySafe { .. }
        ));
    }
}
