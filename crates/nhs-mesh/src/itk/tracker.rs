//! The sans-IO half of ITK3 tracking: where each sent message is ([`ItkStatus`]), what is
//! known about it ([`TrackedMessage`]) and the correlation of sends, MESH events and ITK3
//! responses ([`AckTracker`], every time a parameter). [`TrackedMessage`] is serde so a
//! store can keep it ([`crate::store::AckStore`]).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gpconnect_fhir::{ReceivedResponse, ResponseCode};

use crate::wire::{Report, TrackingStatus};

/// Where an ITK3 message is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ItkStatus {
    /// In the outbox, not sent yet.
    Queued,
    /// Being sent (or the send's outcome is being settled).
    Sent,
    /// MESH has the whole message.
    AcceptedByMesh,
    /// The recipient's mailbox acknowledged (downloaded) it (MESH tracking; not an ITK ack).
    AcknowledgedByRecipient,
    /// A positive infrastructure acknowledgement arrived (20013).
    InfrastructureAck {
        /// The ITK response code.
        code: String,
    },
    /// A positive business acknowledgement arrived (30001, 30004).
    BusinessAck {
        /// The ITK response code.
        code: String,
    },
    /// The exchange failed.
    Failed {
        /// Why: a negative code, a non-delivery report, a time-out (no patient data).
        reason: String,
    },
}

impl ItkStatus {
    fn rank(&self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Sent => 1,
            Self::AcceptedByMesh => 2,
            Self::AcknowledgedByRecipient => 3,
            Self::InfrastructureAck { .. } => 4,
            Self::BusinessAck { .. } => 5,
            Self::Failed { .. } => 6,
        }
    }

    /// Whether nothing more is expected.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Failed { .. } | Self::BusinessAck { .. })
    }
}

/// One sent ITK3 message and what is known about it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TrackedMessage {
    /// `MessageHeader.id` of the original (responses quote it).
    pub header_id: String,
    /// The outbox's `mex-LocalID`.
    pub local_id: String,
    /// The MESH message id once accepted.
    pub mesh_message_id: Option<String>,
    /// Whether an infrastructure ack was requested.
    pub inf_ack_requested: bool,
    /// Whether a business ack was requested.
    pub bus_ack_requested: bool,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// The infrastructure response, when it came.
    pub infrastructure: Option<ResponseCode>,
    /// The business response, when it came.
    pub business: Option<ResponseCode>,
    /// Current status.
    pub status: ItkStatus,
    /// Every status with the time it was reached.
    pub history: Vec<(DateTime<Utc>, ItkStatus)>,
}

impl TrackedMessage {
    /// Whether the exchange finished well: the acks that were asked for all came, positive.
    pub fn is_complete(&self) -> bool {
        !matches!(self.status, ItkStatus::Failed { .. })
            && (!self.inf_ack_requested
                || self
                    .infrastructure
                    .as_ref()
                    .is_some_and(ResponseCode::is_positive))
            && (!self.bus_ack_requested
                || self
                    .business
                    .as_ref()
                    .is_some_and(ResponseCode::is_positive))
    }

    /// Whether nothing more is expected: a final status ([`ItkStatus::is_final`]), or every
    /// acknowledgement asked for came positive and the recipient's mailbox has it (with no
    /// acknowledgement asked for, MESH tracking saying it was downloaded).
    pub fn is_settled(&self) -> bool {
        self.status.is_final()
            || (self.is_complete()
                && self.status.rank() >= ItkStatus::AcknowledgedByRecipient.rank())
    }

    /// When it settled: the time of its last status change, if it is settled.
    pub fn settled_at(&self) -> Option<DateTime<Utc>> {
        if !self.is_settled() {
            return None;
        }
        Some(self.history.last().map_or(self.queued_at, |(at, _)| *at))
    }
}

/// How long to wait for each acknowledgement after the message was queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AckTimeouts {
    /// Infrastructure ack (default 1 day).
    pub infrastructure: Duration,
    /// Business ack (default 5 days).
    pub business: Duration,
}

