//! ITK3 over MESH, end to end with `gpconnect-fhir`.
//!
//! * Sending side: [`ItkSender`] sends an [`ItkMessage`] (Send Document, mental health
//!   discharge) through the exactly-once [`Outbox`] on its workflow, then correlates what
//!   comes back — MESH tracking, non-delivery REPORTs, and the ITK3 responses that arrive on
//!   the `_ACK` workflow — with the original MessageHeader id in an [`AckTracker`] (sans-IO,
//!   time injected): queued → sent → accepted by MESH → acknowledged by the recipient's
//!   mailbox → infrastructure ack → business ack, or failed with a reason; an expected ack
//!   that never comes times out.
//! * Receiving side: [`ItkReceiver`] validates an incoming message with
//!   `gpconnect_fhir::validate_json` and decides the ITK3 answer — positive (20013, plus a
//!   business 30001 when asked), the validator's negative code, or 20007 when the same
//!   MessageHeader id arrives twice — and sends it back on the `_ACK` workflow.
//!
//! The MESH subject of a Send Document message built by `gpconnect-fhir` carries the
//! patient's name and NHS number; MESH metadata must not, so [`ItkSender`] sends a subject
//! without patient details (the workflow and message id) unless told otherwise.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use gpconnect_fhir::fhir_model::stu3::resources::{Bundle, Resource};
use gpconnect_fhir::response::UNREADABLE_ORIGINAL;
use gpconnect_fhir::{
    ItkMessage, ItkResponse, MessageHandling, ReceivedResponse, Responder, ResponseCode,
};
use tracing::{info, warn};

use crate::error::MeshError;
use crate::outbox::Outbox;
use crate::poller::Poller;
use crate::store::{SeenStore, StoredKind, StoredMessage};
use crate::types::Envelope;
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

/// The ITK3 handling keys of a message (InfAckRequested, BusAckRequested); both true when
/// they cannot be read.
pub fn requested_acks(bundle: &Bundle) -> (bool, bool) {
    first_header(bundle)
        .and_then(|h| MessageHandling::from_extensions(&h.extension).ok())
        .map_or((true, true), |h| (h.inf_ack_requested, h.bus_ack_requested))
}

fn first_header(
    bundle: &Bundle,
) -> Option<&gpconnect_fhir::fhir_model::stu3::resources::MessageHeader> {
    match bundle.entry.first()?.as_ref()?.resource.as_ref()? {
        Resource::MessageHeader(h) => Some(h),
        _ => None,
    }
}

/// A status change reported by [`ItkSender`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusChange {
    /// The original MessageHeader id.
    pub header_id: String,
    /// The new status.
    pub status: ItkStatus,
}

/// Sends ITK3 messages exactly once and follows them to their acknowledgements.
#[derive(Clone)]
pub struct ItkSender {
    outbox: Outbox,
    acks: Poller,
    tracker: Arc<Mutex<AckTracker>>,
    timeouts: AckTimeouts,
}

impl std::fmt::Debug for ItkSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItkSender")
            .field("acks", &self.acks)
            .finish_non_exhaustive()
    }
}

impl ItkSender {
    /// A sender using `outbox` to send and `acks` (a poller on the same mailbox, usually
    /// filtered to `*_ACK*` or one ack workflow) to receive responses and reports.
    pub fn new(outbox: Outbox, acks: Poller) -> Self {
        Self {
            outbox,
            acks,
            tracker: Arc::new(Mutex::new(AckTracker::new())),
            timeouts: AckTimeouts::default(),
        }
    }

    /// Sets the ack time-outs.
    #[must_use]
    pub fn timeouts(mut self, timeouts: AckTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    fn tracker(&self) -> Result<std::sync::MutexGuard<'_, AckTracker>, MeshError> {
        self.tracker
            .lock()
            .map_err(|_| MeshError::Store("tracker lock poisoned".into()))
    }

    /// A snapshot of what is known about `header_id`.
    pub fn status(&self, header_id: &str) -> Option<TrackedMessage> {
        self.tracker().ok()?.get(header_id).cloned()
    }

    /// The MESH envelope for `message`: its routing, FHIR JSON content type, and a subject
    /// without patient details.
    pub fn envelope(message: &ItkMessage) -> Envelope {
        Envelope::new(message.mesh.to.clone(), message.mesh.workflow_id.clone())
            .subject(format!(
                "{} {}",
                message.mesh.workflow_id,
                message.message_id.as_str()
            ))
            .content_type("application/fhir+json")
    }

