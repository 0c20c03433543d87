//! Sans-IO parsers for what MESH sends back: inbox pages, tracking, lookups, send answers,
//! error bodies and the `mex-*` headers of a download (DATA or REPORT).
//!
//! Every parser takes untrusted bytes and returns a typed error naming what was wrong, never
//! panics, and never puts received values into error text. [`fuzz_entry`] runs them all
//! (the cargo-fuzz target `mesh_parse` and a proptest call it).

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::Value;

use crate::error::MeshError;
use crate::types::{MailboxId, MessageId, mask_address};

fn malformed(operation: &'static str, detail: impl Into<String>) -> MeshError {
    MeshError::Malformed {
        operation,
        detail: detail.into(),
    }
}

fn json(operation: &'static str, body: &[u8]) -> Result<Value, MeshError> {
    serde_json::from_slice(body).map_err(|e| {
        malformed(
            operation,
            nhs_identifiers::redact::serde_error(&e.to_string()),
        )
    })
}

fn opt_str(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.get(*k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// One page of `GET /inbox`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxPage {
    /// Ids of messages ready to download.
    pub messages: Vec<MessageId>,
    /// `links.next`: a path relative to the base URL, when more pages follow.
    pub next: Option<String>,
    /// `approx_inbox_count` (eventually consistent).
    pub approx_inbox_count: Option<u64>,
}

/// Parses an inbox page (v2 `{"messages":[..],"links":{"next"}}`; v1 `{"messages":[..]}`).
///
/// # Errors
/// [`MeshError::Malformed`] for bad JSON, a missing `messages` array, an id that is not a
/// string of MESH id characters, or a `links.next` that is not a relative path.
pub fn parse_inbox(body: &[u8]) -> Result<InboxPage, MeshError> {
    const OP: &str = "inbox";
    let v = json(OP, body)?;
    let list = v
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(OP, "no messages array"))?;
    let mut messages = Vec::with_capacity(list.len());
    for (i, id) in list.iter().enumerate() {
        let s = id
            .as_str()
            .ok_or_else(|| malformed(OP, format!("messages[{i}] is not a string")))?;
        messages.push(
            MessageId::new(s)
                .map_err(|_| malformed(OP, format!("messages[{i}] is not a MESH id")))?,
        );
    }
    let next = match v.get("links").and_then(|l| l.get("next")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(relative_link(s)?),
        Some(_) => return Err(malformed(OP, "links.next is not a string")),
    };
    let approx_inbox_count = v.get("approx_inbox_count").and_then(Value::as_u64);
    Ok(InboxPage {
        messages,
        next,
        approx_inbox_count,
    })
}

/// Checks that a `links.next` value is a relative path under `/messageexchange/` (so a
/// hostile server cannot point the client at another host with our credentials).
fn relative_link(s: &str) -> Result<String, MeshError> {
    if !s.starts_with("/messageexchange/")
        || s.contains("..")
        || s.contains("//")
        || s.chars().any(|c| c.is_control() || c.is_whitespace())
        || s.len() > 2000
    {
        return Err(malformed(
            "inbox",
            "links.next is not a relative /messageexchange/ path",
        ));
    }
    Ok(s.to_owned())
}

/// Tracking status (lower case on the wire); unknown values are kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackingStatus {
    /// A chunked upload has not received its last chunk.
    Uploading,
    /// In the recipient's inbox.
    Accepted,
    /// The recipient acknowledged (downloaded) it.
    Acknowledged,
    /// Not collected in time, or could not be delivered.
    Undeliverable,
    /// Failed.
    Error,
    /// A value this crate does not know.
    Other(String),
}

impl TrackingStatus {
    /// Parses a status, case-insensitively.
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "uploading" => Self::Uploading,
            "accepted" => Self::Accepted,
            "acknowledged" => Self::Acknowledged,
            "undeliverable" => Self::Undeliverable,
            "error" => Self::Error,
            _ => Self::Other(s.to_owned()),
        }
    }
}