impl Default for AckTimeouts {
    fn default() -> Self {
        Self {
            infrastructure: Duration::from_secs(24 * 3600),
            business: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl AckTimeouts {
    /// Both time-outs.
    pub fn new(infrastructure: Duration, business: Duration) -> Self {
        Self {
            infrastructure,
            business,
        }
    }
}

/// Correlates sends, MESH events and ITK3 responses (sans-IO: every time is a parameter).
#[derive(Clone, Debug, Default)]
pub struct AckTracker {
    by_header: BTreeMap<String, TrackedMessage>,
    header_by_mesh_id: BTreeMap<String, String>,
}

impl AckTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tracker that carries on from stored messages (after a restart).
    pub fn restore(messages: impl IntoIterator<Item = TrackedMessage>) -> Self {
        let mut t = Self::new();
        for m in messages {
            if let Some(mesh_id) = &m.mesh_message_id {
                t.header_by_mesh_id
                    .insert(mesh_id.clone(), m.header_id.clone());
            }
            t.by_header.insert(m.header_id.clone(), m);
        }
        t
    }

    /// The MessageHeader id of the message MESH knows as `mesh_id`.
    pub fn header_for_mesh_id(&self, mesh_id: &str) -> Option<&str> {
        self.header_by_mesh_id.get(mesh_id).map(String::as_str)
    }

    /// Starts tracking a queued message.
    pub fn track(
        &mut self,
        header_id: &str,
        local_id: &str,
        handling: (bool, bool),
        at: DateTime<Utc>,
    ) {
        self.by_header.insert(
            header_id.to_owned(),
            TrackedMessage {
                header_id: header_id.to_owned(),
                local_id: local_id.to_owned(),
                mesh_message_id: None,
                inf_ack_requested: handling.0,
                bus_ack_requested: handling.1,
                queued_at: at,
                infrastructure: None,
                business: None,
                status: ItkStatus::Queued,
                history: vec![(at, ItkStatus::Queued)],
            },
        );
    }

    fn advance(
        &mut self,
        header_id: &str,
        status: ItkStatus,
        at: DateTime<Utc>,
    ) -> Option<ItkStatus> {
        let m = self.by_header.get_mut(header_id)?;
        // Never move backwards, and never out of Failed (the first failure is the reason).
        if matches!(m.status, ItkStatus::Failed { .. })
            || (status.rank() <= m.status.rank() && !matches!(status, ItkStatus::Failed { .. }))
        {
            return None;
        }
        m.status = status.clone();
        m.history.push((at, status.clone()));
        Some(status)
    }

    /// The send started.
    pub fn sent(&mut self, header_id: &str, at: DateTime<Utc>) -> Option<ItkStatus> {
        self.advance(header_id, ItkStatus::Sent, at)
    }

    /// MESH accepted the whole message as `mesh_id`.
    pub fn accepted(
        &mut self,
        header_id: &str,
        mesh_id: &str,
        at: DateTime<Utc>,
    ) -> Option<ItkStatus> {
        if let Some(m) = self.by_header.get_mut(header_id) {
            m.mesh_message_id = Some(mesh_id.to_owned());
            self.header_by_mesh_id
                .insert(mesh_id.to_owned(), header_id.to_owned());
        }
        self.advance(header_id, ItkStatus::AcceptedByMesh, at)
    }

    /// The send failed for good.
    pub fn failed(
        &mut self,
        header_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Option<ItkStatus> {
        self.advance(
            header_id,
            ItkStatus::Failed {
                reason: reason.to_owned(),
            },
            at,
        )
    }

    /// MESH tracking of `mesh_id` says `status`.
    pub fn on_tracking(
        &mut self,
        mesh_id: &str,
        status: &TrackingStatus,
        at: DateTime<Utc>,
    ) -> Option<ItkStatus> {
        let header = self.header_by_mesh_id.get(mesh_id)?.clone();
        match status {
            TrackingStatus::Acknowledged => {
                self.advance(&header, ItkStatus::AcknowledgedByRecipient, at)
            }
            TrackingStatus::Undeliverable | TrackingStatus::Error => self.failed(
                &header,
                "MESH tracking says the message was not delivered",
                at,
            ),
            _ => None,
        }
    }

    /// A REPORT arrived; if it is about one of ours, that message failed.
    pub fn on_report(&mut self, report: &Report, at: DateTime<Utc>) -> Option<(String, ItkStatus)> {
        let linked = report.linked_message_id.as_deref()?;
        let header = self.header_by_mesh_id.get(linked)?.clone();
        let reason = format!(
            "MESH non-delivery report (code {})",
            report.status_code.as_deref().unwrap_or("unknown")
        );
        self.failed(&header, &reason, at).map(|s| (header, s))
    }

    /// An ITK3 response arrived; returns the header id it answers and the new status.
    pub fn on_response(
        &mut self,
        response: &ReceivedResponse,
        at: DateTime<Utc>,
    ) -> Option<(String, ItkStatus)> {
        let r = &response.response;
        let header = r.in_response_to.clone();
        let m = self.by_header.get_mut(&header)?;
        let positive = r.is_positive();
        let business = r.kind() == gpconnect_fhir::codes::AckKind::Business;
        if business {
            m.business = Some(r.code.clone());
        } else {
            m.infrastructure = Some(r.code.clone());
        }
        let code = r.code.code().to_owned();
        let status = match (business, positive) {
            (false, true) => ItkStatus::InfrastructureAck { code },
            (true, true) => ItkStatus::BusinessAck { code },
            (false, false) => ItkStatus::Failed {
                reason: format!("negative infrastructure acknowledgement {code}"),
            },
            (true, false) => ItkStatus::Failed {
                reason: format!("negative business acknowledgement {code}"),
            },
        };
        self.advance(&header, status, at).map(|s| (header, s))
    }

    /// Fails every message whose expected ack is overdue at `now`; returns them.
    pub fn check_timeouts(
        &mut self,
        now: DateTime<Utc>,
        timeouts: AckTimeouts,
    ) -> Vec<(String, ItkStatus)> {
        let mut overdue = Vec::new();
        for m in self.by_header.values() {
            if m.status.is_final() {
                continue;
            }
            let waited = (now - m.queued_at).to_std().unwrap_or_default();
            if m.inf_ack_requested && m.infrastructure.is_none() && waited > timeouts.infrastructure
            {
                overdue.push((
                    m.header_id.clone(),
                    "no infrastructure acknowledgement in time",
                ));
            } else if m.bus_ack_requested && m.business.is_none() && waited > timeouts.business {
                overdue.push((m.header_id.clone(), "no business acknowledgement in time"));
            }
        }
        overdue
            .into_iter()
            .filter_map(|(h, why)| self.failed(&h, why, now).map(|s| (h, s)))
            .collect()
    }

    /// What is known about the message with this MessageHeader id.
    pub fn get(&self, header_id: &str) -> Option<&TrackedMessage> {
        self.by_header.get(header_id)
    }

    /// Every tracked message.
    pub fn all(&self) -> impl Iterator<Item = &TrackedMessage> {
        self.by_header.values()
    }

    /// The MessageHeader ids of the messages that settled ([`TrackedMessage::is_settled`])
    /// before `cutoff`, in id order.
    pub fn settled_before(&self, cutoff: DateTime<Utc>) -> Vec<String> {
        self.by_header
            .values()
            .filter(|m| m.settled_at().is_some_and(|at| at < cutoff))
            .map(|m| m.header_id.clone())
            .collect()
    }

    /// Stops tracking `header_id` (a later response or report about it is ignored); returns
    /// what was known about it.
    pub fn forget(&mut self, header_id: &str) -> Option<TrackedMessage> {
        let m = self.by_header.remove(header_id)?;
        if let Some(mesh_id) = &m.mesh_message_id {
            self.header_by_mesh_id.remove(mesh_id);
        }
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use gpconnect_fhir::{ItkResponse, Responder};

    use crate::itk::read_response;

    fn resp(code: ResponseCode, to: &str) -> ReceivedResponse {
        // Build a real response bundle and read it back, as the wire would.
        let responder = Responder::new(
            nhs_identifiers::OdsCode::try_from("X26").unwrap(),
            "X26ABC2",
            "X26ABC1",
            "GPCONNECT_SEND_DOCUMENT_ACK",
        );
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let msg = ItkResponse::new(code, to, "None")
            .build(&responder, at, &mut gpconnect_fhir::SequentialIds::new(9))
            .unwrap();
        read_response(msg.to_json().unwrap().as_bytes()).unwrap()
    }

    #[test]
    fn settled_messages_are_forgotten_after_the_cutoff_and_no_others() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let t1 = t0 + chrono::Duration::hours(1);
        let mut t = AckTracker::new();
        // Business ack: final.
        t.track("H1", "L1", (true, true), t0);
        t.accepted("H1", "M1", t0);
        t.on_response(&resp(ResponseCode::PatientKnownHere, "H1"), t1);
        // Failed: final.
        t.track("H2", "L2", (true, true), t0);
        t.failed("H2", "could not be stored in the outbox", t0);
        // No acks asked for, downloaded: settled.
        t.track("H3", "L3", (false, false), t0);
        t.accepted("H3", "M3", t0);
        t.on_tracking("M3", &TrackingStatus::Acknowledged, t0);
        // No acks asked for, only accepted: the download may still come.
        t.track("H4", "L4", (false, false), t0);
        t.accepted("H4", "M4", t0);
        // Infrastructure ack came, business ack still awaited.
        t.track("H5", "L5", (true, true), t0);
        t.accepted("H5", "M5", t0);
        t.on_tracking("M5", &TrackingStatus::Acknowledged, t0);
        t.on_response(&resp(ResponseCode::Success, "H5"), t0);
        // Queued, nothing asked for: complete in a sense, but not sent yet.
        t.track("H6", "L6", (false, false), t0);

        assert_eq!(t.get("H1").unwrap().settled_at(), Some(t1));
        assert_eq!(t.settled_before(t0), Vec::<String>::new());
        assert_eq!(t.settled_before(t1), ["H2", "H3"]);
        let later = t1 + chrono::Duration::seconds(1);
        let ids = t.settled_before(later);
        assert_eq!(ids, ["H1", "H2", "H3"]);
        for id in &ids {
            assert_eq!(t.forget(id).map(|m| m.header_id), Some(id.clone()));
        }
        assert_eq!(t.forget("H1"), None);
        assert_eq!(
            t.all().map(|m| m.header_id.as_str()).collect::<Vec<_>>(),
            ["H4", "H5", "H6"]
        );
        // Events about a forgotten message are ignored.
        assert_eq!(t.header_for_mesh_id("M1"), None);
        assert_eq!(t.on_tracking("M3", &TrackingStatus::Error, later), None);
        assert_eq!(
            t.on_response(&resp(ResponseCode::DuplicateMessage, "H1"), later),
            None
        );
    }

    #[test]
    fn statuses_follow_the_exchange_and_time_out() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let mut t = AckTracker::new();
        t.track("H1", "L1", (true, true), t0);
        t.sent("H1", t0);
        t.accepted("H1", "M1", t0);
        assert_eq!(
            t.on_tracking("M1", &TrackingStatus::Acknowledged, t0),
            Some(ItkStatus::AcknowledgedByRecipient)
        );
        let (_, s) = t
            .on_response(&resp(ResponseCode::Success, "H1"), t0)
            .unwrap();
        assert_eq!(
            s,
            ItkStatus::InfrastructureAck {
                code: "20013".into()
            }
        );
        let (_, s) = t
            .on_response(&resp(ResponseCode::PatientKnownHere, "H1"), t0)
            .unwrap();
        assert_eq!(
            s,
            ItkStatus::BusinessAck {
                code: "30001".into()
            }
        );
        assert!(t.get("H1").unwrap().is_complete());

        // Negative infrastructure ack.
        t.track("H2", "L2", (true, true), t0);
        let (_, s) = t
            .on_response(&resp(ResponseCode::DuplicateMessage, "H2"), t0)
            .unwrap();
        assert!(matches!(s, ItkStatus::Failed { ref reason } if reason.contains("20007")));

        // No infrastructure ack in time, then no business ack in time.
        let timeouts = AckTimeouts::new(Duration::from_secs(60), Duration::from_secs(600));
        t.track("H3", "L3", (true, true), t0);
        t.track("H4", "L4", (true, true), t0);
        t.on_response(&resp(ResponseCode::Success, "H4"), t0);
        assert!(
            t.check_timeouts(t0 + chrono::Duration::seconds(30), timeouts)
                .is_empty()
        );
        let failed = t.check_timeouts(t0 + chrono::Duration::seconds(61), timeouts);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, "H3");
        let failed = t.check_timeouts(t0 + chrono::Duration::seconds(601), timeouts);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, "H4");
        assert!(!t.get("H4").unwrap().is_complete());
        // A late ack does not revive a failed exchange.
        assert!(
            t.on_response(&resp(ResponseCode::PatientKnownHere, "H4"), t0)
                .is_none()
        );
    }

    #[test]
    fn a_report_fails_the_linked_message() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let mut t = AckTracker::new();
        t.track("H1", "L1", (true, true), t0);
        t.accepted("H1", "M1", t0);
        let m = crate::wire::Metadata::from_headers([
            ("mex-messageid", "R1"),
            ("mex-messagetype", "REPORT"),
            ("mex-linkedmsgid", "M1"),
            ("mex-statuscode", "14"),
        ])
        .unwrap();
        let r = Report::from_metadata(&m).unwrap().unwrap();
        let (h, s) = t.on_report(&r, t0).unwrap();
        assert_eq!(h, "H1");
        assert!(matches!(s, ItkStatus::Failed { ref reason } if reason.contains("14")));
    }
}
