//! The dashboard webhook, the hub sync request, and the transform from one to the other (the
//! work Power Automate does today, so it can also run in-process).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::audit_type::AuditType;
use crate::error::{AssuranceError, malformed_json};
use crate::ids::{AuditId, StaffMember, Ward};

/// Longest accepted `notes`, in characters.
pub const MAX_NOTES_LEN: usize = 4000;
/// Longest accepted `dashboardUrl`, in characters.
pub const MAX_URL_LEN: usize = 2048;

nhs_identifiers::open_enum! {
    /// The `eventType` of a dashboard webhook. Types a newer dashboard may send are kept in
    /// [`EventType::Other`] and are not synced.
    pub enum EventType {
        /// `AUDIT_COMPLETED`: an audit was completed and its hub task should be too.
        AuditCompleted = "AUDIT_COMPLETED",
    }
}

/// The hub sync request: what `POST /api/assurance/sync` receives (camelCase JSON). The
/// design's body has `"completedBy": "Sarah Johnson"` (a name); the dashboard's object is
/// accepted too:
///
/// ```json
/// {"auditType":"fridge_temps","ward":"Ward 7",
///  "completedBy":{"name":"Alex Example","email":"alex.example@nhs.test","staffId":"S10042"},
///  "completedAt":"2026-06-15T00:30:00+01:00","auditId":"AUD-2026-0001",
///  "values":{"fridgeTempC":4.2},"notes":"optional","dashboardUrl":"https://…"}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SyncRequest {
    /// Which audit was completed.
    pub audit_type: AuditType,
    /// The audit's ward.
    pub ward: Ward,
    /// Who completed it.
    pub completed_by: StaffMember,
    /// When, with the offset the dashboard sent (converted to a Europe/London date to match).
    pub completed_at: DateTime<FixedOffset>,
    /// The dashboard's audit id (idempotency key: one audit completes at most one task).
    pub audit_id: AuditId,
    /// The audit's recorded values, copied onto the task's completion.
    pub values: Map<String, Value>,
    /// Free-text notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Link to the completed audit on the dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
}

impl SyncRequest {
    /// A request with no values, notes or dashboard link.
    #[must_use]
    pub fn new(
        audit_type: AuditType,
        ward: Ward,
        completed_by: StaffMember,
        completed_at: DateTime<FixedOffset>,
        audit_id: AuditId,
    ) -> Self {
        Self {
            audit_type,
            ward,
            completed_by,
            completed_at,
            audit_id,
            values: Map::new(),
            notes: None,
            dashboard_url: None,
        }
    }

    /// Set the audit's values.
    #[must_use]
    pub fn with_values(mut self, values: Map<String, Value>) -> Self {
        self.values = values;
        self
    }

    /// Set the notes.
    #[must_use]
    pub fn with_notes(mut self, notes: impl Into<String>) -> Self {
        self.notes = Some(notes.into());
        self
    }

    /// Set the dashboard link.
    #[must_use]
    pub fn with_dashboard_url(mut self, url: impl Into<String>) -> Self {
        self.dashboard_url = Some(url.into());
        self
    }

    /// The JSON body (camelCase), as [`parse_sync_body`] reads it back. Serialising these
    /// types cannot fail (string keys only), so this returns the text directly.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parse the sync-request JSON shape only (not a dashboard webhook).
    ///
    /// # Errors
    /// [`AssuranceError::MalformedJson`] with line and column, [`AssuranceError::InvalidField`]
    /// with the field's path, [`AssuranceError::UnknownAuditType`].
    pub fn from_json(body: &[u8]) -> Result<Self, AssuranceError> {
        let wire: WireBody = parse_json(body)?;
        if wire.event_type.is_some() || wire.audit.is_some() {
            return Err(AssuranceError::InvalidField {
                field: "eventType".into(),
                reason: "a dashboard webhook, not a sync request".into(),
            });
        }
        wire.into_request()
    }
}

