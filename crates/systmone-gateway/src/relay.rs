//! The relay framing between an agent and the hub (sans-IO: bytes in, frames out).
//!
//! Every frame is `type (1 byte) | payload length (u32, big-endian) | payload`. The payload of
//! [`Frame::Data`] is opaque: the bytes SystmOne and the hub exchange, relayed without being
//! parsed, stored or logged. [`Frame::Control`] carries a JSON [`ControlMessage`].
//!
//! | type | frame | payload |
//! | --- | --- | --- |
//! | 1 | [`Frame::Control`] | JSON [`ControlMessage`] (≤ [`MAX_CONTROL_BYTES`]) |
//! | 2 | [`Frame::Open`] | channel (u32) |
//! | 3 | [`Frame::Opened`] | channel (u32) |
//! | 4 | [`Frame::Data`] | channel (u32), then the bytes |
//! | 5 | [`Frame::Close`] | channel (u32) |
//! | 6 | [`Frame::Ping`] | nonce (u64) |
//! | 7 | [`Frame::Pong`] | nonce (u64) |
//!
//! A frame whose declared length exceeds the decoder's limit is refused as soon as its header
//! arrives (nothing of it is buffered); an unknown type, a wrong fixed length or bad JSON is a
//! [`FrameError`]. Either way the connection must be closed: the stream is no longer in step.

use std::fmt;

use crate::control::ControlMessage;
pub use crate::error::FrameError;

/// Bytes of a frame header.
pub const HEADER_BYTES: usize = 5;
/// Default largest payload accepted by a [`FrameDecoder`] (256 KiB).
pub const DEFAULT_MAX_PAYLOAD: usize = 256 * 1024;
/// Largest control payload accepted, whatever the decoder's limit.
pub const MAX_CONTROL_BYTES: usize = 16 * 1024;
/// The largest chunk of relayed bytes senders put in one [`Frame::Data`].
pub const DATA_CHUNK_BYTES: usize = 16 * 1024;

/// A relay channel: one connection to the SystmOne client, opened by the hub.
pub type Channel = u32;

/// One relay frame.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// A control message.
    Control(ControlMessage),
    /// Hub → agent: open a connection to the local SystmOne client as `channel`.
    Open(Channel),
    /// Agent → hub: the connection for `channel` is open.
    Opened(Channel),
    /// Relayed bytes on a channel (either direction).
    Data(Channel, Vec<u8>),
    /// Either direction: the channel is closed (or could not be opened).
    Close(Channel),
    /// A liveness probe; the peer answers [`Frame::Pong`] with the same nonce.
    Ping(u64),
    /// The answer to a [`Frame::Ping`].
    Pong(u64),
}

impl fmt::Debug for Frame {
    /// Relayed bytes are shown by length only (they may be a patient record).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Control(message) => f.debug_tuple("Control").field(message).finish(),
            Self::Open(channel) => f.debug_tuple("Open").field(channel).finish(),
            Self::Opened(channel) => f.debug_tuple("Opened").field(channel).finish(),
            Self::Data(channel, bytes) => write!(f, "Data({channel}, {} bytes)", bytes.len()),
            Self::Close(channel) => f.debug_tuple("Close").field(channel).finish(),
            Self::Ping(nonce) => f.debug_tuple("Ping").field(nonce).finish(),
            Self::Pong(nonce) => f.debug_tuple("Pong").field(nonce).finish(),
        }
    }
}

const T_CONTROL: u8 = 1;
const T_OPEN: u8 = 2;
const T_OPENED: u8 = 3;
const T_DATA: u8 = 4;
const T_CLOSE: u8 = 5;
const T_PING: u8 = 6;
const T_PONG: u8 = 7;

/// Appends `frame` to `out`.
///
/// A control message that cannot be serialised (it cannot happen with the message types of
/// this crate) is written as an empty JSON object, which the peer refuses.
pub fn encode(frame: &Frame, out: &mut Vec<u8>) {
    let mut put = |frame_type: u8, parts: &[&[u8]]| {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        out.push(frame_type);
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
        for part in parts {
            out.extend_from_slice(part);
        }
    };
    match frame {
        Frame::Control(message) => {
            let json = serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec());
            put(T_CONTROL, &[&json]);
        }
        Frame::Open(channel) => put(T_OPEN, &[&channel.to_be_bytes()]),
        Frame::Opened(channel) => put(T_OPENED, &[&channel.to_be_bytes()]),
        Frame::Data(channel, bytes) => put(T_DATA, &[&channel.to_be_bytes(), bytes]),
        Frame::Close(channel) => put(T_CLOSE, &[&channel.to_be_bytes()]),
        Frame::Ping(nonce) => put(T_PING, &[&nonce.to_be_bytes()]),
        Frame::Pong(nonce) => put(T_PONG, &[&nonce.to_be_bytes()]),
    }
}

