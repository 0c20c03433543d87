//! An agent's session once its hello is accepted: heartbeat, revocation checks, SystmOne
//! status, relayed frames, and the device's presence in the registry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use systmone_gateway::{ControlMessage, Frame, FrameDecoder, SystmOneState};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::handshake::Hello;
use super::state::{DeviceSlot, HubInner, LiveSession, SessionState, lock};
use crate::registry::{DeviceHealth, DeviceRecord, Presence};

enum Ending {
    Closed,
    Revoked,
}

impl HubInner {
    /// Runs an authenticated agent's session: welcome, heartbeat, revocation checks, relayed
    /// channels, until it ends.
    pub(super) async fn run_session<R, W>(
        self: Arc<Self>,
        record: DeviceRecord,
        hello: Hello,
        mut reader: R,
        mut writer: W,
        mut decoder: FrameDecoder,
    ) where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let device_id = record.device_id.clone();
        let slot = match self.slot_for(&record) {
            Ok(slot) => slot,
            Err(error) => {
                warn!(device = %device_id, %error, "cannot serve the device");
                return;
            }
        };
        let (out, mut out_rx) = mpsc::channel::<Frame>(64);
        let writer_task = tokio::spawn(async move {
            let mut bytes = Vec::new();
            while let Some(frame) = out_rx.recv().await {
                bytes.clear();
                systmone_gateway::relay::encode(&frame, &mut bytes);
                if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                    break;
                }
            }
            let _ = writer.shutdown().await;
        });
        let session = LiveSession {
            id: self.next_session.fetch_add(1, Ordering::Relaxed),
            out: out.clone(),
            channels: Arc::new(Mutex::new(HashMap::new())),
            next_channel: Arc::new(AtomicU32::new(1)),
            state: Arc::new(Mutex::new(SessionState {
                systmone: Some(hello.systmone),
                ..SessionState::default()
            })),
            cut: Arc::new(Notify::new()),
            revoked: Arc::new(AtomicBool::new(false)),
        };
        if let Some(old) = lock(&slot.link.current).replace(session.clone()) {
            // A newer session of the same device replaces the old one.
            old.cut.notify_one();
        }
        let heartbeat = self.config.heartbeat.max(Duration::from_millis(10));
        let _ = out
            .send(Frame::Control(ControlMessage::Welcome {
                heartbeat_secs: heartbeat.as_secs().max(1),
            }))
            .await;
        info!(device = %device_id, ods = %record.ods, agent_version = %hello.agent_version, systmone = hello.systmone.as_str(), "agent connected");
        let health = if hello.systmone == SystmOneState::Available {
            DeviceHealth::Verifying
        } else {
            DeviceHealth::SystmOneClosed
        };
        self.presence(
            &device_id,
            Presence::new(true, Utc::now(), health).with_agent_version(Some(hello.agent_version)),
        )
        .await;
        self.clone().maybe_verify(&slot, &session);

        let mut shutdown = self.shutdown.subscribe();
        let mut ping = tokio::time::interval(heartbeat);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut revocation =
            tokio::time::interval(self.config.revocation_check.max(Duration::from_millis(10)));
        revocation.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut nonce = 0u64;
        let mut buf = vec![0u8; 16 * 1024];
        let ending = 'session: loop {
            loop {
                match decoder.next_frame() {
                    Ok(Some(frame)) => {
                        last_heard = Instant::now();
                        if !self.clone().handle(&slot, &session, frame).await {
                            break 'session Ending::Closed;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        warn!(device = %device_id, %error, "malformed relay frame from the agent; closing the connection");
                        break 'session Ending::Closed;
                    }
                }
            }
            tokio::select! {
                read = reader.read(&mut buf) => match read {
                    Ok(0) | Err(_) => break Ending::Closed,
                    Ok(read) => decoder.push(&buf[..read]),
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > heartbeat * 3 {
                        warn!(device = %device_id, "agent silent; closing");
                        break Ending::Closed;
                    }
                    nonce = nonce.wrapping_add(1);
                    let _ = out.try_send(Frame::Ping(nonce));
                    self.clone().maybe_verify(&slot, &session);
                }
                _ = revocation.tick() => {
                    if let Ok(Some(current)) = self.registry.device(device_id.clone()).await
                        && current.revoked()
                    {
                        break Ending::Revoked;
                    }
                }
                () = session.cut.notified() => {
                    if session.revoked.load(Ordering::SeqCst) {
                        break Ending::Revoked;
                    }
                    break Ending::Closed;
                }
                _ = shutdown.changed() => break Ending::Closed,
            }
        };
        if matches!(ending, Ending::Revoked) {
            session.revoked.store(true, Ordering::SeqCst);
            let _ = out.try_send(Frame::Control(ControlMessage::Revoked));
            warn!(device = %device_id, "revoked device cut off");
        }
        let replaced = {
            let mut current = lock(&slot.link.current);
            if current.as_ref().map(|s| s.id) == Some(session.id) {
                *current = None;
                false
            } else {
                true
            }
        };
        let wrong_organisation = lock(&session.state).wrong_organisation;
        // Every channel ends: a client waiting for an answer sees the stream close.
        lock(&session.channels).clear();
        drop(out);
        drop(session);
        if tokio::time::timeout(Duration::from_secs(1), writer_task)
            .await
            .is_err()
        {
            debug!(device = %device_id, "writer did not finish in time");
        }
        if !replaced {
            let health = if wrong_organisation {
                DeviceHealth::WrongOrganisation
            } else {
                DeviceHealth::Disconnected
            };
            self.presence(&device_id, Presence::new(false, Utc::now(), health))
                .await;
        }
        info!(device = %device_id, "agent disconnected");
    }

    /// Handles one frame from the agent; `false` ends the session.
    async fn handle(
        self: Arc<Self>,
        slot: &Arc<DeviceSlot>,
        session: &LiveSession,
        frame: Frame,
    ) -> bool {
        match frame {
            Frame::Opened(channel) => {
                let opened = lock(&session.channels)
                    .get_mut(&channel)
                    .and_then(|c| c.opened.take());
                match opened {
                    Some(opened) => {
                        let _ = opened.send(true);
                    }
                    None => {
                        let _ = session.out.try_send(Frame::Close(channel));
                    }
                }
            }
            Frame::Data(channel, bytes) => {
                let sender = lock(&session.channels)
                    .get(&channel)
                    .map(|c| c.data.clone());
                if let Some(sender) = sender {
                    let _ = sender.send(bytes).await;
                }
            }
            Frame::Close(channel) => {
                lock(&session.channels).remove(&channel);
            }
            Frame::Ping(nonce) => {
                let _ = session.out.try_send(Frame::Pong(nonce));
            }
            Frame::Pong(_) => {}
            Frame::Control(ControlMessage::Status { systmone }) => {
                let changed = {
                    let mut state = lock(&session.state);
                    let changed = state.systmone != Some(systmone);
                    state.systmone = Some(systmone);
                    if systmone != SystmOneState::Available {
                        // Someone else may log on next: verify again when it comes back.
                        state.verified = false;
                    }
                    changed
                };
                if changed {
                    info!(device = %slot.device_id, systmone = systmone.as_str(), "SystmOne availability changed");
                    let health = match systmone {
                        SystmOneState::Available => DeviceHealth::Verifying,
                        _ => DeviceHealth::SystmOneClosed,
                    };
                    self.presence(&slot.device_id, Presence::new(true, Utc::now(), health))
                        .await;
                }
                self.maybe_verify(slot, session);
            }
            Frame::Control(other) => {
                debug!(device = %slot.device_id, kind = other.kind(), "control message ignored");
            }
            Frame::Open(_) => {
                warn!(device = %slot.device_id, "agent sent Open; closing");
                return false;
            }
            _ => {}
        }
        true
    }
}
