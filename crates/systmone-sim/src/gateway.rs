//! One gateway's state: its identity, user, configuration, throttle and device-id bookkeeping,
//! request log, faults and lifecycle. The request pipeline that uses it is
//! [`crate::pipeline`]; the IO around it is [`crate::server`].

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

use nhs_identifiers::uuid::Uuid;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{DeviceApproval, GatewayConfig};
use crate::error::SimError;
use crate::faults::FaultPlan;
use crate::log::RequestLog;
use crate::organisation::Organisation;

/// Whether a gateway serves connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Availability {
    /// Logged on and serving.
    Running,
    /// The SystmOne client is not logged on: nothing listens (connections are refused).
    LoggedOff,
    /// The client died (or exited with `ExitClient`): connections closed, new ones refused.
    Killed,
}

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
        format!("{:X}", Uuid::from_u64_pair(a, b).hyphenated())
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
    pub(crate) serial: tokio::sync::Mutex<()>,
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
}
