//! Validation of ITK3 message bundles (ours or anyone's) against the rules the NHS profiles and
//! guides state, reporting findings rather than stopping at the first problem.
//!
//! Checks run on the raw FHIR JSON, so a bundle `fhir-model` cannot read is still checked as far
//! as possible; the input is also read with `fhir-model` to report properties it would drop.
//! A document bundle without its ITK3 envelope (as in most public examples) is checked as a
//! document, with a note that the envelope is missing.

mod coded;
mod unknown;

use std::collections::{HashMap, HashSet};
use std::fmt;

use fhir_model::stu3::resources::{Bundle, Resource};
use nhs_identifiers::{NhsNumber, system as id_system};
use serde_json::Value;

use crate::codes::{
    GuideVersion, MessageEvent, RecipientType, ResponseCode, extension, message_definition,
    profile, system,
};
use crate::discharge::{Conformance, MhSection};
use crate::error::redact_values;
use crate::handling::key;
use crate::ids::is_uuid;

/// Largest message ITK3 recommends (20015 Message too large).
pub const RECOMMENDED_MAX_MESSAGE_BYTES: usize = 5 * 1024 * 1024;
/// Largest JSON input the validator reads at all.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// The input could not be read at all.
    Fatal,
    /// Breaks a rule: a receiver may reject the message.
    Error,
    /// Departs from guidance or a newer edition; usually accepted.
    Warning,
    /// Worth knowing.
    Information,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fatal => "fatal",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Information => "information",
        })
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// FHIRPath-like location (`Bundle.entry[2].resource.entry[0].resource.section[1].code`).
    pub location: String,
    /// What is wrong. Never contains an NHS number or a name.
    pub message: String,
    /// The ITK3 response code a receiver would answer with, where one applies.
    pub itk_code: Option<ResponseCode>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.location, self.message)?;
        if let Some(code) = &self.itk_code {
            write!(f, " [ITK {code}]")?;
        }
        Ok(())
    }
}

/// All findings for one input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ValidationReport {
    /// Findings in the order the checks ran.
    pub findings: Vec<Finding>,
}

impl ValidationReport {
    /// No fatal findings and no errors.
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity <= Severity::Error)
    }

    /// Fatal findings and errors.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity <= Severity::Error)
    }

    /// The ITK3 code a receiver would answer with: the lowest-numbered code among the fatal
    /// findings and errors (ITK3 checks the handling specification, then the header, then the
    /// payload, and the code ranges follow that order); 20013 Success when there is none.
    pub fn response_code(&self) -> ResponseCode {
        self.errors()
            .filter_map(|f| f.itk_code.clone())
            .min_by_key(|c| c.code().parse::<u32>().unwrap_or(u32::MAX))
            .unwrap_or(ResponseCode::Success)
    }

    /// Findings whose message contains `text` (handy in tests).
    pub fn matching<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings
            .iter()
            .filter(move |f| f.message.contains(text) || f.location.contains(text))
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// Validates FHIR JSON text (a message bundle, or a bare document bundle), accepting either
/// Send Document edition.
pub fn validate_json(json: &str) -> ValidationReport {
    validate_json_with(json, ValidationOptions::default())
}

/// [`validate_json`] with options.
pub fn validate_json_with(json: &str, options: ValidationOptions) -> ValidationReport {
    let mut v = Checker {
        options,
        ..Checker::default()
    };
    if json.len() > MAX_INPUT_BYTES {
        v.push(
            Severity::Fatal,
            "(root)",
            format!("input larger than {MAX_INPUT_BYTES} bytes"),
            Some(ResponseCode::MessageTooLarge),
        );
        return v.finish();
    }
    if json.len() > RECOMMENDED_MAX_MESSAGE_BYTES {
        v.push(
            Severity::Warning,
            "(root)",
            "message larger than the recommended 5 MB",
            Some(ResponseCode::MessageTooLarge),
        );
    }
    let raw: Value = match serde_json::from_str(json) {
        Ok(raw) => raw,
        Err(e) => {
            v.push(
                Severity::Fatal,
                "(root)",
                format!("not JSON: {}", redact_values(&e.to_string())),
                Some(ResponseCode::UnreadableMessage),
            );
            return v.finish();
        }
    };
    match serde_json::from_value::<Resource>(raw.clone()) {
        Ok(model) => match serde_json::to_value(&model) {
            Ok(round_trip) => {
                let mut dropped = Vec::new();
                unknown::dropped_properties(&raw, &round_trip, root_name(&raw), &mut dropped);
                for path in dropped {
                    v.push(
                        Severity::Error,
                        path,
                        "unknown property (not part of FHIR STU3; it would be lost)",
                        Some(ResponseCode::PayloadValidationFailure),
                    );
                }
            }
            Err(e) => v.push(
                Severity::Error,
                "(root)",
                format!("cannot re-serialise: {e}"),
                None,
            ),
        },
        Err(e) => v.push(
            Severity::Error,
            root_name(&raw),
            format!(
                "not valid FHIR STU3 for the resource model: {}",
                redact_values(&e.to_string())
            ),
            Some(ResponseCode::PayloadValidationFailure),
        ),
    }
    v.bundle(&raw);
    v.finish()
}