/// What tracking says about a message we sent (v2 fields; the v1 body of tracking by local
/// id is mapped onto the same struct).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tracking {
    /// The message id.
    pub message_id: MessageId,
    /// `mex-LocalID` as sent.
    pub local_id: Option<String>,
    /// Workflow id.
    pub workflow_id: Option<String>,
    /// Recipient mailbox.
    pub recipient: Option<String>,
    /// Status.
    pub status: Option<TrackingStatus>,
    /// `status_success` (v1 `SUCCESS`/`ERROR` mapped to a bool).
    pub status_success: Option<bool>,
    /// Status code (`00`, `14`, ...).
    pub status_code: Option<String>,
    /// Status event.
    pub status_event: Option<String>,
    /// Status description.
    pub status_description: Option<String>,
    /// When the status last changed.
    pub status_timestamp: Option<NaiveDateTime>,
    /// When the message was accepted.
    pub upload_timestamp: Option<NaiveDateTime>,
    /// When it expires from the inbox.
    pub expiry_time: Option<NaiveDateTime>,
}

impl fmt::Debug for Tracking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracking")
            .field("message_id", &self.message_id)
            .field("local_id", &self.local_id)
            .field("workflow_id", &self.workflow_id)
            .field("recipient", &self.recipient.as_deref().map(mask_address))
            .field("status", &self.status)
            .field("status_success", &self.status_success)
            .field("status_code", &self.status_code)
            .finish_non_exhaustive()
    }
}

/// Parses a MESH timestamp: `yyyyMMddHHmmss`, or ISO 8601 with or without fraction and zone
/// (the zone is dropped: MESH times are UTC).
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok();
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.naive_utc());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Parses a tracking body, v2 (`message_id`, `status`, ...) or v1 (`messageId`, ...).
///
/// # Errors
/// [`MeshError::Malformed`] for bad JSON or a missing/invalid message id.
pub fn parse_tracking(body: &[u8]) -> Result<Tracking, MeshError> {
    const OP: &str = "tracking";
    let v = json(OP, body)?;
    if !v.is_object() {
        return Err(malformed(OP, "not a JSON object"));
    }
    let id = opt_str(&v, &["message_id", "messageId", "messageID"])
        .ok_or_else(|| malformed(OP, "no message_id"))?;
    let message_id =
        MessageId::new(&id).map_err(|_| malformed(OP, "message_id is not a MESH id"))?;
    let status_success = match v.get("status_success").or_else(|| v.get("statusSuccess")) {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => match s.to_ascii_uppercase().as_str() {
            "SUCCESS" | "TRUE" => Some(true),
            "ERROR" | "FALSE" => Some(false),
            _ => None,
        },
        _ => None,
    };
    let ts = |keys: &[&str]| opt_str(&v, keys).as_deref().and_then(parse_timestamp);
    Ok(Tracking {
        message_id,
        local_id: opt_str(&v, &["local_id", "localId"]),
        workflow_id: opt_str(&v, &["workflow_id", "workflowId"]),
        recipient: opt_str(&v, &["recipient"]),
        status: opt_str(&v, &["status"]).map(|s| TrackingStatus::parse(&s)),
        status_success,
        status_code: opt_str(&v, &["status_code", "statusCode"]),
        status_event: opt_str(&v, &["status_event", "statusEvent"]),
        status_description: opt_str(&v, &["status_description", "statusDescription"])
            .map(|d| nhs_identifiers::scan::redact(&d)),
        status_timestamp: ts(&["status_timestamp", "statusTimestamp"]),
        upload_timestamp: ts(&["upload_timestamp", "uploadTimestamp"]),
        expiry_time: ts(&["expiry_time", "expiryTime"]),
    })
}

/// A mailbox found by endpoint lookup or workflow search.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailboxInfo {
    /// The mailbox id.
    pub mailbox_id: MailboxId,
    /// Its name.
    pub mailbox_name: Option<String>,
}

/// Parses a lookup / workflow search body (v2 `results[].mailbox_id`, v1 `results[].address`).
///
/// # Errors
/// [`MeshError::Malformed`] for bad JSON, no `results` array or an invalid mailbox id.
pub fn parse_lookup(body: &[u8]) -> Result<Vec<MailboxInfo>, MeshError> {
    const OP: &str = "lookup";
    let v = json(OP, body)?;
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(OP, "no results array"))?;
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = opt_str(r, &["mailbox_id", "address"])
                .ok_or_else(|| malformed(OP, format!("results[{i}] has no mailbox id")))?;
            Ok(MailboxInfo {
                mailbox_id: MailboxId::new(&id)
                    .map_err(|_| malformed(OP, format!("results[{i}] mailbox id is invalid")))?,
                mailbox_name: opt_str(r, &["mailbox_name", "description"]),
            })
        })
        .collect()
}

