//! One gateway's state and its request pipeline: log → throttle → fault → device id → function.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{DeviceApproval, GatewayConfig};
use crate::engine;
use crate::error::SimError;
use crate::faults::{Fault, FaultPlan};
use crate::log::{RequestLog, RequestOutcome, RequestRecord};
use crate::organisation::Organisation;
use crate::server::Availability;

/// Lifecycle broadcast to the listener and the connections.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Life {
    pub(crate) availability: Availability,
    /// Bumped on every kill/log-off, so connections opened before it close even after revive.
    pub(crate) epoch: u64,
    /// The last user-held handle is gone.
    pub(crate) shutdown: bool,
}

impl Life {
    pub(crate) fn accepting(&self) -> bool {
        self.availability == Availability::Running && !self.shutdown
    }
}

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

/// Mutable per-gateway state.
#[derive(Debug, Default)]
pub(crate) struct Control {
    pub(crate) faults: FaultPlan,
    pub(crate) log: RequestLog,
    pub(crate) device_approval: DeviceApproval,
    pub(crate) approved_devices: HashSet<String>,
    pub(crate) blocked_devices: HashSet<String>,
    pub(crate) allocated_devices: Vec<String>,
    pub(crate) last_accepted: Option<Instant>,
    pub(crate) last_record_read: Option<Instant>,
    pub(crate) id_state: u64,
}

impl Control {
    fn next_id(&mut self) -> u64 {
        // SplitMix64 step: distinct, deterministic per seed.
        self.id_state = self.id_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.id_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A new 16-hex-character device id.
    pub(crate) fn allocate_device_id(&mut self) -> String {
        loop {
            let id = format!("{:016x}", self.next_id());
            if !self.approved_devices.contains(&id) && !self.blocked_devices.contains(&id) {
                return id;
            }
        }
    }

    /// A response GUID in SystmOne's upper-case form.
    pub(crate) fn response_uid(&mut self) -> String {
        let a = self.next_id();
        let b = self.next_id();
        format!(
            "{:08X}-{:04X}-{:04X}-{:04X}-{:012X}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

#[derive(Debug)]
pub(crate) struct Gateway {
    pub(crate) id: u64,
    pub(crate) org: Organisation,
    pub(crate) config: GatewayConfig,
    pub(crate) user_name: String,
    control: Mutex<Control>,
    /// One request at a time per client.
    serial: tokio::sync::Mutex<()>,
    pub(crate) life: watch::Sender<Life>,
    pub(crate) next_connection: AtomicU64,
    pub(crate) listen_addr: Mutex<Option<SocketAddr>>,
}

impl Gateway {
    pub(crate) fn new(org: Organisation, config: GatewayConfig) -> Result<Self, SimError> {
        let user_name = match &config.user_name {
            Some(name) => {
                if org.lock().user(name).is_none() {
                    return Err(SimError::UnknownGatewayUser(name.clone()));
                }
                name.clone()
            }
            None => org
                .gateway_users()
                .into_iter()
                .next()
                .ok_or(SimError::NoGatewayUser)?,
        };
        let id = org.register_gateway();
        let control = Control {
            device_approval: config.device_approval,
            id_state: config.id_seed.unwrap_or(id),
            log: RequestLog::with_capacity(config.request_log_capacity),
            ..Control::default()
        };
        let (life, _) = watch::channel(Life {
            availability: Availability::Running,
            epoch: 0,
            shutdown: false,
        });
        Ok(Self {
            id,
            org,
            config,
            user_name,
            control: Mutex::new(control),
            serial: tokio::sync::Mutex::new(()),
            life,
            next_connection: AtomicU64::new(0),
            listen_addr: Mutex::new(None),
        })
    }

    pub(crate) fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_availability(&self, availability: Availability) {
        self.life.send_modify(|life| {
            if availability != Availability::Running {
                life.epoch += 1;
            }
            life.availability = availability;
        });
        if availability != Availability::Running {
            // A dead client holds no record open.
            let mut org = self.org.lock();
            let id = self.id;
            let held: Vec<_> = org
                .open_records
                .iter()
                .filter(|(_, h)| {
                    matches!(h, crate::organisation::RecordHolder::Gateway { id: g, .. } if *g == id)
                })
                .map(|(n, _)| *n)
                .collect();
            for nhs in held {
                org.open_records.remove(&nhs);
            }
        }
    }

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
        let decoded = engine::decode(frame);
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
                let response = engine::undecodable_response(self, &undecodable);
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
        let record_limited = engine::is_throttled_record_read(&inbound, today);
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
        let outcome = engine::execute(self, &inbound, forced_in_use);
        match fault {
            Some(Fault::CloseAfterApply) => {
                self.set_outcome(sequence, RequestOutcome::ConnectionClosed);
                Reply::Close
            }
            Some(Fault::MalformedResponse) => {
                self.set_outcome(sequence, RequestOutcome::MalformedResponse);
                Reply::Respond(engine::MALFORMED_RESPONSE.to_owned())
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