/// Validates a `fhir-model` bundle, accepting either Send Document edition.
pub fn validate_bundle(bundle: &Bundle) -> ValidationReport {
    validate_bundle_with(bundle, ValidationOptions::default())
}

/// [`validate_bundle`] with options.
pub fn validate_bundle_with(bundle: &Bundle, options: ValidationOptions) -> ValidationReport {
    let mut v = Checker {
        options,
        ..Checker::default()
    };
    match serde_json::to_value(bundle) {
        Ok(raw) => v.bundle(&raw),
        Err(e) => v.push(
            Severity::Fatal,
            "Bundle",
            format!("cannot serialise: {e}"),
            None,
        ),
    }
    v.finish()
}

/// Checks a MESH `GPPROVIDER_<NHS number>_<DOB>_<surname>` address against the Patient in the
/// message: MESH cross-checks the three with PDS and fails the transfer (EPL-152..154) when they
/// differ. The DOB may be `YYYYMMDD` or `DDMMYYYY`; the surname compares case-insensitively.
pub fn check_gpprovider_address(bundle: &Bundle, address: &str) -> ValidationReport {
    let mut v = Checker::default();
    let loc = "Mex-To";
    let Some(rest) = address.strip_prefix("GPPROVIDER_") else {
        v.push(
            Severity::Information,
            loc,
            "not a GPPROVIDER_ address; nothing to compare",
            None,
        );
        return v.finish();
    };
    let mut parts = rest.splitn(3, '_');
    let (Some(nhs), Some(dob), Some(surname)) = (parts.next(), parts.next(), parts.next()) else {
        v.push(
            Severity::Error,
            loc,
            "GPPROVIDER_ address must be GPPROVIDER_<NHS number>_<DOB>_<surname>",
            None,
        );
        return v.finish();
    };
    if nhs.parse::<NhsNumber>().is_err() {
        v.push(
            Severity::Error,
            loc,
            "the NHS number in the address is not valid (MESH EPL-152)",
            None,
        );
    }
    let raw = match serde_json::to_value(bundle) {
        Ok(raw) => raw,
        Err(e) => {
            v.push(
                Severity::Fatal,
                "Bundle",
                format!("cannot serialise: {e}"),
                None,
            );
            return v.finish();
        }
    };
    let Some(patient) = find_patient(&raw) else {
        v.push(
            Severity::Error,
            "Bundle",
            "no Patient in the message to compare with",
            None,
        );
        return v.finish();
    };
    let patient_nhs = arr(patient, "identifier")
        .iter()
        .find(|i| s(i, "system") == Some(id_system::NHS_NUMBER))
        .and_then(|i| s(i, "value"));
    if patient_nhs != Some(nhs) {
        v.push(
            Severity::Error,
            loc,
            "the NHS number differs from the Patient's (MESH EPL-154)",
            None,
        );
    }
    let birth = s(patient, "birthDate").unwrap_or("").replace('-', "");
    let (ymd, dmy) = match (birth.get(0..4), birth.get(4..6), birth.get(6..8)) {
        (Some(y), Some(m), Some(d)) => (format!("{y}{m}{d}"), format!("{d}{m}{y}")),
        _ => (String::new(), String::new()),
    };
    if birth.is_empty() || (dob != ymd && dob != dmy) {
        v.push(
            Severity::Error,
            loc,
            "the date of birth differs from the Patient's (MESH EPL-154)",
            None,
        );
    }
    let family_matches = arr(patient, "name")
        .iter()
        .filter_map(|n| s(n, "family"))
        .any(|f| f.eq_ignore_ascii_case(surname));
    if !family_matches {
        v.push(
            Severity::Error,
            loc,
            "the surname differs from the Patient's (MESH EPL-154)",
            None,
        );
    }
    v.finish()
}

/// The first Patient anywhere in the bundle (nested bundles included).
fn find_patient(bundle: &Value) -> Option<&Value> {
    arr(bundle, "entry")
        .iter()
        .filter_map(|e| e.get("resource"))
        .find_map(|r| match s(r, "resourceType") {
            Some("Patient") => Some(r),
            Some("Bundle") => find_patient(r),
            _ => None,
        })
}

fn root_name(raw: &Value) -> &str {
    raw.get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("(root)")
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn profiles(res: &Value) -> Vec<&str> {
    res.get("meta").map_or_else(Vec::new, |m| {
        arr(m, "profile").iter().filter_map(Value::as_str).collect()
    })
}

fn codings(concept: Option<&Value>) -> &[Value] {
    concept.map_or(&[], |c| arr(c, "coding"))
}

/// What the validator accepts where the guides differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ValidationOptions {
    /// `None` (default): accept the values of either Send Document edition, with a warning for
    /// the older one. `Some(edition)`: values of the other edition are errors.
    pub guide: Option<GuideVersion>,
}