/// The dashboard's audit, inside a [`DashboardWebhook`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DashboardAudit {
    /// The dashboard's audit id.
    pub id: AuditId,
    /// The audit type (`type` on the wire; the dashboard sends its label or the hub code).
    #[serde(rename = "type")]
    pub audit_type: AuditType,
    /// The ward.
    pub ward: Ward,
    /// Who completed it.
    pub completed_by: StaffMember,
    /// When.
    pub completed_at: DateTime<FixedOffset>,
    /// Recorded values.
    pub values: Map<String, Value>,
    /// Free-text notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Link to the audit on the dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
}

/// The assurance dashboard's webhook:
///
/// ```json
/// {"eventType":"AUDIT_COMPLETED",
///  "audit":{"id":"AUD-2026-0001","type":"Fridge Temperature","ward":"Ward 7",
///           "completedBy":{"name":"Alex Example","email":"alex.example@nhs.test","staffId":"S10042"},
///           "completedAt":"2026-06-15T00:30:00+01:00","values":{"fridgeTempC":4.2},
///           "notes":"","dashboardUrl":"https://…"}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DashboardWebhook {
    /// The event type.
    pub event_type: EventType,
    /// The audit.
    pub audit: DashboardAudit,
}

impl DashboardWebhook {
    /// Parse a dashboard webhook body.
    ///
    /// # Errors
    /// As [`SyncRequest::from_json`]; a missing `eventType` or `audit` is
    /// [`AssuranceError::InvalidField`].
    pub fn from_json(body: &[u8]) -> Result<Self, AssuranceError> {
        let wire: WireBody = parse_json(body)?;
        wire.into_webhook()
    }

    /// The webhook as JSON, as [`DashboardWebhook::from_json`] reads it back.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The transform Power Automate does: the hub sync request for this audit.
    ///
    /// # Errors
    /// [`AssuranceError::UnsupportedEvent`] unless the event is `AUDIT_COMPLETED`.
    pub fn into_sync_request(self) -> Result<SyncRequest, AssuranceError> {
        if self.event_type != EventType::AuditCompleted {
            return Err(AssuranceError::UnsupportedEvent);
        }
        let audit = self.audit;
        Ok(SyncRequest {
            audit_type: audit.audit_type,
            ward: audit.ward,
            completed_by: audit.completed_by,
            completed_at: audit.completed_at,
            audit_id: audit.id,
            values: audit.values,
            notes: audit.notes,
            dashboard_url: audit.dashboard_url,
        })
    }
}