/// Parses the answer to a send (`{"message_id"}` v2, `{"messageID"}` v1).
///
/// # Errors
/// [`MeshError::Malformed`] for bad JSON or no valid id.
pub fn parse_send_response(body: &[u8]) -> Result<MessageId, MeshError> {
    const OP: &str = "send";
    let v = json(OP, body)?;
    let id = opt_str(&v, &["message_id", "messageID", "messageId"])
        .ok_or_else(|| malformed(OP, "no message_id"))?;
    MessageId::new(&id).map_err(|_| malformed(OP, "message_id is not a MESH id"))
}

/// MESH's error code and description from an error body (v2 `detail[]`, v1 `errorCode`,
/// FastAPI `detail[].msg`, `message`), NHS numbers masked. Never fails: unknown bodies give
/// `(None, None)`.
pub fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(Deserialize)]
    struct Any {
        #[serde(default)]
        detail: Option<Value>,
        #[serde(default, rename = "errorCode")]
        error_code: Option<Value>,
        #[serde(default, rename = "errorDescription")]
        error_description: Option<String>,
        #[serde(default)]
        message: Option<String>,
    }
    let Ok(any) = serde_json::from_slice::<Any>(body) else {
        return (None, None);
    };
    let clip = |s: String| {
        let s: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
        nhs_identifiers::scan::redact(&s)
    };
    let as_code = |v: &Value| match v {
        Value::String(s) => Some(clip(s.clone())),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(Value::Array(items)) = &any.detail
        && let Some(first) = items.first()
    {
        let code = first.get("code").and_then(as_code);
        let msg = first
            .get("msg")
            .and_then(Value::as_str)
            .map(|s| clip(s.to_owned()));
        return (code, msg);
    }
    if let Some(Value::String(s)) = &any.detail {
        return (None, Some(clip(s.clone())));
    }
    (
        any.error_code.as_ref().and_then(as_code),
        any.error_description.or(any.message).map(clip),
    )
}

/// `mex-Chunk-Range` `k:n` (1 ≤ k ≤ n). The sandbox sends `1:0` for REPORTs: that parses as
/// `(1, 0)` and callers treat `n = 0` as one chunk.
///
/// # Errors
/// [`MeshError::Malformed`] when it is not two numbers or `k` is out of range.
pub fn parse_chunk_range(s: &str) -> Result<(u32, u32), MeshError> {
    let bad = || malformed("download", "mex-Chunk-Range is not k:n");
    let (k, n) = s.trim().split_once(':').ok_or_else(bad)?;
    let k: u32 = k.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || (n != 0 && k > n) || (n == 0 && k != 1) {
        return Err(bad());
    }
    Ok((k, n))
}

