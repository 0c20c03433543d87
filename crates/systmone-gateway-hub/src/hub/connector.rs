//! A device's way in: the [`Connector`] its [`Client`](systmone_client::Client) uses, where each connection is a relay
//! channel through the device's current agent session, and the slot that holds the client.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use systmone_client::{BoxStream, ConnectFuture, Connector, GatewayId};
use systmone_gateway::Frame;
use systmone_gateway::relay::{Channel, DATA_CHUNK_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::state::{ChannelSlot, DeviceSlot, HubInner, Link, lock};
use crate::error::HubError;
use crate::registry::{DeviceId, DeviceRecord};

/// The [`Connector`] of one device: each connection is a relay channel through the device's
/// current agent session.
struct DeviceConnector {
    device_id: DeviceId,
    link: Arc<Link>,
    open_timeout: Duration,
}

impl std::fmt::Debug for DeviceConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceConnector")
            .field("device_id", &self.device_id)
            .finish()
    }
}

fn refused(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionRefused, why)
}

impl Connector for DeviceConnector {
    fn connect(&self) -> ConnectFuture {
        let link = self.link.clone();
        let open_timeout = self.open_timeout;
        Box::pin(async move {
            let session = lock(&link.current)
                .clone()
                .ok_or_else(|| refused("the device's agent is not connected"))?;
            let channel = session.next_channel.fetch_add(1, Ordering::Relaxed);
            let (opened_tx, opened_rx) = oneshot::channel();
            let (data_tx, data_rx) = mpsc::channel(16);
            lock(&session.channels).insert(
                channel,
                ChannelSlot {
                    opened: Some(opened_tx),
                    data: data_tx,
                },
            );
            if session.out.send(Frame::Open(channel)).await.is_err() {
                lock(&session.channels).remove(&channel);
                return Err(refused("the device's agent disconnected"));
            }
            match tokio::time::timeout(open_timeout, opened_rx).await {
                Ok(Ok(true)) => {}
                _ => {
                    if lock(&session.channels).remove(&channel).is_some() {
                        let _ = session.out.try_send(Frame::Close(channel));
                    }
                    return Err(refused(
                        "SystmOne is not taking connections on that Gateway PC",
                    ));
                }
            }
            let (client_end, relay_end) = tokio::io::duplex(64 * 1024);
            tokio::spawn(pump(
                channel,
                relay_end,
                data_rx,
                session.out.clone(),
                session.channels.clone(),
            ));
            Ok(Box::new(client_end) as BoxStream)
        })
    }
}

/// Moves bytes between the client's end of a channel and the agent, unread.
async fn pump(
    channel: Channel,
    mut relay_end: tokio::io::DuplexStream,
    mut from_agent: mpsc::Receiver<Vec<u8>>,
    out: mpsc::Sender<Frame>,
    channels: Arc<Mutex<HashMap<Channel, ChannelSlot>>>,
) {
    let mut buf = vec![0u8; DATA_CHUNK_BYTES];
    loop {
        tokio::select! {
            read = relay_end.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    if lock(&channels).remove(&channel).is_some() {
                        let _ = out.send(Frame::Close(channel)).await;
                    }
                    return;
                }
                Ok(read) => {
                    if out.send(Frame::Data(channel, buf[..read].to_vec())).await.is_err() {
                        return;
                    }
                }
            },
            bytes = from_agent.recv() => match bytes {
                Some(bytes) => {
                    if relay_end.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                // The agent closed the channel, or its session ended: the client sees the
                // end of the stream (a write in flight is then "outcome unknown").
                None => return,
            },
        }
    }
}

impl HubInner {
    /// The device's slot, made (with its [`Client`](systmone_client::Client) over a [`DeviceConnector`]) the first time
    /// the hub sees the device; it outlives the device's sessions.
    pub(super) fn slot_for(&self, record: &DeviceRecord) -> Result<Arc<DeviceSlot>, HubError> {
        let mut devices = lock(&self.devices);
        if let Some(slot) = devices.get(&record.device_id) {
            return Ok(slot.clone());
        }
        let link = Arc::new(Link::default());
        let connector = Arc::new(DeviceConnector {
            device_id: record.device_id.clone(),
            link: link.clone(),
            open_timeout: self.config.channel_open_timeout,
        });
        let client = (self.factory)(GatewayId::new(record.device_id.as_str()), connector)?;
        let slot = Arc::new(DeviceSlot {
            device_id: record.device_id.clone(),
            ods: record.ods.clone(),
            client,
            link,
        });
        devices.insert(record.device_id.clone(), slot.clone());
        Ok(slot)
    }
}