    /// Queues and sends `message` (FHIR JSON); returns its MessageHeader id.
    ///
    /// # Errors
    /// [`MeshError::Itk`] when it cannot be serialised; outbox errors. A send that fails
    /// retryably stays in the outbox (status `Sent`) for [`Outbox::deliver_pending`].
    pub async fn send(
        &self,
        message: &ItkMessage,
        now: DateTime<Utc>,
    ) -> Result<String, MeshError> {
        let body = message
            .to_json()
            .map_err(|e| MeshError::Itk(nhs_identifiers::redact::serde_error(&e.to_string())))?;
        let header_id = message.message_id.as_str().to_owned();
        let local_id = self
            .outbox
            .enqueue(&Self::envelope(message), body.into_bytes())?;
        {
            let mut t = self.tracker()?;
            t.track(&header_id, &local_id, requested_acks(&message.bundle), now);
            t.sent(&header_id, now);
        }
        match self.outbox.deliver(&local_id).await {
            Ok(id) => {
                self.tracker()?
                    .accepted(&header_id, id.as_str(), Utc::now().max(now));
                info!(header_id = %header_id, mesh_id = %id, "ITK3 message accepted by MESH");
                Ok(header_id)
            }
            Err(e) => {
                if e.retry() == crate::Retry::Never {
                    self.tracker()?.failed(&header_id, &e.to_string(), now);
                }
                Err(e)
            }
        }
    }

    /// Polls for responses and reports, refreshes MESH tracking of messages not yet
    /// acknowledged by the recipient, and applies time-outs. Returns every status change in
    /// the order it happened.
    ///
    /// # Errors
    /// MESH or store failures (what was already applied stays applied).
    pub async fn poll(&self, now: DateTime<Utc>) -> Result<Vec<StatusChange>, MeshError> {
        let mut changes = Vec::new();
        // Tracking first: "acknowledged by the recipient's mailbox" precedes its ITK acks.
        let pending: Vec<String> = self
            .tracker()?
            .all()
            .filter(|m| m.status == ItkStatus::AcceptedByMesh)
            .filter_map(|m| m.mesh_message_id.clone())
            .collect();
        for mesh_id in pending {
            let Ok(id) = crate::types::MessageId::new(&mesh_id) else {
                continue;
            };
            match self.outbox.client().track(&id).await {
                Ok(t) => {
                    let Some(status) = &t.status else { continue };
                    let mut tracker = self.tracker()?;
                    let header = tracker.header_by_mesh_id.get(&mesh_id).cloned();
                    let change = tracker.on_tracking(&mesh_id, status, now);
                    drop(tracker);
                    if let (Some(header_id), Some(status)) = (header, change) {
                        changes.push(StatusChange { header_id, status });
                    }
                }
                Err(e) => warn!(error = %e, "MESH tracking failed; will try again"),
            }
        }
        let tracker = self.tracker.clone();
        let mut found = Vec::new();
        self.acks
            .poll_once(|m: &StoredMessage| -> Result<(), String> {
                let mut t = tracker.lock().map_err(|_| "tracker lock poisoned".to_owned())?;
                match &m.kind {
                    StoredKind::Report(r) => {
                        if let Some((h, s)) = t.on_report(r, now) {
                            found.push(StatusChange { header_id: h, status: s });
                        }
                    }
                    StoredKind::Data(_) => match read_response(&m.body) {
                        Ok(resp) => {
                            if let Some((h, s)) = t.on_response(&resp, now) {
                                found.push(StatusChange { header_id: h, status: s });
                            }
                        }
                        Err(e) => warn!(message_id = %m.message_id, error = %e, "not an ITK3 response; ignored"),
                    },
                }
                Ok(())
            })
            .await?;
        changes.extend(found);
        for (h, s) in self.tracker()?.check_timeouts(now, self.timeouts) {
            changes.push(StatusChange {
                header_id: h,
                status: s,
            });
        }
        Ok(changes)
    }
}

/// Reads an ITK3 response from FHIR JSON or XML.
///
/// # Errors
/// [`MeshError::Itk`] when it is not one (text redacted).
pub fn read_response(body: &[u8]) -> Result<ReceivedResponse, MeshError> {
    let text =
        std::str::from_utf8(body).map_err(|_| MeshError::Itk("response is not UTF-8".into()))?;
    let r = if text.trim_start().starts_with('<') {
        ItkResponse::from_xml(text)
    } else {
        ItkResponse::from_json(text)
    };
    r.map_err(|e| MeshError::Itk(nhs_identifiers::redact::serde_error(&e.to_string())))
}

/// What the receiving side answers to one incoming message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// The original MessageHeader id (or `UNREADABLE-IN-ORIGINAL-MESSAGE`).
    pub header_id: String,
    /// The infrastructure response (always decided; sent when requested or negative).
    pub infrastructure: ItkResponse,
    /// The business response, when the message was accepted and one was requested.
    pub business: Option<ItkResponse>,
    /// Whether the infrastructure response should be sent.
    pub send_infrastructure: bool,
    /// Whether the message should be filed (valid and not a duplicate).
    pub accept: bool,
}

/// The receiving side (a GP system or a test author): validate, dedupe, answer.
#[derive(Clone)]
pub struct ItkReceiver {
    seen: Arc<dyn SeenStore>,
    business_code: ResponseCode,
}