impl ValidationOptions {
    /// Accept only the values of `guide`.
    pub fn pinned(guide: GuideVersion) -> Self {
        Self { guide: Some(guide) }
    }
}

#[derive(Default)]
struct Checker {
    options: ValidationOptions,
    findings: Vec<Finding>,
    /// fullUrl → (resource, location)
    urls: HashMap<String, (Value, String)>,
}

impl Checker {
    fn push(
        &mut self,
        severity: Severity,
        location: impl Into<String>,
        message: impl Into<String>,
        itk_code: Option<ResponseCode>,
    ) {
        self.findings.push(Finding {
            severity,
            location: location.into(),
            message: message.into(),
            itk_code,
        });
    }

    fn finish(self) -> ValidationReport {
        ValidationReport {
            findings: self.findings,
        }
    }

    fn bundle(&mut self, raw: &Value) {
        if s(raw, "resourceType") != Some("Bundle") {
            self.push(
                Severity::Error,
                "(root)",
                "not a Bundle",
                Some(ResponseCode::HeaderValidationFailure),
            );
            return;
        }
        self.index(raw, "Bundle");
        match s(raw, "type") {
            Some("message") => self.message(raw),
            Some("document") => {
                self.push(Severity::Information, "Bundle", "a document bundle without its ITK3 message envelope; checked as a document only", None);
                self.document(raw, "Bundle", None);
            }
            _ => self.push(
                Severity::Error,
                "Bundle.type",
                "must be `message` (ITK3 message bundle)",
                Some(ResponseCode::HeaderValidationFailure),
            ),
        }
        self.references(raw, "Bundle");
        self.snomed_codes(raw, "Bundle");
    }

    /// Records every entry's fullUrl (recursively into nested bundles) and checks entry basics.
    fn index(&mut self, bundle: &Value, loc: &str) {
        let mut seen = HashSet::new();
        for (i, e) in arr(bundle, "entry").iter().enumerate() {
            let eloc = format!("{loc}.entry[{i}]");
            let Some(res) = e.get("resource") else {
                self.push(
                    Severity::Error,
                    eloc,
                    "entry without a resource",
                    Some(ResponseCode::PayloadValidationFailure),
                );
                continue;
            };
            let rloc = format!("{eloc}.resource");
            match s(e, "fullUrl") {
                Some(url) => {
                    if !seen.insert(url.to_owned()) || self.urls.contains_key(url) {
                        self.push(
                            Severity::Error,
                            format!("{eloc}.fullUrl"),
                            "duplicate fullUrl",
                            Some(ResponseCode::PayloadValidationFailure),
                        );
                    }
                    if let (Some(id), Some(uuid)) = (s(res, "id"), url.strip_prefix("urn:uuid:"))
                        && id != uuid
                    {
                        self.push(
                            Severity::Warning,
                            format!("{rloc}.id"),
                            "id differs from the urn:uuid fullUrl",
                            None,
                        );
                    }
                    self.urls
                        .insert(url.to_owned(), (res.clone(), rloc.clone()));
                }
                None => self.push(
                    Severity::Error,
                    format!("{eloc}.fullUrl"),
                    "missing (references inside the message use fullUrl)",
                    Some(ResponseCode::PayloadValidationFailure),
                ),
            }
            if s(res, "id").is_none() {
                self.push(
                    Severity::Warning,
                    format!("{rloc}.id"),
                    "missing (GPCM-SD-028: id is mandatory)",
                    None,
                );
            }
            if profiles(res).is_empty() {
                self.push(
                    Severity::Warning,
                    format!("{rloc}.meta.profile"),
                    "missing (every resource declares its profile)",
                    None,
                );
            }
            if s(res, "resourceType") == Some("Bundle") {
                self.index(res, &rloc);
            }
        }
    }

    fn resolve(&self, reference: &str) -> Option<&(Value, String)> {
        self.urls.get(reference)
    }