/// `frame` as bytes.
#[must_use]
pub fn to_bytes(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    encode(frame, &mut out);
    out
}

/// A resumable decoder: feed bytes as they arrive with [`FrameDecoder::push`], then take
/// frames with [`FrameDecoder::next_frame`] until it returns `Ok(None)`.
///
/// Work is linear in the bytes pushed; at most one frame (plus one header) is buffered.
#[derive(Clone)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
    start: usize,
    max_payload: usize,
    failed: Option<FrameError>,
}

impl fmt::Debug for FrameDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameDecoder")
            .field("buffered", &(self.buffer.len() - self.start))
            .field("max_payload", &self.max_payload)
            .field("failed", &self.failed)
            .finish()
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PAYLOAD)
    }
}

impl FrameDecoder {
    /// A decoder accepting payloads up to `max_payload` bytes.
    #[must_use]
    pub fn new(max_payload: usize) -> Self {
        Self {
            buffer: Vec::new(),
            start: 0,
            max_payload,
            failed: None,
        }
    }

    /// Bytes received but not yet decoded.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 && self.start * 2 > self.buffer.len() {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    /// A [`FrameError`]; the decoder then stays failed (every later call returns the same
    /// error), since the stream is out of step.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        match self.decode_one() {
            Ok(frame) => Ok(frame),
            Err(error) => {
                self.failed = Some(error.clone());
                self.buffer = Vec::new();
                self.start = 0;
                Err(error)
            }
        }
    }

    fn decode_one(&mut self) -> Result<Option<Frame>, FrameError> {
        let available = &self.buffer[self.start..];
        let Some(header) = available.get(..HEADER_BYTES) else {
            return Ok(None);
        };
        let frame_type = header[0];
        let declared = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let declared_len = usize::try_from(declared).unwrap_or(usize::MAX);
        let limit = match frame_type {
            T_CONTROL => self.max_payload.min(MAX_CONTROL_BYTES),
            T_OPEN | T_OPENED | T_CLOSE => 4,
            T_DATA => self.max_payload,
            T_PING | T_PONG => 8,
            other => return Err(FrameError::UnknownType(other)),
        };
        if declared_len > limit {
            if matches!(frame_type, T_CONTROL | T_DATA) {
                return Err(FrameError::TooLarge {
                    frame_type,
                    declared: u64::from(declared),
                    limit,
                });
            }
            return Err(FrameError::BadLength {
                frame_type,
                expected: limit,
                actual: declared_len,
            });
        }
        let Some(payload) = available.get(HEADER_BYTES..HEADER_BYTES + declared_len) else {
            return Ok(None);
        };
        let frame = parse(frame_type, payload)?;
        self.start += HEADER_BYTES + declared_len;
        Ok(Some(frame))
    }
}

fn fixed<const N: usize>(frame_type: u8, payload: &[u8]) -> Result<[u8; N], FrameError> {
    payload.try_into().map_err(|_| FrameError::BadLength {
        frame_type,
        expected: N,
        actual: payload.len(),
    })
}

fn parse(frame_type: u8, payload: &[u8]) -> Result<Frame, FrameError> {
    let channel = |payload| fixed::<4>(frame_type, payload).map(u32::from_be_bytes);
    let nonce = |payload| fixed::<8>(frame_type, payload).map(u64::from_be_bytes);
    Ok(match frame_type {
        T_CONTROL => Frame::Control(ControlMessage::from_json(payload)?),
        T_OPEN => Frame::Open(channel(payload)?),
        T_OPENED => Frame::Opened(channel(payload)?),
        T_DATA => {
            let Some((head, bytes)) = payload.split_first_chunk::<4>() else {
                return Err(FrameError::BadLength {
                    frame_type,
                    expected: 4,
                    actual: payload.len(),
                });
            };
            Frame::Data(u32::from_be_bytes(*head), bytes.to_vec())
        }
        T_CLOSE => Frame::Close(channel(payload)?),
        T_PING => Frame::Ping(nonce(payload)?),
        T_PONG => Frame::Pong(nonce(payload)?),
        other => return Err(FrameError::UnknownType(other)),
    })
}

