//! Rules for the ITK3 message bundle: its profile and identifier, the MessageHeader and the
//! parties it names.

use nhs_identifiers::system as id_system;
use serde_json::Value;

use super::{Checker, Severity, arr, profiles, s};
use crate::codes::{MessageEvent, ResponseCode, profile, system};
use crate::ids::is_uuid;

impl Checker {
    pub(super) fn message(&mut self, raw: &Value) {
        if !profiles(raw).contains(&profile::ITK_MESSAGE_BUNDLE) {
            self.push(
                Severity::Error,
                "Bundle.meta.profile",
                "must include ITK-Message-Bundle-1",
                Some(ResponseCode::HeaderValidationFailure),
            );
        }
        self.identifier(raw, "Bundle", ResponseCode::HeaderValidationFailure);
        let entries = arr(raw, "entry");
        let Some(header) = entries
            .first()
            .and_then(|e| e.get("resource"))
            .filter(|r| s(r, "resourceType") == Some("MessageHeader"))
        else {
            self.push(
                Severity::Error,
                "Bundle.entry[0]",
                "the first entry must be the MessageHeader",
                Some(ResponseCode::HeaderValidationFailure),
            );
            return;
        };
        let hloc = "Bundle.entry[0].resource";
        if !profiles(header).contains(&profile::ITK_MESSAGE_HEADER) {
            self.push(
                Severity::Error,
                format!("{hloc}.meta.profile"),
                "must include ITK-MessageHeader-2",
                Some(ResponseCode::HeaderValidationFailure),
            );
        }
        let event = header.get("event");
        let event_code = event
            .and_then(|e| s(e, "code"))
            .map(MessageEvent::from_wire);
        match event {
            Some(e) => {
                if s(e, "system") != Some(system::ITK_MESSAGE_EVENT) {
                    self.push(
                        Severity::Error,
                        format!("{hloc}.event.system"),
                        "must be ITK-MessageEvent-2",
                        Some(ResponseCode::HandlingBusinessRuleError),
                    );
                }
                match &event_code {
                    Some(MessageEvent::Other(_)) | None => self.push(
                        Severity::Error,
                        format!("{hloc}.event.code"),
                        "not an ITK-MessageEvent-2 code",
                        Some(ResponseCode::HandlingBusinessRuleError),
                    ),
                    Some(code) => {
                        if s(e, "display") != Some(code.display()) {
                            self.push(
                                Severity::Warning,
                                format!("{hloc}.event.display"),
                                format!("expected `{}`", code.display()),
                                None,
                            );
                        }
                    }
                }
            }
            None => self.push(
                Severity::Error,
                format!("{hloc}.event"),
                "missing",
                Some(ResponseCode::HandlingBusinessRuleError),
            ),
        }
        let handling = self.handling(header, hloc, event_code.as_ref());
        if !arr(header, "destination").is_empty() {
            self.push(
                Severity::Error,
                format!("{hloc}.destination"),
                "must not be present (0..0; MESH routes the message)",
                Some(ResponseCode::HeaderValidationFailure),
            );
        }
        for forbidden in ["enterer", "author", "responsible", "reason"] {
            if header.get(forbidden).is_some() {
                self.push(
                    Severity::Error,
                    format!("{hloc}.{forbidden}"),
                    "must not be present (0..0 in ITK-MessageHeader-2)",
                    Some(ResponseCode::HeaderValidationFailure),
                );
            }
        }
        if s(header, "timestamp").is_none() {
            self.push(
                Severity::Error,
                format!("{hloc}.timestamp"),
                "missing",
                Some(ResponseCode::HeaderValidationFailure),
            );
        }
        match header.get("source").and_then(|src| s(src, "endpoint")) {
            Some(ep) if !ep.trim().is_empty() => {}
            _ => self.push(
                Severity::Error,
                format!("{hloc}.source.endpoint"),
                "missing (the sender's MESH mailbox id)",
                Some(ResponseCode::HeaderValidationFailure),
            ),
        }
        self.header_party(header, hloc, "sender", true);
        if header.get("receiver").is_some() {
            if event_code == Some(MessageEvent::GpConnectSendDocument) {
                self.push(
                    Severity::Error,
                    format!("{hloc}.receiver"),
                    "must not be present in Send Document (GPCM-SD-049; MESH routing is used)",
                    Some(ResponseCode::HandlingBusinessRuleError),
                );
            } else {
                self.header_party(header, hloc, "receiver", false);
            }
        }
        if event_code == Some(MessageEvent::Response) {
            self.response(header, hloc, handling.as_ref());
            return;
        }
        let focus = arr(header, "focus");
        let focus_ref = match focus {
            [one] => s(one, "reference"),
            [] => None,
            _ => {
                self.push(
                    Severity::Error,
                    format!("{hloc}.focus"),
                    "at most one focus (0..1 in ITK-MessageHeader-2)",
                    Some(ResponseCode::HeaderValidationFailure),
                );
                focus.first().and_then(|f| s(f, "reference"))
            }
        };
        let Some(focus_ref) = focus_ref else {
            self.push(
                Severity::Error,
                format!("{hloc}.focus"),
                "missing: the payload is referenced from focus",
                Some(ResponseCode::HeaderValidationFailure),
            );
            return;
        };
        let Some((doc, dloc)) = self.resolve(focus_ref).cloned() else {
            self.push(
                Severity::Error,
                format!("{hloc}.focus.reference"),
                "does not resolve to an entry in the message",
                Some(ResponseCode::HeaderValidationFailure),
            );
            return;
        };
        if s(&doc, "resourceType") != Some("Bundle") {
            self.push(
                Severity::Error,
                format!("{hloc}.focus.reference"),
                "must reference the document Bundle",
                Some(ResponseCode::PayloadValidationFailure),
            );
            return;
        }
        let message_identifier = raw.get("identifier").and_then(|i| s(i, "value"));
        let doc_identifier = doc.get("identifier").and_then(|i| s(i, "value"));
        if message_identifier.is_some() && message_identifier == doc_identifier {
            self.push(Severity::Warning, format!("{dloc}.identifier.value"), "same identifier as the message bundle; ITK3 duplicate checks (20007/20008) need distinct ones", None);
        }
        self.document(&doc, &dloc, event_code.as_ref());
    }

