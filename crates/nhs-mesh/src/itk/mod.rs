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

pub(crate) mod tracker;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use gpconnect_fhir::fhir_model::stu3::resources::{Bundle, Resource};
use gpconnect_fhir::response::UNREADABLE_ORIGINAL;
use gpconnect_fhir::{
    ItkMessage, ItkResponse, MessageHandling, ReceivedResponse, Responder, ResponseCode,
};
use tracing::{info, warn};

pub use tracker::{AckTimeouts, AckTracker, ItkStatus, TrackedMessage};

use crate::error::MeshError;
use crate::outbox::Outbox;
use crate::poller::Poller;
use crate::store::{AckStore, OutboxState, SeenStore, StoredKind, StoredMessage};
use crate::types::Envelope;

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
///
/// With [`Self::with_store`] every status is written to an [`AckStore`] (the same
/// [`crate::SqliteStore`] as the outbox, usually) before the change is reported, so a restart
/// keeps each message's status, history and the time it was queued (the ack time-outs count
/// from it). [`Self::new`] keeps them in memory only.
#[derive(Clone)]
pub struct ItkSender {
    outbox: Outbox,
    acks: Poller,
    tracker: Arc<Mutex<AckTracker>>,
    store: Option<Arc<dyn AckStore>>,
    timeouts: AckTimeouts,
}

