//! One gateway's request pipeline: log → throttle → fault → device id → function
//! ([`crate::handler`]), and what the connection loop does with the answer ([`Reply`]).

use tokio::time::Instant;

use crate::faults::Fault;
use crate::gateway::Gateway;
use crate::handler;
use crate::log::{RequestOutcome, RequestRecord};

/// What the connection loop does with a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send this document (a newline is appended).
    Respond(String),
    /// Send nothing, keep the connection open.
    Silent,
    /// Close the connection without a response.
    Close,
    /// Send this document, then the client exits (`ExitClient`); `true`: it restarts.
    RespondThenExit(String, bool),
}

impl Gateway {
    /// Sets a request's outcome: O(1). Every path of [`Gateway::handle_frame`] sets it exactly
    /// once, over the initial `ConnectionClosed`.
    fn set_outcome(&self, sequence: u64, outcome: RequestOutcome) {
        self.control()
            .log
            .set_outcome(sequence, &RequestOutcome::ConnectionClosed, outcome);
    }

    /// Runs one request through the pipeline.
    pub(crate) async fn handle_frame(&self, frame: &[u8], connection: u64) -> Reply {
        let arrival = Instant::now();
        let decoded = handler::decode(frame);
        let sequence = {
            let mut control = self.control();
            let (function, request_uid, device_id) = match &decoded {
                Ok(inbound) => (
                    Some(inbound.function.clone()),
                    Some(inbound.request_uid.clone()),
                    Some(inbound.device_id.clone()),
                ),
                Err(_) => (None, None, None),
            };
            control.log.push(
                RequestRecord {
                    sequence: 0,
                    arrival,
                    connection,
                    function,
                    request_uid,
                    device_id,
                    // Until the pipeline says otherwise (e.g. the gateway is killed meanwhile).
                    outcome: RequestOutcome::ConnectionClosed,
                    fault: None,
                },
                decoded.is_ok(),
            )
        };
        let _serial = self.serial.lock().await;
        let inbound = match decoded {
            Ok(inbound) => inbound,
            Err(undecodable) => {
                let response = handler::undecodable_response(self, &undecodable);
                self.set_outcome(
                    sequence,
                    RequestOutcome::AnsweredWithError {
                        message: undecodable.message,
                        permanent: true,
                    },
                );
                return Reply::Respond(response);
            }
        };

        // Throttle: over the limit means no response at all.
        let today = self.org.now().date();
        let record_limited = handler::is_throttled_record_read(&inbound, today);
        {
            let mut control = self.control();
            let throttle = self.config.throttle;
            let too_soon = |last: Option<Instant>, gap: std::time::Duration| {
                !gap.is_zero() && last.is_some_and(|t| arrival.saturating_duration_since(t) < gap)
            };
            if too_soon(control.last_accepted, throttle.min_interval)
                || (record_limited
                    && too_soon(control.last_record_read, throttle.patient_record_interval))
            {
                drop(control);
                self.set_outcome(sequence, RequestOutcome::Throttled);
                return Reply::Silent;
            }
            control.last_accepted = Some(arrival);
            if record_limited {
                control.last_record_read = Some(arrival);
            }
        }

        let fault = self.control().faults.next_fault(&inbound.function);
        if let Some(fault) = &fault {
            self.control().log.set_fault(sequence, fault.clone());
        }
        match fault {
            Some(Fault::NoResponse) => {
                self.set_outcome(sequence, RequestOutcome::NoResponse);
                return Reply::Silent;
            }
            Some(Fault::CloseBeforeApply) => {
                self.set_outcome(sequence, RequestOutcome::ConnectionClosed);
                return Reply::Close;
            }
            Some(Fault::Delay(by)) => tokio::time::sleep(by).await,
            _ => {}
        }

        let forced_in_use = fault == Some(Fault::RecordInUse);
        let outcome = handler::execute(self, &inbound, forced_in_use);
        match fault {
            Some(Fault::CloseAfterApply) => {
                self.set_outcome(sequence, RequestOutcome::ConnectionClosed);
                Reply::Close
            }
            Some(Fault::MalformedResponse) => {
                self.set_outcome(sequence, RequestOutcome::MalformedResponse);
                Reply::Respond(handler::MALFORMED_RESPONSE.to_owned())
            }
            _ => {
                let logged = match &outcome.error {
                    Some(error) => RequestOutcome::AnsweredWithError {
                        message: error.message.clone(),
                        permanent: error.permanent,
                    },
                    None => RequestOutcome::Answered,
                };
                self.set_outcome(sequence, logged);
                match outcome.exit {
                    Some(restart) => Reply::RespondThenExit(outcome.document, restart),
                    None => Reply::Respond(outcome.document),
                }
            }
        }
    }
}