    pub(super) fn identifier(&mut self, res: &Value, loc: &str, code: ResponseCode) {
        match res.get("identifier").and_then(|i| s(i, "value")) {
            Some(v) if is_uuid(v) => {}
            Some(_) => self.push(
                Severity::Warning,
                format!("{loc}.identifier.value"),
                "not a UUID",
                None,
            ),
            None => self.push(
                Severity::Error,
                format!("{loc}.identifier"),
                "missing (1..1, a UUID)",
                Some(code),
            ),
        }
    }

    pub(super) fn header_party(&mut self, header: &Value, hloc: &str, field: &str, required: bool) {
        let floc = format!("{hloc}.{field}");
        let Some(reference) = header.get(field).and_then(|r| s(r, "reference")) else {
            if required {
                self.push(
                    Severity::Error,
                    floc,
                    "missing (1..1)",
                    Some(ResponseCode::HeaderValidationFailure),
                );
            }
            return;
        };
        let Some((res, rloc)) = self.resolve(reference).cloned() else {
            self.push(
                Severity::Error,
                format!("{floc}.reference"),
                "does not resolve to an entry in the message",
                Some(ResponseCode::HeaderValidationFailure),
            );
            return;
        };
        let ps = profiles(&res);
        let ok = match s(&res, "resourceType") {
            Some("Organization") => ps.contains(&profile::ITK_HEADER_ORGANIZATION),
            Some("Practitioner") => ps.contains(&profile::ITK_HEADER_PRACTITIONER),
            _ => false,
        };
        if !ok {
            self.push(
                Severity::Error,
                format!("{floc}.reference"),
                "must reference a CareConnect-ITK-Header-Organization-1 or -Practitioner-1",
                Some(ResponseCode::HeaderValidationFailure),
            );
        }
        if s(&res, "resourceType") == Some("Organization") {
            for forbidden in [
                "name",
                "telecom",
                "address",
                "type",
                "active",
                "partOf",
                "contact",
                "endpoint",
                "extension",
            ] {
                if res.get(forbidden).is_some() {
                    self.push(
                        Severity::Error,
                        format!("{rloc}.{forbidden}"),
                        "not allowed in the header Organization (identifiers only)",
                        Some(ResponseCode::HeaderValidationFailure),
                    );
                }
            }
            if !arr(&res, "identifier").iter().any(|i| {
                s(i, "system") == Some(id_system::ODS_ORGANIZATION_CODE)
                    || s(i, "system") == Some(id_system::ODS_SITE_CODE)
            }) {
                self.push(
                    Severity::Error,
                    format!("{rloc}.identifier"),
                    "needs an ODS organisation or site code",
                    Some(ResponseCode::UnrecognisedSender),
                );
            }
        }
    }
}