/// Parse what the sync endpoint receives: either the hub sync request or, when the body has an
/// `eventType` (or `audit`) member, the raw dashboard webhook, transformed in-process.
///
/// # Errors
/// [`AssuranceError::MalformedJson`] (with line and column), [`AssuranceError::InvalidField`]
/// (with the field's JSON path), [`AssuranceError::UnknownAuditType`],
/// [`AssuranceError::UnsupportedEvent`]. Never panics, whatever the bytes.
pub fn parse_sync_body(body: &[u8]) -> Result<SyncRequest, AssuranceError> {
    let wire: WireBody = parse_json(body)?;
    if wire.event_type.is_some() || wire.audit.is_some() {
        wire.into_webhook()?.into_sync_request()
    } else {
        wire.into_request()
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, AssuranceError> {
    serde_json::from_slice(body).map_err(|e| malformed_json(&e))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAudit {
    id: Option<String>,
    #[serde(rename = "type")]
    audit_type: Option<String>,
    ward: Option<String>,
    completed_by: Option<Value>,
    completed_at: Option<String>,
    values: Option<Value>,
    notes: Option<String>,
    dashboard_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBody {
    event_type: Option<String>,
    audit: Option<WireAudit>,
    audit_type: Option<String>,
    ward: Option<String>,
    completed_by: Option<Value>,
    completed_at: Option<String>,
    audit_id: Option<String>,
    values: Option<Value>,
    notes: Option<String>,
    dashboard_url: Option<String>,
}

fn missing(field: String) -> AssuranceError {
    AssuranceError::InvalidField {
        field,
        reason: "is required".into(),
    }
}

struct Fields<'a> {
    prefix: &'a str,
}

impl Fields<'_> {
    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn required<'v>(&self, name: &str, value: Option<&'v str>) -> Result<&'v str, AssuranceError> {
        value.ok_or_else(|| missing(self.path(name)))
    }

    /// `completedBy`: the design's sync body sends the name as a string
    /// (`"completedBy": "Sarah Johnson"`); the dashboard webhook sends
    /// `{"name", "email", "staffId"}` (name required, the others optional).
    fn staff(&self, staff: Option<Value>) -> Result<StaffMember, AssuranceError> {
        let text = |map: &Map<String, Value>, key: &str| match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AssuranceError::InvalidField {
                field: self.path(&format!("completedBy.{key}")),
                reason: "must be a string".into(),
            }),
        };
        let member = match staff {
            None | Some(Value::Null) => return Err(missing(self.path("completedBy"))),
            Some(Value::String(name)) => StaffMember::new(&name, None, None),
            Some(Value::Object(map)) => {
                let name = text(&map, "name")?;
                let name = self.required("completedBy.name", name.as_deref())?;
                let email = text(&map, "email")?;
                let staff_id = text(&map, "staffId")?;
                StaffMember::new(name, email.as_deref(), staff_id.as_deref())
            }
            Some(_) => {
                return Err(AssuranceError::InvalidField {
                    field: self.path("completedBy"),
                    reason: "must be a name or an object {name, email, staffId}".into(),
                });
            }
        };
        member.map_err(|e| self.prefixed(e))
    }

    fn prefixed(&self, error: AssuranceError) -> AssuranceError {
        match error {
            AssuranceError::InvalidField { field, reason } => AssuranceError::InvalidField {
                field: self.path(&field),
                reason,
            },
            other => other,
        }
    }

    fn completed_at(&self, value: Option<&str>) -> Result<DateTime<FixedOffset>, AssuranceError> {
        let text = self.required("completedAt", value)?;
        DateTime::parse_from_rfc3339(text.trim()).map_err(|_| AssuranceError::InvalidField {
            field: self.path("completedAt"),
            reason: "must be an RFC 3339 date-time with an offset, e.g. 2026-06-15T00:30:00+01:00"
                .into(),
        })
    }

    fn values(&self, value: Option<Value>) -> Result<Map<String, Value>, AssuranceError> {
        match value {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map),
            Some(_) => Err(AssuranceError::InvalidField {
                field: self.path("values"),
                reason: "must be a JSON object".into(),
            }),
        }
    }

    fn notes(&self, value: Option<String>) -> Result<Option<String>, AssuranceError> {
        match value {
            Some(notes) if notes.chars().count() > MAX_NOTES_LEN => {
                Err(AssuranceError::InvalidField {
                    field: self.path("notes"),
                    reason: format!("must be at most {MAX_NOTES_LEN} characters"),
                })
            }
            other => Ok(other),
        }
    }

    fn url(&self, value: Option<String>) -> Result<Option<String>, AssuranceError> {
        let Some(url) = value else { return Ok(None) };
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.chars().count() <= MAX_URL_LEN
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Some(url))
        } else {
            Err(AssuranceError::InvalidField {
                field: self.path("dashboardUrl"),
                reason: format!("must be an http(s) URL of at most {MAX_URL_LEN} characters"),
            })
        }
    }
}