/// A `Retry-After` value as a wait from `now`: delta-seconds (`120`) or an HTTP date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`; a date in the past is no wait). `None` when it is
/// neither, or absurdly far (more than a day: treated as not said).
pub fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<std::time::Duration> {
    const DAY: u64 = 24 * 60 * 60;
    let v = value.trim();
    if !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = v.parse().ok()?;
        return (secs <= DAY).then(|| std::time::Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - now;
    let wait = wait.to_std().unwrap_or(std::time::Duration::ZERO);
    (wait.as_secs() <= DAY).then_some(wait)
}

/// `mex-MessageType`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[non_exhaustive]
pub enum MessageType {
    /// An ordinary message.
    Data,
    /// A report from MESH itself (for example a non-delivery report).
    Report,
    /// A type this crate does not know.
    Other(String),
}

/// The `mex-*` headers of a downloaded message.
///
/// `Debug` masks the sender/recipient addresses and shows only the lengths of subject and file
/// name.
#[derive(Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// `mex-MessageID`.
    pub message_id: Option<MessageId>,
    /// `mex-MessageType` (DATA when absent).
    pub message_type: MessageType,
    /// `mex-From` (absent on sandbox REPORTs).
    pub from: Option<String>,
    /// `mex-To`.
    pub to: Option<String>,
    /// `mex-WorkflowID`.
    pub workflow_id: Option<String>,
    /// `mex-LocalID`.
    pub local_id: Option<String>,
    /// `mex-Subject`.
    pub subject: Option<String>,
    /// `mex-FileName`.
    pub file_name: Option<String>,
    /// `mex-Content-Type`.
    pub content_type: Option<String>,
    /// `mex-PartnerID`.
    pub partner_id: Option<String>,
    /// `mex-Content-Checksum`.
    pub checksum: Option<String>,
    /// `mex-Chunk-Range` as `(k, n)`.
    pub chunk_range: Option<(u32, u32)>,
    /// `mex-Total-Chunks` (sandbox).
    pub total_chunks: Option<u32>,
    /// `mex-LinkedMsgID` (REPORTs: the original message).
    pub linked_message_id: Option<String>,
    /// `mex-StatusCode`.
    pub status_code: Option<String>,
    /// `mex-StatusEvent`.
    pub status_event: Option<String>,
    /// `mex-StatusDescription` (NHS numbers masked).
    pub status_description: Option<String>,
    /// `mex-StatusSuccess` (`SUCCESS` → true, `ERROR` → false).
    pub status_success: Option<bool>,
    /// `mex-StatusTimestamp`.
    pub status_timestamp: Option<NaiveDateTime>,
    /// `Content-Encoding` of this response.
    pub content_encoding: Option<String>,
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metadata")
            .field("message_id", &self.message_id)
            .field("message_type", &self.message_type)
            .field("from", &self.from.as_deref().map(mask_address))
            .field("to", &self.to.as_deref().map(mask_address))
            .field("workflow_id", &self.workflow_id)
            .field("local_id", &self.local_id)
            .field("subject_len", &self.subject.as_ref().map(String::len))
            .field("file_name_len", &self.file_name.as_ref().map(String::len))
            .field("chunk_range", &self.chunk_range)
            .field("linked_message_id", &self.linked_message_id)
            .field("status_code", &self.status_code)
            .finish_non_exhaustive()
    }
}

impl Metadata {
    /// Reads the headers of a download. Header names are compared case-insensitively; values
    /// that are not valid are errors only where the client depends on them (message id,
    /// chunk range).
    ///
    /// # Errors
    /// [`MeshError::Malformed`] for an invalid `mex-MessageID`, `mex-Chunk-Range` or
    /// `mex-Total-Chunks`.
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, MeshError> {
        let mut m = Metadata {
            message_id: None,
            message_type: MessageType::Data,
            from: None,
            to: None,
            workflow_id: None,
            local_id: None,
            subject: None,
            file_name: None,
            content_type: None,
            partner_id: None,
            checksum: None,
            chunk_range: None,
            total_chunks: None,
            linked_message_id: None,
            status_code: None,
            status_event: None,
            status_description: None,
            status_success: None,
            status_timestamp: None,
            content_encoding: None,
        };
        for (name, value) in headers {
            let value = value.trim();
            let s = || (!value.is_empty()).then(|| value.to_owned());
            match name.to_ascii_lowercase().as_str() {
                "mex-messageid" => {
                    m.message_id =
                        Some(MessageId::new(value).map_err(|_| {
                            malformed("download", "mex-MessageID is not a MESH id")
                        })?);
                }
                "mex-messagetype" => {
                    m.message_type = match value.to_ascii_uppercase().as_str() {
                        "DATA" => MessageType::Data,
                        "REPORT" => MessageType::Report,
                        _ => MessageType::Other(value.to_owned()),
                    };
                }
                "mex-from" => m.from = s(),
                "mex-to" => m.to = s(),
                "mex-workflowid" => m.workflow_id = s(),
                "mex-localid" => m.local_id = s(),
                "mex-subject" => m.subject = s(),
                "mex-filename" => m.file_name = s(),
                "mex-content-type" => m.content_type = s(),
                "mex-partnerid" => m.partner_id = s(),
                "mex-content-checksum" => m.checksum = s(),
                "mex-chunk-range" if !value.is_empty() => {
                    m.chunk_range = Some(parse_chunk_range(value)?);
                }
                "mex-total-chunks" if !value.is_empty() => {
                    m.total_chunks =
                        Some(value.parse().map_err(|_| {
                            malformed("download", "mex-Total-Chunks is not a number")
                        })?);
                }
                "mex-linkedmsgid" => m.linked_message_id = s(),
                "mex-statuscode" => m.status_code = s(),
                "mex-statusevent" => m.status_event = s(),
                "mex-statusdescription" => {
                    m.status_description = s().map(|d| nhs_identifiers::scan::redact(&d));
                }
                "mex-statussuccess" => {
                    m.status_success = match value.to_ascii_uppercase().as_str() {
                        "SUCCESS" => Some(true),
                        "ERROR" => Some(false),
                        _ => None,
                    };
                }
                "mex-statustimestamp" => m.status_timestamp = parse_timestamp(value),
                "content-encoding" => m.content_encoding = s(),
                _ => {}
            }
        }
        Ok(m)
    }