impl std::fmt::Debug for ItkReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItkReceiver")
            .field("business_code", &self.business_code)
            .finish_non_exhaustive()
    }
}

impl ItkReceiver {
    /// A receiver remembering MessageHeader ids in `seen`; accepted messages get business
    /// code 30001 (Patient known here) when a business ack is requested.
    pub fn new(seen: Arc<dyn SeenStore>) -> Self {
        Self {
            seen,
            business_code: ResponseCode::PatientKnownHere,
        }
    }

    /// The business code for accepted messages (30001 or 30004, or a negative 30002/30003
    /// chosen by the clinical system).
    #[must_use]
    pub fn business_code(mut self, code: ResponseCode) -> Self {
        self.business_code = code;
        self
    }

    /// Decides the answer to `body` (FHIR JSON or XML).
    ///
    /// # Errors
    /// [`MeshError::Store`] when the duplicate check cannot be recorded.
    pub fn decide(&self, body: &[u8]) -> Result<Decision, MeshError> {
        let Some((bundle, json)) = parse_bundle(body) else {
            return Ok(Decision {
                header_id: UNREADABLE_ORIGINAL.to_owned(),
                infrastructure: ItkResponse::new(
                    ResponseCode::UnreadableMessage,
                    UNREADABLE_ORIGINAL,
                    "None",
                ),
                business: None,
                send_infrastructure: true,
                accept: false,
            });
        };
        let header_id = first_header(&bundle)
            .and_then(|h| h.id.clone())
            .unwrap_or_else(|| UNREADABLE_ORIGINAL.to_owned());
        let (inf, bus) = requested_acks(&bundle);
        let report = gpconnect_fhir::validate_json(&json);
        if !report.is_valid() {
            return Ok(Decision {
                header_id,
                infrastructure: ItkResponse::answering(report.response_code(), &bundle)
                    .with_diagnostics(format!("{} validation error(s)", report.errors().count())),
                business: None,
                send_infrastructure: true,
                accept: false,
            });
        }
        if !self.seen.first_time(&header_id)? {
            return Ok(Decision {
                header_id,
                infrastructure: ItkResponse::answering(ResponseCode::DuplicateMessage, &bundle),
                business: None,
                send_infrastructure: true,
                accept: false,
            });
        }
        Ok(Decision {
            header_id,
            infrastructure: ItkResponse::answering(ResponseCode::Success, &bundle),
            business: bus.then(|| ItkResponse::answering(self.business_code.clone(), &bundle)),
            send_infrastructure: inf,
            accept: true,
        })
    }

    /// Decides, then sends the answers through `outbox` (infrastructure first, then
    /// business) to `responder.reply_to` on `responder.ack_workflow_id`.
    ///
    /// # Errors
    /// [`MeshError::Itk`] when a response cannot be built; outbox errors.
    pub async fn answer(
        &self,
        body: &[u8],
        responder: &Responder,
        outbox: &Outbox,
        now: DateTime<Utc>,
    ) -> Result<Decision, MeshError> {
        let decision = self.decide(body)?;
        let mut ids = || gpconnect_fhir::Uuid::from_u128(uuid::Uuid::new_v4().as_u128());
        let mut to_send = Vec::new();
        if decision.send_infrastructure {
            to_send.push(&decision.infrastructure);
        }
        if let Some(b) = &decision.business {
            to_send.push(b);
        }
        for r in to_send {
            let msg = r.build(responder, now, &mut ids).map_err(|e| {
                MeshError::Itk(nhs_identifiers::redact::serde_error(&e.to_string()))
            })?;
            let env = Envelope::new(
                responder.reply_to.clone(),
                responder.ack_workflow_id.clone(),
            )
            .subject(format!("ITK3 response {}", r.code.code()))
            .content_type("application/fhir+json");
            let body = msg.to_json().map_err(|e| {
                MeshError::Itk(nhs_identifiers::redact::serde_error(&e.to_string()))
            })?;
            outbox.send(&env, body.into_bytes()).await?;
            info!(code = r.code.code(), "ITK3 response sent");
        }
        Ok(decision)
    }
}

fn parse_bundle(body: &[u8]) -> Option<(Bundle, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let json = if text.trim_start().starts_with('<') {
        gpconnect_fhir::xml::xml_to_json(text).ok()?.to_string()
    } else {
        text.to_owned()
    };
    match serde_json::from_str::<Resource>(&json).ok()? {
        Resource::Bundle(b) => Some((b, json)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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

    #[test]
    fn the_receiver_answers_unreadable_messages_with_10009() {
        let r = ItkReceiver::new(Arc::new(crate::store::MemoryStore::new()));
        let d = r.decide(b"not fhir").unwrap();
        assert_eq!(d.infrastructure.code, ResponseCode::UnreadableMessage);
        assert!(!d.accept);
    }
}
