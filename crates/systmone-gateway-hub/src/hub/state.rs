//! The hub's shared state: its devices, each device's link to its current agent session, and
//! the session's channels and SystmOne state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use nhs_identifiers::OdsCode;
use systmone_client::Client;
use systmone_gateway::relay::Channel;
use systmone_gateway::{Frame, SystmOneState};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::warn;

use super::config::{ClientFactory, HubConfig};
use crate::registry::{DeviceId, DeviceRegistry, Presence};

pub(super) struct HubInner {
    pub(super) registry: Arc<dyn DeviceRegistry>,
    pub(super) factory: ClientFactory,
    pub(super) config: HubConfig,
    pub(super) devices: Mutex<HashMap<DeviceId, Arc<DeviceSlot>>>,
    pub(super) rotation: AtomicUsize,
    pub(super) next_session: AtomicU64,
    pub(super) listeners: Mutex<Vec<JoinHandle<()>>>,
    pub(super) shutdown: watch::Sender<bool>,
}

pub(super) struct DeviceSlot {
    pub(super) device_id: DeviceId,
    pub(super) ods: OdsCode,
    pub(super) client: Client,
    pub(super) link: Arc<Link>,
}

#[derive(Default)]
pub(super) struct Link {
    pub(super) current: Mutex<Option<LiveSession>>,
}

#[derive(Clone)]
pub(super) struct LiveSession {
    pub(super) id: u64,
    pub(super) out: mpsc::Sender<Frame>,
    pub(super) channels: Arc<Mutex<HashMap<Channel, ChannelSlot>>>,
    pub(super) next_channel: Arc<AtomicU32>,
    pub(super) state: Arc<Mutex<SessionState>>,
    pub(super) cut: Arc<Notify>,
    pub(super) revoked: Arc<AtomicBool>,
}

#[derive(Default)]
pub(super) struct SessionState {
    pub(super) systmone: Option<SystmOneState>,
    pub(super) verified: bool,
    pub(super) verifying: bool,
    pub(super) wrong_organisation: bool,
    pub(super) logged_on_user: Option<String>,
}

pub(super) struct ChannelSlot {
    pub(super) opened: Option<oneshot::Sender<bool>>,
    pub(super) data: mpsc::Sender<Vec<u8>>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl DeviceSlot {
    pub(super) fn ready(&self) -> bool {
        let Some(session) = lock(&self.link.current).clone() else {
            return false;
        };
        if session.revoked.load(Ordering::SeqCst) {
            return false;
        }
        let state = lock(&session.state);
        state.verified && state.systmone == Some(SystmOneState::Available)
    }
}

impl HubInner {
    /// Records a device's presence in the registry; a failure is logged, not returned.
    pub(super) async fn presence(&self, device_id: &DeviceId, presence: Presence) {
        if let Err(error) = self
            .registry
            .update_presence(device_id.clone(), presence)
            .await
        {
            warn!(device = %device_id, %error, "could not record the device's presence");
        }
    }
}