    /// Number of chunks the message has (at least 1).
    pub fn chunk_count(&self) -> u32 {
        match (self.chunk_range, self.total_chunks) {
            (Some((_, n)), _) if n > 0 => n,
            (_, Some(t)) if t > 0 => t,
            _ => 1,
        }
    }
}

/// A REPORT message (for example a non-delivery report, code 14).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// The report's own id (acknowledge it like any message).
    pub message_id: MessageId,
    /// The message the report is about (`mex-LinkedMsgID`).
    pub linked_message_id: Option<String>,
    /// The workflow of the original message.
    pub workflow_id: Option<String>,
    /// `mex-LocalID` of the original message.
    pub local_id: Option<String>,
    /// `mex-StatusCode` (`14`: not collected).
    pub status_code: Option<String>,
    /// `mex-StatusEvent`.
    pub status_event: Option<String>,
    /// `mex-StatusDescription` (NHS numbers masked).
    pub status_description: Option<String>,
    /// `mex-StatusSuccess`.
    pub status_success: Option<bool>,
}

impl Report {
    /// The report carried by `metadata`, if it is one.
    ///
    /// # Errors
    /// [`MeshError::Malformed`] when a REPORT has no message id.
    pub fn from_metadata(metadata: &Metadata) -> Result<Option<Report>, MeshError> {
        if metadata.message_type != MessageType::Report {
            return Ok(None);
        }
        let message_id = metadata
            .message_id
            .clone()
            .ok_or_else(|| malformed("download", "REPORT without mex-MessageID"))?;
        Ok(Some(Report {
            message_id,
            linked_message_id: metadata.linked_message_id.clone(),
            workflow_id: metadata.workflow_id.clone(),
            local_id: metadata.local_id.clone(),
            status_code: metadata.status_code.clone(),
            status_event: metadata.status_event.clone(),
            status_description: metadata.status_description.clone(),
            status_success: metadata.status_success,
        }))
    }
}

