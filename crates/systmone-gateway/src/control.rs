//! Control messages: enrolment, the agent's hello, SystmOne's availability, refusals.
//!
//! They travel as JSON in [`Frame::Control`](crate::relay::Frame::Control). Secrets (enrolment
//! tokens, device credentials) are [`Secret`]s: their `Debug` never shows them. A message type
//! a newer peer sends that this version does not know decodes as [`ControlMessage::Unknown`].

use serde::{Deserialize, Serialize};

use crate::error::FrameError;

/// A secret string (an enrolment token or a device credential): the ground floor's, which
/// never prints and serialises as the plain string.
pub use nhs_identifiers::redact::Secret;

/// Whether the local SystmOne client takes connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SystmOneState {
    /// Something listens on the Client Integration port (SystmOne is running, logged on).
    Available,
    /// Nothing listens: SystmOne is closed or nobody is logged on.
    Closed,
    /// A state this version does not know.
    #[serde(other)]
    Unknown,
}

impl SystmOneState {
    /// `available`, `closed` or `unknown`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Closed => "closed",
            Self::Unknown => "unknown",
        }
    }
}

/// A control message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ControlMessage {
    /// Agent → hub, first frame of an enrolment connection: exchange a one-time token for a
    /// device credential.
    Enrol {
        /// The one-time enrolment token.
        token: Secret,
        /// A label for the device (e.g. the PC's name), shown to operators.
        label: String,
        /// This agent's version.
        agent_version: String,
    },
    /// Hub → agent: enrolment done; the connection then closes.
    Enrolled {
        /// The device id the hub assigned.
        device_id: String,
        /// The organisation (ODS code) the token was issued for.
        ods: String,
        /// The device credential (shown once; the hub keeps only its digest).
        credential: Secret,
    },
    /// Agent → hub, first frame of a session.
    Hello {
        /// The enrolled device id.
        device_id: String,
        /// The device credential.
        credential: Secret,
        /// The organisation the device was enrolled for (the hub checks what SystmOne reports).
        ods: String,
        /// This agent's version.
        agent_version: String,
        /// Whether SystmOne is taking connections now.
        systmone: SystmOneState,
    },
    /// Hub → agent: the session is accepted.
    Welcome {
        /// How often the hub pings, in seconds; the agent counts the hub gone after three
        /// silent intervals.
        heartbeat_secs: u64,
    },
    /// Agent → hub: SystmOne's availability changed (or a periodic reminder).
    Status {
        /// Whether SystmOne takes connections.
        systmone: SystmOneState,
    },
    /// Either way: the request is refused; the connection then closes.
    Refused {
        /// Why (no secret, no patient data).
        reason: String,
    },
    /// Hub → agent: this device's enrolment was revoked; do not reconnect.
    Revoked,
    /// A message type this version does not know.
    #[serde(other)]
    Unknown,
}

impl ControlMessage {
    /// Decodes a control payload.
    ///
    /// # Errors
    /// [`FrameError::BadControl`] naming the kind and place of the problem, never the value.
    pub fn from_json(payload: &[u8]) -> Result<Self, FrameError> {
        serde_json::from_slice(payload).map_err(|error| {
            let kind = match error.classify() {
                serde_json::error::Category::Io => "io",
                serde_json::error::Category::Syntax => "syntax error",
                serde_json::error::Category::Data => "unexpected shape",
                serde_json::error::Category::Eof => "truncated",
            };
            FrameError::BadControl(format!(
                "{kind} at line {} column {}",
                error.line(),
                error.column()
            ))
        })
    }

    /// The message's type name, for logs.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Enrol { .. } => "enrol",
            Self::Enrolled { .. } => "enrolled",
            Self::Hello { .. } => "hello",
            Self::Welcome { .. } => "welcome",
            Self::Status { .. } => "status",
            Self::Refused { .. } => "refused",
            Self::Revoked => "revoked",
            Self::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let hello = ControlMessage::Hello {
            device_id: "d1".into(),
            credential: Secret::from("s3cr3t-credential"),
            ods: "B11111".into(),
            agent_version: "0.1.0".into(),
            systmone: SystmOneState::Available,
        };
        assert!(!format!("{hello:?}").contains("s3cr3t"));
    }

    #[test]
    fn unknown_types_and_states_are_kept_open() {
        assert_eq!(
            ControlMessage::from_json(br#"{"type":"shiny_new"}"#).unwrap(),
            ControlMessage::Unknown
        );
        assert_eq!(
            ControlMessage::from_json(br#"{"type":"status","systmone":"sleeping"}"#).unwrap(),
            ControlMessage::Status {
                systmone: SystmOneState::Unknown
            }
        );
    }

    #[test]
    fn bad_json_errors_never_quote_the_value() {
        let error = ControlMessage::from_json(br#"{"type":"enrol","token":9990001006}"#)
            .unwrap_err()
            .to_string();
        assert!(!error.contains("9990001006"), "{error}");
    }
}
