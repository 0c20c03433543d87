//! The checker: collects findings, indexes the bundle's entries by fullUrl and checks that
//! references resolve. The rules live beside it, one file per part of the message.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{
    Finding, Severity, ValidationOptions, ValidationReport, arr, is_relative, profiles, s,
};
use crate::codes::ResponseCode;

#[derive(Default)]
pub(super) struct Checker {
    pub(super) options: ValidationOptions,
    pub(super) findings: Vec<Finding>,
    /// fullUrl → (resource, location)
    pub(super) urls: HashMap<String, (Value, String)>,
}

impl Checker {
    pub(super) fn push(
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

    pub(super) fn finish(self) -> ValidationReport {
        ValidationReport {
            findings: self.findings,
        }
    }

    pub(super) fn bundle(&mut self, raw: &Value) {
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
    pub(super) fn index(&mut self, bundle: &Value, loc: &str) {
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

    pub(super) fn resolve(&self, reference: &str) -> Option<&(Value, String)> {
        self.urls.get(reference)
    }

    /// Every `reference` inside the message that points into the bundle must resolve.
    pub(super) fn references(&mut self, v: &Value, loc: &str) {
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

    pub(super) fn relative_resolves(&self, r: &str) -> bool {
        is_relative(r) && self.urls.keys().any(|u| u.ends_with(&format!("/{r}")))
    }
}