/// Runs every parser of this module over `data` (fuzzing entry point). The first line picks
/// nothing; the data is tried as inbox, tracking, lookup, send and error JSON, and as
/// `name: value` header lines (a REPORT when it says so).
pub fn fuzz_entry(data: &[u8]) {
    let _ = parse_inbox(data);
    let _ = parse_tracking(data);
    let _ = parse_lookup(data);
    let _ = parse_send_response(data);
    let _ = parse_error_body(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_chunk_range(text);
        let _ = parse_timestamp(text);
        let _ = parse_retry_after(text, chrono::DateTime::UNIX_EPOCH);
        let headers: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim(), v))
            .collect();
        if let Ok(m) = Metadata::from_headers(headers) {
            let _ = m.chunk_count();
            let _ = Report::from_metadata(&m);
            let _ = format!("{m:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn inbox_v2_with_a_relative_next_link() {
        let p = parse_inbox(
            br#"{"messages":["A1","B2"],"links":{"self":"/messageexchange/X26ABC1/inbox","next":"/messageexchange/X26ABC1/inbox?continue_from=abc"},"approx_inbox_count":600}"#,
        )
        .unwrap();
        assert_eq!(p.messages.len(), 2);
        assert_eq!(
            p.next.as_deref(),
            Some("/messageexchange/X26ABC1/inbox?continue_from=abc")
        );
        assert_eq!(p.approx_inbox_count, Some(600));
        assert!(
            parse_inbox(br#"{"messages":["A"],"links":{"next":"https://evil.example/x"}}"#)
                .is_err()
        );
        assert!(parse_inbox(br#"{"messages":[1]}"#).is_err());
        assert!(parse_inbox(br#"{"messages":["../x"]}"#).is_err());
        assert!(parse_inbox(b"[").is_err());
    }

    #[test]
    fn tracking_v2_and_v1() {
        let t = parse_tracking(br#"{"message_id":"ABC","local_id":"l1","status":"Accepted","status_success":true,"upload_timestamp":"2026-11-30T03:13:00.123","status_timestamp":"20200606122153"}"#).unwrap();
        assert_eq!(t.status, Some(TrackingStatus::Accepted));
        assert_eq!(t.status_success, Some(true));
        assert!(t.upload_timestamp.is_some() && t.status_timestamp.is_some());
        let t = parse_tracking(
            br#"{"messageId":"ABC","localId":"l1","status":"uploading","statusSuccess":"SUCCESS"}"#,
        )
        .unwrap();
        assert_eq!(t.status, Some(TrackingStatus::Uploading));
        assert_eq!(t.local_id.as_deref(), Some("l1"));
        assert!(parse_tracking(br#"{"status":"accepted"}"#).is_err());
        assert_eq!(
            TrackingStatus::parse("later"),
            TrackingStatus::Other("later".into())
        );
    }

    #[test]
    fn lookup_both_versions() {
        let v2 =
            parse_lookup(br#"{"results":[{"mailbox_id":"X26ABC1","mailbox_name":"TESTMB1"}]}"#)
                .unwrap();
        assert_eq!(v2[0].mailbox_id.as_str(), "X26ABC1");
        let v1 = parse_lookup(br#"{"query_id":"q","results":[{"address":"X26ABC2","description":"d","endpoint_type":"MESH"}]}"#).unwrap();
        assert_eq!(v1[0].mailbox_id.as_str(), "X26ABC2");
    }

    #[test]
    fn error_bodies_never_quote_an_nhs_number() {
        let n = nhs_identifiers::NhsNumber::fictitious(2);
        let body = format!(
            r#"{{"detail":[{{"event":"SEND","code":"12","msg":"bad {}"}}]}}"#,
            n.expose()
        );
        let (code, msg) = parse_error_body(body.as_bytes());
        assert_eq!(code.as_deref(), Some("12"));
        assert!(!msg.unwrap().contains(n.expose().as_str()));
        let (c, d) = parse_error_body(br#"{"errorCode":"06","errorDescription":"x"}"#);
        assert_eq!((c.as_deref(), d.as_deref()), (Some("06"), Some("x")));
        assert_eq!(parse_error_body(b"<html>"), (None, None));
    }

    #[test]
    fn report_headers() {
        let m = Metadata::from_headers([
            ("mex-MessageID", "R1"),
            ("mex-messagetype", "REPORT"),
            ("mex-linkedmsgid", "ORIG"),
            ("mex-statuscode", "14"),
            ("mex-statussuccess", "ERROR"),
            ("mex-chunk-range", "1:0"),
            ("mex-statustimestamp", "20200606122153"),
        ])
        .unwrap();
        assert_eq!(m.chunk_count(), 1);
        let r = Report::from_metadata(&m).unwrap().unwrap();
        assert_eq!(r.linked_message_id.as_deref(), Some("ORIG"));
        assert_eq!(r.status_success, Some(false));
        assert!(Metadata::from_headers([("mex-chunk-range", "3:2")]).is_err());
        assert!(Metadata::from_headers([("mex-chunk-range", "0:2")]).is_err());
        assert!(Metadata::from_headers([("mex-chunk-range", "x")]).is_err());
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        use std::time::Duration;
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Mon, 30 Nov 2026 08:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        // In the past: no wait.
        assert_eq!(
            parse_retry_after("Mon, 30 Nov 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "99999999999",
            "200000",
            "Tue, 01 Dec 2026 09:00:01 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            fuzz_entry(&data);
        }

        #[test]
        fn parsers_never_panic_on_json_like_text(s in r#"[{}\[\]":,a-z_0-9 \n-]{0,200}"#) {
            fuzz_entry(s.as_bytes());
            let headers = format!("mex-messagetype: REPORT\nmex-chunk-range: {s}\nmex-messageid: {s}");
            fuzz_entry(headers.as_bytes());
        }
    }
}