impl WireBody {
    fn into_request(self) -> Result<SyncRequest, AssuranceError> {
        let f = Fields { prefix: "" };
        let audit_type: AuditType = f
            .required("auditType", self.audit_type.as_deref())?
            .parse()?;
        let ward = Ward::for_field("ward", f.required("ward", self.ward.as_deref())?)?;
        let completed_by = f.staff(self.completed_by)?;
        let completed_at = f.completed_at(self.completed_at.as_deref())?;
        let audit_id =
            AuditId::for_field("auditId", f.required("auditId", self.audit_id.as_deref())?)?;
        Ok(SyncRequest {
            audit_type,
            ward,
            completed_by,
            completed_at,
            audit_id,
            values: f.values(self.values)?,
            notes: f.notes(self.notes)?,
            dashboard_url: f.url(self.dashboard_url)?,
        })
    }

    fn into_webhook(self) -> Result<DashboardWebhook, AssuranceError> {
        let event_type = EventType::from_wire(
            Fields { prefix: "" }.required("eventType", self.event_type.as_deref())?,
        );
        let audit = self.audit.ok_or_else(|| missing("audit".into()))?;
        let f = Fields { prefix: "audit." };
        let id = AuditId::for_field("audit.id", f.required("id", audit.id.as_deref())?)?;
        let audit_type: AuditType = f.required("type", audit.audit_type.as_deref())?.parse()?;
        let ward = Ward::for_field("audit.ward", f.required("ward", audit.ward.as_deref())?)?;
        let completed_by = f.staff(audit.completed_by)?;
        let completed_at = f.completed_at(audit.completed_at.as_deref())?;
        Ok(DashboardWebhook {
            event_type,
            audit: DashboardAudit {
                id,
                audit_type,
                ward,
                completed_by,
                completed_at,
                values: f.values(audit.values)?,
                notes: f.notes(audit.notes)?,
                dashboard_url: f.url(audit.dashboard_url)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TaskFile;

    #[test]
    fn unknown_event_types_are_kept_but_not_shown() {
        let other = EventType::from_wire("AUDIT_DELETED");
        assert!(matches!(other, EventType::Other(_)));
        assert_eq!(other.as_str(), "AUDIT_DELETED");
        assert!(!format!("{other:?}").contains("AUDIT_DELETED"));
        assert_eq!(
            EventType::from_wire("AUDIT_COMPLETED"),
            EventType::AuditCompleted
        );
    }

    const WEBHOOK: &str = r#"{
      "eventType": "AUDIT_COMPLETED",
      "audit": {
        "id": "AUD-2026-0001",
        "type": "Fridge Temperature",
        "ward": "Ward 7",
        "completedBy": {"name": "Alex Example", "email": "alex.example@nhs.test", "staffId": "S10042"},
        "completedAt": "2026-06-15T00:30:00+01:00",
        "values": {"fridgeTempC": 4.2, "inRange": true},
        "notes": "Door seal checked",
        "dashboardUrl": "https://assurance.example.nhs.test/audits/AUD-2026-0001"
      }
    }"#;

    #[test]
    fn webhook_transforms_to_sync_request() {
        let hook = DashboardWebhook::from_json(WEBHOOK.as_bytes()).unwrap();
        assert_eq!(hook.event_type, EventType::AuditCompleted);
        let request = hook.clone().into_sync_request().unwrap();
        assert_eq!(request.audit_type, AuditType::FridgeTemperatures);
        assert_eq!(request.audit_id.as_str(), "AUD-2026-0001");
        insta::assert_json_snapshot!("sync_request_from_webhook", request);
        // The endpoint accepts either shape and they agree.
        assert_eq!(parse_sync_body(WEBHOOK.as_bytes()).unwrap(), request);
        let encoded = serde_json::to_vec(&request).unwrap();
        assert_eq!(parse_sync_body(&encoded).unwrap(), request);
        assert_eq!(SyncRequest::from_json(&encoded).unwrap(), request);
        // The webhook re-encodes and re-parses equal.
        let hook_json = serde_json::to_vec(&hook).unwrap();
        assert_eq!(DashboardWebhook::from_json(&hook_json).unwrap(), hook);
    }

    /// The integration design's own request body, byte for byte: `completedBy` is a name.
    #[test]
    fn the_designs_sync_body_parses() {
        let body = br#"{
  "auditType": "fridge_temps",
  "ward": "Byron",
  "completedBy": "Sarah Johnson",
  "completedAt": "2026-01-27T08:14:32Z",
  "auditId": "audit-12345",
  "values": {
    "currentTemp": 4.2,
    "inRange": true
  }
}"#;
        let request = parse_sync_body(body).unwrap();
        assert_eq!(request.completed_by.name, "Sarah Johnson");
        assert!(request.completed_by.staff_id.is_none());
        assert_eq!(request.ward.as_str(), "Byron");
        assert_eq!(
            SyncRequest::from_json(request.to_json().as_bytes()).unwrap(),
            request
        );
        for bad in ["7", "true", "[]"] {
            let body = String::from_utf8_lossy(body).replace(r#""Sarah Johnson""#, bad);
            let err = parse_sync_body(body.as_bytes()).unwrap_err();
            assert_eq!(
                err.to_string(),
                "field `completedBy` is invalid: must be a name or an object {name, email, staffId}"
            );
        }
    }

    #[test]
    fn other_events_are_not_synced() {
        let body = WEBHOOK.replace("AUDIT_COMPLETED", "AUDIT_REOPENED");
        let err = parse_sync_body(body.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED_EVENT");
    }

    #[test]
    fn errors_name_what_and_where() {
        let cases: &[(&str, &str)] = &[
            ("{", "MALFORMED_JSON"),
            ("[]", "MALFORMED_JSON"),
            (r#"{"ward": 7}"#, "MALFORMED_JSON"),
            (r#"{"auditType":"hand_hygiene"}"#, "UNKNOWN_AUDIT_TYPE"),
            (r#"{"auditType":"fridge_temps"}"#, "INVALID_FIELD"),
            ("", "MALFORMED_JSON"),
        ];
        for (body, code) in cases {
            let err = parse_sync_body(body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), *code, "{body}: {err}");
        }
        let err = parse_sync_body(br#"{"auditType":"fridge_temps"}"#).unwrap_err();
        assert_eq!(err.to_string(), "field `ward` is invalid: is required");
        let body = WEBHOOK.replace("2026-06-15T00:30:00+01:00", "2026-06-15 00:30");
        let err = parse_sync_body(body.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("audit.completedAt"), "{err}");
        let body = WEBHOOK.replace("\"S10042\"", "7");
        let err = parse_sync_body(body.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("audit.completedBy.staffId"),
            "{err}"
        );
        let err = parse_sync_body(b"{\n  \"ward\": }").unwrap_err();
        assert!(
            matches!(err, AssuranceError::MalformedJson { line: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn error_text_never_repeats_names() {
        let body = WEBHOOK.replace("alex.example@nhs.test", "alex example");
        let err = parse_sync_body(body.as_bytes()).unwrap_err();
        assert!(!err.to_string().contains("alex"), "{err}");
        // A name where an object belongs: the JSON parser's reason would quote it.
        for body in [
            WEBHOOK.replace(
                r#"{"name": "Alex Example", "email": "alex.example@nhs.test", "staffId": "S10042"}"#,
                r#"["Alex Example"]"#,
            ),
            WEBHOOK.replace(r#""S10042""#, "9990000018"),
            r#""Alex Example""#.to_owned(),
            r#"{"audit": "Alex \"Example\"", "eventType": "AUDIT_COMPLETED"}"#.to_owned(),
        ] {
            let err = parse_sync_body(body.as_bytes()).unwrap_err();
            assert!(
                ["MALFORMED_JSON", "INVALID_FIELD"].contains(&err.code()),
                "{err}"
            );
            assert!(!err.to_string().contains("Alex"), "{err}");
            assert!(!err.to_string().contains("9990000018"), "{err}");
            assert!(!err.to_string().contains("Example"), "{err}");
            let err = TaskFile::from_json(body.as_bytes()).unwrap_err();
            assert!(!err.to_string().contains("Alex"), "{err}");
        }
    }
}