impl std::fmt::Debug for ItkSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItkSender")
            .field("acks", &self.acks)
            .field("durable", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl ItkSender {
    /// A sender using `outbox` to send and `acks` (a poller on the same mailbox, usually
    /// filtered to `*_ACK*` or one ack workflow) to receive responses and reports. Statuses
    /// live in memory only: use [`Self::with_store`] to keep them across restarts.
    pub fn new(outbox: Outbox, acks: Poller) -> Self {
        Self {
            outbox,
            acks,
            tracker: Arc::new(Mutex::new(AckTracker::new())),
            store: None,
            timeouts: AckTimeouts::default(),
        }
    }

    /// As [`Self::new`], with every status kept in `store` and the ones already there loaded
    /// (after a restart: statuses, histories and time-outs carry on).
    ///
    /// # Errors
    /// [`MeshError::Store`] when the stored statuses cannot be read.
    pub fn with_store(
        outbox: Outbox,
        acks: Poller,
        store: Arc<dyn AckStore>,
    ) -> Result<Self, MeshError> {
        let tracker = AckTracker::restore(store.load_tracked()?);
        Ok(Self {
            outbox,
            acks,
            tracker: Arc::new(Mutex::new(tracker)),
            store: Some(store),
            timeouts: AckTimeouts::default(),
        })
    }

    /// Sets the ack time-outs.
    #[must_use]
    pub fn timeouts(mut self, timeouts: AckTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    fn tracker(&self) -> Result<std::sync::MutexGuard<'_, AckTracker>, MeshError> {
        lock(&self.tracker)
    }

    /// Writes the current state of `header_id` to the store (if any).
    fn save(&self, header_id: &str) -> Result<(), MeshError> {
        save(&self.tracker, self.store.as_deref(), header_id)
    }

    /// A snapshot of what is known about `header_id`.
    pub fn status(&self, header_id: &str) -> Option<TrackedMessage> {
        self.tracker().ok()?.get(header_id).cloned()
    }

    /// Stops tracking the messages that settled ([`TrackedMessage::is_settled`]: a business
    /// ack, a failure, or every ack asked for in) more than `keep` before `now`, and removes
    /// them from the store: without this the statuses grow with every message sent, and
    /// [`Self::with_store`] loads them all. Returns their MessageHeader ids.
    ///
    /// A response or report that arrives for a message after it was forgotten is ignored,
    /// so keep them longer than a late acknowledgement can take (days, not minutes). Messages
    /// still waiting (for an ack, or for the recipient's mailbox to download one that asked
    /// for none) are kept however old: their time-outs decide.
    ///
    /// # Errors
    /// [`MeshError::Store`]: nothing was forgotten.
    pub fn forget_settled(
        &self,
        keep: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, MeshError> {
        let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let cutoff = now
            .checked_sub_signed(keep)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        // The tracker stays locked while the store forgets, so a status saved by a poll in
        // between can neither bring a forgotten message back nor be lost.
        let mut tracker = self.tracker()?;
        let ids = tracker.settled_before(cutoff);
        if ids.is_empty() {
            return Ok(ids);
        }
        if let Some(store) = &self.store {
            store.forget_tracked(&ids)?;
        }
        for id in &ids {
            tracker.forget(id);
        }
        info!(forgotten = ids.len(), "settled ITK3 statuses forgotten");
        Ok(ids)
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
    /// The status is recorded (and stored, with [`Self::with_store`]) before the message
    /// enters the outbox, so a message can never be sent without being tracked.
    ///
    /// # Errors
    /// [`MeshError::Itk`] when it cannot be serialised; outbox errors. A send that fails
    /// retryably stays in the outbox (status `Sent`) for [`Outbox::deliver_pending`]; the
    /// next [`Self::poll`] picks up its outcome.
    pub async fn send(
        &self,
        message: &ItkMessage,
        now: DateTime<Utc>,
    ) -> Result<String, MeshError> {
        let body = message
            .to_json()
            .map_err(|e| MeshError::Itk(nhs_identifiers::redact::serde_error(&e.to_string())))?;
        let header_id = message.message_id.as_str().to_owned();
        let local_id = uuid::Uuid::new_v4().to_string();
        let envelope = Self::envelope(message).local_id(local_id.clone());
        envelope.validate()?;
        {
            let mut t = self.tracker()?;
            t.track(&header_id, &local_id, requested_acks(&message.bundle), now);
            t.sent(&header_id, now);
        }
        self.save(&header_id)?;
        if let Err(e) = self.outbox.enqueue(&envelope, body.into_bytes()) {
            self.tracker()?
                .failed(&header_id, "could not be stored in the outbox", now);
            self.save(&header_id)?;
            return Err(e);
        }
        match self.outbox.deliver(&local_id).await {
            Ok(id) => {
                self.tracker()?
                    .accepted(&header_id, id.as_str(), Utc::now().max(now));
                self.save(&header_id)?;
                info!(header_id = %header_id, mesh_id = %id, "ITK3 message accepted by MESH");
                Ok(header_id)
            }
            Err(e) => {
                if e.retry() == crate::Retry::Never {
                    self.tracker()?.failed(&header_id, &e.to_string(), now);
                    self.save(&header_id)?;
                }
                Err(e)
            }
        }
    }

    /// Polls for responses and reports, refreshes MESH tracking of messages not yet
    /// acknowledged by the recipient, and applies time-outs. Returns every status change in
    /// the order it happened.
    ///
    /// Messages still `Queued` or `Sent` (a send that failed retryably, or was under way at
    /// a restart) take their outcome from the outbox: accepted or failed there means the
    /// same here. This never sends: [`Outbox::deliver_pending`] does.
    ///
    /// # Errors
    /// MESH or store failures (what was already applied stays applied).
    pub async fn poll(&self, now: DateTime<Utc>) -> Result<Vec<StatusChange>, MeshError> {
        let mut changes = self.settle_from_outbox(now)?;
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
                    let header = tracker.header_for_mesh_id(&mesh_id).map(str::to_owned);
                    let change = tracker.on_tracking(&mesh_id, status, now);
                    drop(tracker);
                    if let (Some(header_id), Some(status)) = (header, change) {
                        self.save(&header_id)?;
                        changes.push(StatusChange { header_id, status });
                    }
                }
                Err(e) => warn!(error = %e, "MESH tracking failed; will try again"),
            }
        }
        let tracker = self.tracker.clone();
        let store = self.store.clone();
        let mut found = Vec::new();
        // The new status is stored before the poller marks the message handled: a crash in
        // between hands the message over again, and the tracker ignores a repeated status.
        self.acks
            .poll_once(|m: &StoredMessage| -> Result<(), String> {
                let change = {
                    let mut t = lock(&tracker).map_err(|e| e.to_string())?;
                    match &m.kind {
                        StoredKind::Report(r) => t.on_report(r, now),
                        StoredKind::Data(_) => match read_response(&m.body) {
                            Ok(resp) => t.on_response(&resp, now),
                            Err(e) => {
                                warn!(message_id = %m.message_id, error = %e, "not an ITK3 response; ignored");
                                None
                            }
                        },
                    }
                };
                if let Some((header_id, status)) = change {
                    save(&tracker, store.as_deref(), &header_id).map_err(|e| e.to_string())?;
                    found.push(StatusChange { header_id, status });
                }
                Ok(())
            })
            .await?;
        changes.extend(found);
        let overdue = self.tracker()?.check_timeouts(now, self.timeouts);
        for (header_id, status) in overdue {
            self.save(&header_id)?;
            changes.push(StatusChange { header_id, status });
        }
        Ok(changes)
    }

    /// Messages `Queued` or `Sent` here whose outbox entry is accepted or failed.
    fn settle_from_outbox(&self, now: DateTime<Utc>) -> Result<Vec<StatusChange>, MeshError> {
        let waiting: Vec<(String, String)> = self
            .tracker()?
            .all()
            .filter(|m| matches!(m.status, ItkStatus::Queued | ItkStatus::Sent))
            .map(|m| (m.header_id.clone(), m.local_id.clone()))
            .collect();
        let mut changes = Vec::new();
        for (header_id, local_id) in waiting {
            let Some(entry) = self.outbox.store().get(&local_id)? else {
                continue;
            };
            let change = match entry.state {
                OutboxState::Accepted { message_id } => {
                    self.tracker()?.accepted(&header_id, &message_id, now)
                }
                OutboxState::Failed { reason } => self.tracker()?.failed(&header_id, &reason, now),
                _ => None,
            };
            if let Some(status) = change {
                self.save(&header_id)?;
                changes.push(StatusChange { header_id, status });
            }
        }
        Ok(changes)
    }
}