    fn message(&mut self, raw: &Value) {
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
            .map(MessageEvent::from_code);
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

    fn identifier(&mut self, res: &Value, loc: &str, code: ResponseCode) {
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

    fn handling(
        &mut self,
        header: &Value,
        hloc: &str,
        event: Option<&MessageEvent>,
    ) -> Option<HashMap<&'static str, Value>> {
        let Some(ext) = arr(header, "extension")
            .iter()
            .find(|e| s(e, "url") == Some(extension::ITK_MESSAGE_HANDLING))
        else {
            self.push(
                Severity::Error,
                format!("{hloc}.extension"),
                "the ITK message handling extension is missing",
                Some(ResponseCode::HandlingSpecificationError),
            );
            return None;
        };
        let eloc = format!("{hloc}.extension(ITKMessageHandling)");
        let mut values = HashMap::new();
        for k in key::ALL {
            let found: Vec<&Value> = arr(ext, "extension")
                .iter()
                .filter(|e| s(e, "url") == Some(k))
                .collect();
            let kloc = format!("{eloc}.extension({k})");
            match found.as_slice() {
                [one] => {
                    let (field, code) = match k {
                        key::BUS_ACK_REQUESTED => {
                            ("valueBoolean", ResponseCode::BusinessAckValueError)
                        }
                        key::INF_ACK_REQUESTED => {
                            ("valueBoolean", ResponseCode::InfrastructureAckValueError)
                        }
                        key::RECIPIENT_TYPE => ("valueCoding", ResponseCode::RecipientTypeError),
                        key::MESSAGE_DEFINITION => {
                            ("valueReference", ResponseCode::MessageDefinitionValueError)
                        }
                        key::SENDER_REFERENCE => {
                            ("valueString", ResponseCode::SenderReferenceValueError)
                        }
                        _ => ("valueString", ResponseCode::HandlingSpecificationError),
                    };
                    match one.get(field) {
                        Some(v) => {
                            values.insert(k, v.clone());
                        }
                        None if k == key::LOCAL_EXTENSION
                            && one
                                .as_object()
                                .is_some_and(|o| o.keys().any(|x| x.starts_with("value"))) =>
                        {
                            values.insert(k, Value::Null);
                        }
                        None => self.push(
                            Severity::Error,
                            kloc,
                            format!("{field} missing"),
                            Some(code),
                        ),
                    }
                }
                [] => self.push(
                    Severity::Error,
                    kloc,
                    "handling key missing (each of the six is 1..1)",
                    Some(ResponseCode::HandlingSpecificationError),
                ),
                _ => self.push(
                    Severity::Error,
                    kloc,
                    "handling key repeated",
                    Some(ResponseCode::HandlingSpecificationError),
                ),
            }
        }
        if let Some(rt) = values.get(key::RECIPIENT_TYPE) {
            if s(rt, "system") != Some(system::ITK_RECIPIENT_TYPE) {
                self.push(
                    Severity::Error,
                    format!("{eloc}.extension(RecipientType).valueCoding.system"),
                    "must be ITK-RecipientType-1",
                    Some(ResponseCode::RecipientTypeError),
                );
            }
            if let RecipientType::Other(_) = RecipientType::from_code(s(rt, "code").unwrap_or("")) {
                self.push(
                    Severity::Error,
                    format!("{eloc}.extension(RecipientType).valueCoding.code"),
                    "must be FA or FI",
                    Some(ResponseCode::RecipientTypeError),
                );
            }
        }
        let md = values
            .get(key::MESSAGE_DEFINITION)
            .and_then(|r| s(r, "reference"))
            .unwrap_or("")
            .to_owned();
        let mdloc = format!("{eloc}.extension(MessageDefinition).valueReference.reference");
        let local = values
            .get(key::LOCAL_EXTENSION)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        match event {
            Some(MessageEvent::GpConnectSendDocument) => {
                let guide = self.options.guide;
                // A value from the other edition: a warning when either edition is accepted,
                // an error when the caller pinned one.
                let other_edition = if guide.is_some() {
                    (
                        Severity::Error,
                        Some(ResponseCode::MessageDefinitionValueError),
                    )
                } else {
                    (Severity::Warning, None)
                };
                if md == message_definition::SEND_DOCUMENT_LEGACY {
                    if guide != Some(GuideVersion::GpConnectMessaging1_5) {
                        self.push(other_edition.0, mdloc, "the older gpconnect-messaging MessageDefinition; the current guide uses ITK-GPConnectSendDocument-MessageDefinition-Instance-1", other_edition.1.clone());
                    }
                } else if md == message_definition::SEND_DOCUMENT_CURRENT {
                    if guide == Some(GuideVersion::GpConnectMessaging1_5) {
                        self.push(other_edition.0, mdloc, "the current guide's MessageDefinition; gpconnect-messaging 1.5 uses ITK-GPConnectSendDocument-MessageDefinition-1", other_edition.1.clone());
                    }
                } else {
                    self.push(
                        Severity::Error,
                        mdloc,
                        "not a Send Document MessageDefinition",
                        Some(ResponseCode::MessageDefinitionValueError),
                    );
                }
                let local_is_current = local.eq_ignore_ascii_case("NONE");
                if !local_is_current && guide != Some(GuideVersion::GpConnectMessaging1_5) {
                    self.push(
                        other_edition.0,
                        format!("{eloc}.extension(LocalExtension)"),
                        "the current guide fixes `NONE` (older editions used SendDocument-* values)",
                        other_edition.1.as_ref().map(|_| ResponseCode::HandlingBusinessRuleError),
                    );
                }
                if !local.starts_with("SendDocument-")
                    && guide == Some(GuideVersion::GpConnectMessaging1_5)
                {
                    self.push(
                        Severity::Error,
                        format!("{eloc}.extension(LocalExtension)"),
                        "gpconnect-messaging 1.5 uses a SendDocument-* use-case value",
                        Some(ResponseCode::HandlingBusinessRuleError),
                    );
                }
                for (k, code) in [
                    (key::BUS_ACK_REQUESTED, ResponseCode::BusinessAckValueError),
                    (
                        key::INF_ACK_REQUESTED,
                        ResponseCode::InfrastructureAckValueError,
                    ),
                ] {
                    if values.get(k).is_some_and(|v| v != &Value::Bool(true)) {
                        self.push(
                            Severity::Error,
                            format!("{eloc}.extension({k})"),
                            "must be true for Send Document",
                            Some(code),
                        );
                    }
                }
            }
            Some(MessageEvent::MentalHealthEDischarge) => {
                if md.ends_with("ITK-MH-eDischarge-MessageDefinition-Instance-1") {
                    self.push(
                        Severity::Warning,
                        mdloc,
                        "retired MessageDefinition; use ITK-MH-eDischarge-MessageDefinition-4",
                        None,
                    );
                } else if md != message_definition::MH_DISCHARGE {
                    self.push(
                        Severity::Error,
                        mdloc,
                        "not a mental health eDischarge MessageDefinition",
                        Some(ResponseCode::MessageDefinitionValueError),
                    );
                }
            }
            Some(MessageEvent::Response)
                if md != message_definition::RESPONSE
                    && md != message_definition::RESPONSE_INSTANCE =>
            {
                self.push(
                    Severity::Error,
                    mdloc,
                    "not the ITK Response MessageDefinition",
                    Some(ResponseCode::MessageDefinitionValueError),
                );
            }
            _ => {}
        }
        Some(values)
    }

    fn header_party(&mut self, header: &Value, hloc: &str, field: &str, required: bool) {
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

    fn response(
        &mut self,
        header: &Value,
        hloc: &str,
        handling: Option<&HashMap<&'static str, Value>>,
    ) {
        if let Some(h) = handling {
            for k in [key::BUS_ACK_REQUESTED, key::INF_ACK_REQUESTED] {
                if h.get(k).is_some_and(|v| v != &Value::Bool(false)) {
                    self.push(
                        Severity::Warning,
                        format!("{hloc}.extension(ITKMessageHandling).extension({k})"),
                        "responses request no acknowledgement",
                        None,
                    );
                }
            }
        }
        let Some(response) = header.get("response") else {
            self.push(
                Severity::Error,
                format!("{hloc}.response"),
                "missing in an ITK Response",
                Some(ResponseCode::HeaderValidationFailure),
            );
            return;
        };
        if s(response, "identifier").is_none() {
            self.push(
                Severity::Error,
                format!("{hloc}.response.identifier"),
                "missing",
                Some(ResponseCode::HeaderValidationFailure),
            );
        }
        let Some((outcome, oloc)) = response
            .get("details")
            .and_then(|d| s(d, "reference"))
            .and_then(|r| self.resolve(r))
            .cloned()
        else {
            self.push(
                Severity::Error,
                format!("{hloc}.response.details"),
                "must reference an OperationOutcome in the message",
                Some(ResponseCode::HeaderValidationFailure),
            );
            return;
        };
        if s(&outcome, "resourceType") != Some("OperationOutcome")
            || !profiles(&outcome).contains(&profile::ITK_RESPONSE_OPERATION_OUTCOME)
        {
            self.push(
                Severity::Error,
                oloc.clone(),
                "must be an ITK-Response-OperationOutcome-1",
                Some(ResponseCode::HeaderValidationFailure),
            );
        }
        let codes: Vec<&Value> = arr(&outcome, "issue")
            .iter()
            .flat_map(|i| codings(i.get("details")))
            .filter(|c| s(c, "system") == Some(system::ITK_RESPONSE_CODES))
            .collect();
        match codes.as_slice() {
            [one] => {
                let code = ResponseCode::from_code(s(one, "code").unwrap_or(""));
                if let ResponseCode::Other(_) = code {
                    self.push(
                        Severity::Warning,
                        format!("{oloc}.issue.details.coding.code"),
                        "not in ITK-ResponseCodes-1 (1.5.0)",
                        None,
                    );
                }
                let expected = if code.is_positive() {
                    "ok"
                } else {
                    "fatal-error"
                };
                if s(response, "code") != Some(expected) {
                    self.push(
                        Severity::Error,
                        format!("{hloc}.response.code"),
                        format!("must be `{expected}` for response code {code}"),
                        Some(ResponseCode::HeaderValidationFailure),
                    );
                }
            }
            [] => self.push(
                Severity::Error,
                format!("{oloc}.issue.details.coding"),
                "no ITK-ResponseCodes-1 code",
                Some(ResponseCode::HeaderValidationFailure),
            ),
            _ => self.push(
                Severity::Error,
                format!("{oloc}.issue"),
                "a response carries exactly one code",
                Some(ResponseCode::HeaderValidationFailure),
            ),
        }
    }

    fn document(&mut self, doc: &Value, dloc: &str, event: Option<&MessageEvent>) {
        if s(doc, "type") != Some("document") {
            self.push(
                Severity::Error,
                format!("{dloc}.type"),
                "the payload must be a Bundle of type `document`",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if !profiles(doc).contains(&profile::ITK_DOCUMENT_BUNDLE) {
            self.push(
                Severity::Error,
                format!("{dloc}.meta.profile"),
                "must include ITK-Document-Bundle-1",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        self.identifier(doc, dloc, ResponseCode::PayloadValidationFailure);
        let entries = arr(doc, "entry");
        let Some(composition) = entries
            .first()
            .and_then(|e| e.get("resource"))
            .filter(|r| s(r, "resourceType") == Some("Composition"))
        else {
            self.push(
                Severity::Error,
                format!("{dloc}.entry[0]"),
                "the first entry of a document must be the Composition",
                Some(ResponseCode::PayloadValidationFailure),
            );
            return;
        };
        let cloc = format!("{dloc}.entry[0].resource");
        let count = |ty: &str| {
            entries
                .iter()
                .filter(|e| e.get("resource").and_then(|r| s(r, "resourceType")) == Some(ty))
                .count()
        };
        if count("Composition") != 1 {
            self.push(
                Severity::Error,
                format!("{dloc}.entry"),
                "a document carries exactly one Composition (FHIR-PAY-01: one document per message)",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if count("Patient") != 1 {
            self.push(
                Severity::Error,
                format!("{dloc}.entry"),
                format!("exactly one Patient expected, found {}", count("Patient")),
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if count("Organization") == 0 {
            self.push(
                Severity::Error,
                format!("{dloc}.entry"),
                "no Organization (the custodian is mandatory)",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        for (i, e) in entries.iter().enumerate() {
            let rloc = format!("{dloc}.entry[{i}].resource");
            match e.get("resource").and_then(|r| s(r, "resourceType")) {
                Some("Patient") => self.patient(e.get("resource").unwrap_or(&Value::Null), &rloc),
                Some("Binary") => {
                    let res = e.get("resource").unwrap_or(&Value::Null);
                    if s(res, "contentType").is_none() || s(res, "content").is_none() {
                        self.push(
                            Severity::Error,
                            rloc.clone(),
                            "an attachment needs contentType and base64 content",
                            Some(ResponseCode::PayloadValidationFailure),
                        );
                    }
                    if res.get("securityContext").is_some() {
                        self.push(
                            Severity::Error,
                            format!("{rloc}.securityContext"),
                            "not allowed (0..0)",
                            Some(ResponseCode::PayloadValidationFailure),
                        );
                    }
                }
                _ => {}
            }
        }
        self.coded_entries(doc, dloc);
        if s(composition, "status").is_none() {
            self.push(
                Severity::Error,
                format!("{cloc}.status"),
                "missing",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        for (field, target) in [("subject", "Patient"), ("custodian", "Organization")] {
            match composition.get(field).and_then(|r| s(r, "reference")) {
                Some(r) => match self.resolve(r) {
                    Some((res, _)) if s(res, "resourceType") == Some(target) => {}
                    Some(_) => self.push(
                        Severity::Error,
                        format!("{cloc}.{field}"),
                        format!("must reference a {target}"),
                        Some(ResponseCode::PayloadValidationFailure),
                    ),
                    None => {}
                },
                None => self.push(
                    Severity::Error,
                    format!("{cloc}.{field}"),
                    "missing",
                    Some(ResponseCode::PayloadValidationFailure),
                ),
            }
        }
        let ps = profiles(composition);
        let is_mh = ps.contains(&profile::ITK_MH_COMPOSITION)
            || event == Some(&MessageEvent::MentalHealthEDischarge);
        if is_mh {
            if event.is_some() && event != Some(&MessageEvent::MentalHealthEDischarge) {
                self.push(
                    Severity::Error,
                    format!("{cloc}.meta.profile"),
                    "a mental health composition in a message whose event is not ITK004D",
                    Some(ResponseCode::HandlingBusinessRuleError),
                );
            }
            self.mh_composition(composition, &cloc);
        } else {
            if event.is_some() && event != Some(&MessageEvent::GpConnectSendDocument) {
                self.push(
                    Severity::Information,
                    format!("{cloc}.meta.profile"),
                    "document rules for this event are not checked beyond the common ones",
                    None,
                );
                return;
            }
            self.send_document_composition(composition, &cloc);
        }
    }

    fn send_document_composition(&mut self, c: &Value, cloc: &str) {
        const APPROVED_TYPES: [&str; 3] = ["371531000", "149701000000109", "149951000000107"];
        if let Some(code) = codings(c.get("type"))
            .iter()
            .find(|cd| s(cd, "system") == Some(system::SNOMED_CT))
            .and_then(|cd| s(cd, "code"))
            && !APPROVED_TYPES.contains(&code)
        {
            self.push(
                Severity::Warning,
                format!("{cloc}.type"),
                "not one of the document types the Send Document guide lists (371531000, 149701000000109, 149951000000107)",
                None,
            );
        }
        if !profiles(c).contains(&profile::CARECONNECT_COMPOSITION) {
            self.push(
                Severity::Error,
                format!("{cloc}.meta.profile"),
                "must include CareConnect-Composition-1",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if s(c, "status") != Some("final") {
            self.push(
                Severity::Error,
                format!("{cloc}.status"),
                "must be `final`",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if !codings(c.get("type"))
            .iter()
            .any(|cd| s(cd, "system") == Some(system::SNOMED_CT) && s(cd, "code").is_some())
        {
            self.push(
                Severity::Error,
                format!("{cloc}.type"),
                "needs a SNOMED CT document type",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        match s(c, "confidentiality") {
            Some("N" | "R") => {}
            Some(_) => self.push(
                Severity::Error,
                format!("{cloc}.confidentiality"),
                "must be N or R",
                Some(ResponseCode::PayloadValidationFailure),
            ),
            None => self.push(
                Severity::Error,
                format!("{cloc}.confidentiality"),
                "missing (N or R)",
                Some(ResponseCode::PayloadValidationFailure),
            ),
        }
        if arr(c, "author").is_empty() {
            self.push(
                Severity::Error,
                format!("{cloc}.author"),
                "missing",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        let sections = arr(c, "section");
        if sections.is_empty() {
            self.push(
                Severity::Error,
                format!("{cloc}.section"),
                "at least one section referencing the attachment",
                Some(ResponseCode::PayloadValidationFailure),
            );
            return;
        }
        let first = sections
            .first()
            .map(|sec| arr(sec, "entry"))
            .and_then(|e| e.first())
            .and_then(|r| s(r, "reference"));
        match first.and_then(|r| self.resolve(r)) {
            Some((res, _)) if s(res, "resourceType") == Some("Binary") => {}
            _ => self.push(
                Severity::Error,
                format!("{cloc}.section[0].entry[0]"),
                "the primary attachment (a Binary) must be the first section entry",
                Some(ResponseCode::PayloadValidationFailure),
            ),
        }
    }

    fn mh_composition(&mut self, c: &Value, cloc: &str) {
        if !codings(c.get("type")).iter().any(|cd| {
            s(cd, "system") == Some(system::SNOMED_CT) && s(cd, "code") == Some("373942005")
        }) {
            self.push(
                Severity::Warning,
                format!("{cloc}.type"),
                "the IG advises SNOMED CT 373942005 Discharge summary",
                None,
            );
        }
        if !profiles(c).contains(&profile::ITK_MH_COMPOSITION) {
            self.push(
                Severity::Error,
                format!("{cloc}.meta.profile"),
                "must include CareConnect-ITK-MH-Composition-1",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        let exts = arr(c, "extension");
        if exts
            .iter()
            .any(|e| s(e, "url") == Some(extension::CARE_SETTING_TYPE_OLD))
        {
            self.push(Severity::Error, format!("{cloc}.extension"), "old care setting extension URL (Extension-CareSettingType-1); the profile requires Extension-CareConnect-CareSettingType-1", Some(ResponseCode::PayloadValidationFailure));
        } else if !exts
            .iter()
            .any(|e| s(e, "url") == Some(extension::CARE_SETTING_TYPE))
        {
            self.push(
                Severity::Error,
                format!("{cloc}.extension"),
                "the care setting type extension is missing (1..1)",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        self.identifier(c, cloc, ResponseCode::PayloadValidationFailure);
        if c.get("confidentiality").is_some() {
            self.push(
                Severity::Error,
                format!("{cloc}.confidentiality"),
                "not allowed in a mental health discharge (0..0)",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        for forbidden in ["attester", "event"] {
            if c.get(forbidden).is_some() {
                self.push(
                    Severity::Error,
                    format!("{cloc}.{forbidden}"),
                    "not allowed (0..0)",
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
        }
        let mut present: Vec<MhSection> = Vec::new();
        for (i, sec) in arr(c, "section").iter().enumerate() {
            let sloc = format!("{cloc}.section[{i}]");
            let snomed: Vec<&Value> = codings(sec.get("code"))
                .iter()
                .filter(|cd| s(cd, "system") == Some(system::SNOMED_CT))
                .collect();
            let Some(code) = snomed.first().and_then(|cd| s(cd, "code")) else {
                self.push(
                    Severity::Error,
                    format!("{sloc}.code"),
                    "needs a SNOMED CT section code",
                    Some(ResponseCode::PayloadValidationFailure),
                );
                continue;
            };
            let Some(section) = MhSection::from_code(code) else {
                let hint = if code == "1052901000000109" {
                    " (older code for Individual requirements; the profile fixes 1078911000000106)"
                } else {
                    ""
                };
                self.push(
                    Severity::Error,
                    format!("{sloc}.code"),
                    format!("not a section of CareConnect-ITK-MH-Composition-1{hint}"),
                    Some(ResponseCode::PayloadValidationFailure),
                );
                continue;
            };
            if present.contains(&section) {
                self.push(
                    Severity::Error,
                    sloc.clone(),
                    format!("{} occurs more than once", section.title()),
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
            present.push(section);
            if s(sec, "title") != Some(section.title()) {
                self.push(
                    Severity::Error,
                    format!("{sloc}.title"),
                    format!("the profile fixes `{}`", section.title()),
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
            if let Some((j, _)) = codings(sec.get("code"))
                .iter()
                .enumerate()
                .find(|(_, cd)| s(cd, "system") == Some(system::SNOMED_CT))
                .filter(|(_, cd)| s(cd, "display") != Some(section.title()))
            {
                self.push(
                    Severity::Error,
                    format!("{sloc}.code.coding[{j}].display"),
                    format!("the profile fixes `{}`", section.title()),
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
            self.mh_section_entries(sec, section, &sloc);
            if sec.get("text").and_then(|t| s(t, "div")).is_none() {
                self.push(
                    Severity::Error,
                    format!("{sloc}.text"),
                    "missing (1..1 narrative)",
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
            if !arr(sec, "section").is_empty() {
                self.push(
                    Severity::Error,
                    format!("{sloc}.section"),
                    "nested sections are not allowed",
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
        }
        for section in MhSection::ALL
            .iter()
            .filter(|s| s.conformance() == Conformance::Mandatory)
        {
            if !present.contains(section) {
                self.push(
                    Severity::Error,
                    format!("{cloc}.section"),
                    format!(
                        "mandatory section `{}` ({}) is missing",
                        section.title(),
                        section.code()
                    ),
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
        }
    }

    fn patient(&mut self, p: &Value, ploc: &str) {
        let nhs: Vec<(usize, &Value)> = arr(p, "identifier")
            .iter()
            .enumerate()
            .filter(|(_, i)| s(i, "system") == Some(id_system::NHS_NUMBER))
            .collect();
        match nhs.first() {
            None => self.push(
                Severity::Warning,
                format!("{ploc}.identifier"),
                "no NHS number (demographics must then be complete, FHIR-PDS-02)",
                None,
            ),
            Some((i, ident)) => {
                let iloc = format!("{ploc}.identifier[{i}]");
                match s(ident, "value") {
                    Some(value) => {
                        if value.parse::<NhsNumber>().is_err() {
                            self.push(Severity::Error, format!("{iloc}.value"), "NHS number is not valid: it fails the Modulus 11 check digit (or is not 10 digits)", Some(ResponseCode::PayloadValidationFailure));
                        }
                    }
                    None => self.push(
                        Severity::Error,
                        format!("{iloc}.value"),
                        "missing",
                        Some(ResponseCode::PayloadValidationFailure),
                    ),
                }
                if !arr(ident, "extension")
                    .iter()
                    .any(|e| s(e, "url") == Some(extension::NHS_NUMBER_VERIFICATION_STATUS))
                {
                    self.push(
                        Severity::Warning,
                        format!("{iloc}.extension"),
                        "NHS number verification status missing (FHIR-PDS-10)",
                        None,
                    );
                }
            }
        }
        let names = arr(p, "name");
        if !names
            .iter()
            .any(|n| s(n, "use") == Some("official") && s(n, "family").is_some())
        {
            self.push(
                Severity::Warning,
                format!("{ploc}.name"),
                "no official name with a family name",
                None,
            );
        }
        if s(p, "birthDate").is_none() {
            self.push(
                Severity::Warning,
                format!("{ploc}.birthDate"),
                "missing (MESH GPPROVIDER routing needs it)",
                None,
            );
        }
    }

    /// Every `reference` inside the message that points into the bundle must resolve.
    fn references(&mut self, v: &Value, loc: &str) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("reference")
                    && (r.starts_with("urn:uuid:") || is_relative(r))
                    && !self.urls.contains_key(r.as_str())
                    && !self.relative_resolves(r)
                {
                    self.push(
                        Severity::Error,
                        format!("{loc}.reference"),
                        "does not resolve to an entry in the bundle",
                        Some(ResponseCode::PayloadValidationFailure),
                    );
                }
                for (k, child) in map {
                    self.references(child, &format!("{loc}.{k}"));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.references(child, &format!("{loc}[{i}]"));
                }
            }
            _ => {}
        }
    }

    fn relative_resolves(&self, r: &str) -> bool {
        is_relative(r) && self.urls.keys().any(|u| u.ends_with(&format!("/{r}")))
    }
}

/// `Type/id` relative references.
fn is_relative(r: &str) -> bool {
    match r.split_once('/') {
        Some((ty, id)) => {
            ty.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && ty.chars().all(|c| c.is_ascii_alphabetic())
                && !id.is_empty()
                && !id.contains('/')
        }
        None => false,
    }
}