/// Decodes every frame in `bytes` with a decoder limited to `max_payload`, stopping at the
/// first error: the fuzz target's and the property tests' entry point. Never panics.
///
/// # Errors
/// The first [`FrameError`], with the frames decoded before it dropped.
pub fn decode_all(bytes: &[u8], max_payload: usize) -> Result<Vec<Frame>, FrameError> {
    let mut decoder = FrameDecoder::new(max_payload);
    decoder.push(bytes);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.next_frame()? {
        frames.push(frame);
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::SystmOneState;
    use proptest::prelude::*;

    fn sample() -> Vec<Frame> {
        vec![
            Frame::Open(1),
            Frame::Opened(1),
            Frame::Data(1, b"<ClientIntegrationRequest/>\n".to_vec()),
            Frame::Data(1, Vec::new()),
            Frame::Close(1),
            Frame::Ping(7),
            Frame::Pong(u64::MAX),
            Frame::Control(ControlMessage::Status {
                systmone: SystmOneState::Closed,
            }),
        ]
    }

    #[test]
    fn frames_round_trip() {
        let mut bytes = Vec::new();
        for frame in sample() {
            encode(&frame, &mut bytes);
        }
        assert_eq!(decode_all(&bytes, DEFAULT_MAX_PAYLOAD).unwrap(), sample());
    }

    #[test]
    fn oversized_frames_are_refused_from_the_header() {
        let mut header = vec![T_DATA];
        header.extend_from_slice(&u32::MAX.to_be_bytes());
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(&header);
        assert!(matches!(
            decoder.next_frame(),
            Err(FrameError::TooLarge { limit: 1024, .. })
        ));
        // Stays failed, buffers nothing more.
        decoder.push(&[0; 100]);
        assert_eq!(decoder.buffered(), 0);
        assert!(decoder.next_frame().is_err());
    }

    #[test]
    fn malformed_frames_are_typed_errors() {
        assert_eq!(
            decode_all(&[99, 0, 0, 0, 0], 64),
            Err(FrameError::UnknownType(99))
        );
        assert!(matches!(
            decode_all(&[T_OPEN, 0, 0, 0, 3, 1, 2, 3], 64),
            Err(FrameError::BadLength { .. })
        ));
        assert!(matches!(
            decode_all(&[T_DATA, 0, 0, 0, 2, 1, 2], 64),
            Err(FrameError::BadLength { .. })
        ));
        let mut bad_json = vec![T_CONTROL, 0, 0, 0, 3];
        bad_json.extend_from_slice(b"{x}");
        assert!(matches!(
            decode_all(&bad_json, 64),
            Err(FrameError::BadControl(_))
        ));
        // Truncated: not an error, just incomplete.
        assert_eq!(decode_all(&[T_PING, 0, 0, 0, 8, 1], 64), Ok(vec![]));
    }

    #[test]
    fn debug_shows_relayed_bytes_by_length_only() {
        let frame = Frame::Data(3, b"9990001006 Example".to_vec());
        assert_eq!(format!("{frame:?}"), "Data(3, 18 bytes)");
    }

    fn arb_frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            any::<u32>().prop_map(Frame::Open),
            any::<u32>().prop_map(Frame::Opened),
            (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..300))
                .prop_map(|(c, b)| Frame::Data(c, b)),
            any::<u32>().prop_map(Frame::Close),
            any::<u64>().prop_map(Frame::Ping),
            any::<u64>().prop_map(Frame::Pong),
            Just(Frame::Control(ControlMessage::Status {
                systmone: SystmOneState::Available
            })),
        ]
    }

    proptest! {
        /// Any split of a valid stream decodes to the same frames.
        #[test]
        fn any_split_decodes_the_same(frames in proptest::collection::vec(arb_frame(), 0..8), cut in any::<proptest::sample::Index>()) {
            let mut bytes = Vec::new();
            for frame in &frames { encode(frame, &mut bytes); }
            let cut = if bytes.is_empty() { 0 } else { cut.index(bytes.len()) };
            let mut decoder = FrameDecoder::default();
            let mut out = Vec::new();
            decoder.push(&bytes[..cut]);
            while let Some(f) = decoder.next_frame().unwrap() { out.push(f); }
            decoder.push(&bytes[cut..]);
            while let Some(f) = decoder.next_frame().unwrap() { out.push(f); }
            prop_assert_eq!(out, frames);
        }

        /// Hostile bytes never panic and never decode a frame over the limit.
        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(frames) = decode_all(&bytes, 512) {
                for frame in frames {
                    if let Frame::Data(_, data) = frame { prop_assert!(data.len() <= 512); }
                }
            }
        }
    }
}
