//! The walk over raw JSON: required fields, JSON types, enums, formats, explicit `null`s and
//! duplicate ids, each finding located by JSON path.

use std::collections::HashMap;

use serde_json::Value;

use super::spec::{Field, Kind, Sharing, Spec};
use super::{Finding, Report, Rule, Severity, ValidationContext};
use crate::formats;

struct SeenId {
    path: String,
    content: Option<Value>,
}

pub(super) struct Walker<'c> {
    pub(super) context: &'c ValidationContext,
    report: Report,
    ids: HashMap<&'static str, HashMap<String, SeenId>>,
}

pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'c> Walker<'c> {
    pub(super) fn new(context: &'c ValidationContext) -> Self {
        Self {
            context,
            report: Report::default(),
            ids: HashMap::new(),
        }
    }

    pub(super) fn finish(self) -> Report {
        self.report
    }

    pub(super) fn push(
        &mut self,
        severity: Severity,
        rule: Rule,
        path: &str,
        message: impl Into<String>,
    ) {
        self.report.findings.push(Finding {
            severity,
            rule,
            path: path.to_owned(),
            message: message.into(),
        });
    }

    pub(super) fn object(&mut self, value: &Value, spec: &'static Spec, path: &str) {
        let Some(map) = value.as_object() else {
            self.push(
                Severity::Error,
                Rule::Type,
                path,
                format!(
                    "{} must be an object, found {}",
                    spec.object,
                    type_name(value)
                ),
            );
            return;
        };
        for required in spec.required {
            if !map.contains_key(*required) {
                self.push(
                    Severity::Error,
                    Rule::Required,
                    &format!("{path}.{required}"),
                    format!(
                        "required property `{required}` of {} is missing",
                        spec.object
                    ),
                );
            }
        }
        for (key, field_value) in map {
            let field_path = format!("{path}.{key}");
            match spec.fields.iter().find(|field| field.name == key) {
                Some(field) => {
                    if spec.deprecated.contains(&key.as_str()) {
                        self.push(
                            Severity::Info,
                            Rule::DeprecatedField,
                            &field_path,
                            format!("`{key}` is deprecated"),
                        );
                    }
                    self.field(field_value, field, spec, &field_path);
                }
                None if spec.removed.contains(&key.as_str()) => {
                    if self.context.report_additional_fields {
                        self.push(
                            Severity::Info,
                            Rule::RemovedField,
                            &field_path,
                            format!(
                                "`{key}` is an HSDS 3.0 field that the UK profile removes from {}",
                                spec.object
                            ),
                        );
                    }
                }
                None => {
                    if self.context.report_additional_fields {
                        self.push(
                            Severity::Info,
                            Rule::AdditionalField,
                            &field_path,
                            format!(
                                "field `{key}` is not defined in the schema of {}",
                                spec.object
                            ),
                        );
                    }
                }
            }
        }
        if let Some(Value::String(id)) = map.get("id") {
            self.record_id(spec, id, value, path);
        }
        self.semantics(map, spec, path);
    }

    pub(super) fn record_id(&mut self, spec: &'static Spec, id: &str, value: &Value, path: &str) {
        let seen = self.ids.entry(spec.object).or_default();
        let content = (spec.sharing == Sharing::Shared).then(|| value.clone());
        match seen.get(id) {
            None => {
                seen.insert(
                    id.to_owned(),
                    SeenId {
                        path: path.to_owned(),
                        content,
                    },
                );
            }
            Some(first) => {
                let conflict = match (&first.content, &content) {
                    (Some(a), Some(b)) => a != b,
                    _ => true,
                };
                if conflict {
                    let message = format!(
                        "{} id `{id}` is also used at {} for a different object",
                        spec.object, first.path
                    );
                    self.push(
                        Severity::Warning,
                        Rule::DuplicateId,
                        &format!("{path}.id"),
                        message,
                    );
                }
            }
        }
    }

    pub(super) fn field(&mut self, value: &Value, field: &Field, spec: &Spec, path: &str) {
        if value.is_null() {
            let severity = Severity::Error;
            let message = if spec.required.contains(&field.name) {
                format!("required property `{}` is null", field.name)
            } else {
                format!(
                    "`{}` is null: omit optional fields that have no value",
                    field.name
                )
            };
            self.push(severity, Rule::Null, path, message);
            return;
        }
        match field.kind {
            Kind::Object(inner) => self.object(value, inner, path),
            Kind::Array(inner) => match value.as_array() {
                Some(items) => {
                    for (index, item) in items.iter().enumerate() {
                        self.object(item, inner, &format!("{path}[{index}]"));
                    }
                }
                None => self.push(
                    Severity::Error,
                    Rule::Type,
                    path,
                    format!(
                        "`{}` must be an array, found {}",
                        field.name,
                        type_name(value)
                    ),
                ),
            },
            Kind::Number => {
                if !value.is_number() {
                    self.push(
                        Severity::Error,
                        Rule::Type,
                        path,
                        format!(
                            "`{}` must be a number, found {}",
                            field.name,
                            type_name(value)
                        ),
                    );
                }
            }
            _ => {
                let Some(text) = value.as_str() else {
                    self.push(
                        Severity::Error,
                        Rule::Type,
                        path,
                        format!(
                            "`{}` must be a string, found {}",
                            field.name,
                            type_name(value)
                        ),
                    );
                    return;
                };
                self.string_format(text, field, path);
            }
        }
    }

    pub(super) fn string_format(&mut self, text: &str, field: &Field, path: &str) {
        let name = field.name;
        match field.kind {
            Kind::Uuid if !formats::is_uuid(text) => {
                self.push(
                    Severity::Error,
                    Rule::Format,
                    path,
                    format!("`{name}` must be a UUID, found {text:?}"),
                );
            }
            Kind::Uri if !formats::is_uri(text) => {
                self.push(
                    Severity::Error,
                    Rule::Format,
                    path,
                    format!("`{name}` must be an absolute URI, found {text:?}"),
                );
            }
            Kind::Email if !formats::is_email(text) => {
                self.push(
                    Severity::Error,
                    Rule::Format,
                    path,
                    format!("`{name}` must be an email address, found {text:?}"),
                );
            }
            Kind::DateTime if !formats::is_date_time(text) => {
                self.push(
                    Severity::Error,
                    Rule::Format,
                    path,
                    format!("`{name}` must be an RFC 3339 date-time, found {text:?}"),
                );
            }
            Kind::Enum(known) if !known().contains(&text) => {
                let values = known();
                self.push(
                    Severity::Error,
                    Rule::Enum,
                    path,
                    format!("`{name}` must be one of {values:?}, found {text:?}"),
                );
            }
            Kind::Date if formats::parse_date(text).is_none() => {
                self.push(
                    Severity::Warning,
                    Rule::DateTimeFormat,
                    path,
                    format!("`{name}` should be an ISO 8601 date YYYY-MM-DD, found {text:?}"),
                );
            }
            Kind::Time => match formats::TimeOfDay::parse(text) {
                None => self.push(
                    Severity::Warning,
                    Rule::DateTimeFormat,
                    path,
                    format!("`{name}` should be a time HH:MM, found {text:?}"),
                ),
                Some(time) if !time.has_timezone => self.push(
                    Severity::Info,
                    Rule::DateTimeFormat,
                    path,
                    format!("`{name}` has no timezone (add `Z` or an offset such as `+01:00`)"),
                ),
                Some(_) => {}
            },
            _ => {}
        }
    }
}
