//! Rules for ITK3 responses (ITK008M): the response element and its OperationOutcome.

use std::collections::HashMap;

use serde_json::Value;

use super::{Checker, Severity, arr, codings, profiles, s};
use crate::codes::{ResponseCode, profile, system};
use crate::handling::key;

impl Checker {
    pub(super) fn response(
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
                let code = ResponseCode::from_wire(s(one, "code").unwrap_or(""));
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
}