fn lock(tracker: &Mutex<AckTracker>) -> Result<std::sync::MutexGuard<'_, AckTracker>, MeshError> {
    tracker
        .lock()
        .map_err(|_| MeshError::Store("tracker lock poisoned".into()))
}

fn save(
    tracker: &Mutex<AckTracker>,
    store: Option<&dyn AckStore>,
    header_id: &str,
) -> Result<(), MeshError> {
    let Some(store) = store else { return Ok(()) };
    let snapshot = lock(tracker)?.get(header_id).cloned();
    match snapshot {
        Some(m) => store.save_tracked(&m),
        None => Ok(()),
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

    #[test]
    fn the_receiver_answers_unreadable_messages_with_10009() {
        let r = ItkReceiver::new(Arc::new(crate::store::MemoryStore::new()));
        let d = r.decide(b"not fhir").unwrap();
        assert_eq!(d.infrastructure.code, ResponseCode::UnreadableMessage);
        assert!(!d.accept);
    }

    #[test]
    fn settled_statuses_are_forgotten_in_memory_and_in_the_store() {
        use chrono::TimeZone;
        use std::time::Duration;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mesh.sqlite");
        let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
        {
            let store = crate::SqliteStore::open(&path).unwrap();
            let mut t = AckTracker::new();
            t.track("old-failed", "L1", (true, true), t0);
            t.failed(
                "old-failed",
                "no infrastructure acknowledgement in time",
                t0,
            );
            t.track("waiting", "L2", (true, true), t0);
            t.accepted("waiting", "M2", t0);
            t.track("new-failed", "L3", (true, true), t0);
            t.failed(
                "new-failed",
                "negative infrastructure acknowledgement 20007",
                t0 + chrono::Duration::days(29),
            );
            for m in t.all() {
                store.save_tracked(m).unwrap();
            }
        }
        // Never contacted: forgetting is local.
        let start = || {
            let store = Arc::new(crate::SqliteStore::open(&path).unwrap());
            let creds = crate::Credentials::new(
                crate::MailboxId::new("X26ABC1").unwrap(),
                "password",
                "key",
            );
            let client =
                crate::MeshClient::new(crate::ClientConfig::new("http://127.0.0.1:9", creds))
                    .unwrap();
            ItkSender::with_store(
                Outbox::new(client.clone(), store.clone()),
                Poller::new(client, store.clone()),
                store,
            )
            .unwrap()
        };
        let sender = start();
        let now = t0 + chrono::Duration::days(31);
        let thirty_days = Duration::from_secs(30 * 24 * 3600);
        assert_eq!(
            sender.forget_settled(thirty_days, now).unwrap(),
            ["old-failed"]
        );
        assert!(sender.status("old-failed").is_none());
        assert!(sender.status("new-failed").is_some());
        assert!(sender.status("waiting").is_some());
        assert!(sender.forget_settled(thirty_days, now).unwrap().is_empty());
        // A restart loads only what is left.
        let again = start();
        assert!(again.status("old-failed").is_none());
        assert!(again.status("new-failed").is_some());
        // A keep too long to count back from now forgets nothing.
        assert!(again.forget_settled(Duration::MAX, now).unwrap().is_empty());
        assert_eq!(
            again.forget_settled(Duration::ZERO, now).unwrap(),
            ["new-failed"]
        );
        assert!(again.status("waiting").is_some());
    }
}
