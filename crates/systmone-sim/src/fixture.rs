//! Loading an organisation from a JSON fixture, and the built-in default.
//!
//! The format is [`OrganisationData`] as JSON (snake-case field names, optional fields may be
//! left out). `fixtures/default.json` in this crate is the built-in default, embedded at
//! compile time, so the file and [`OrganisationData::builtin_default`] always agree.
//!
//! Loading checks what the model's types cannot: NHS numbers are from the 999 test range and
//! unique, user names and UIDs are unique, events name known users, at least one site exists.

use std::collections::HashSet;
use std::path::Path;

use crate::error::SimError;
use crate::model::OrganisationData;

/// The built-in default organisation, as JSON.
pub const DEFAULT_FIXTURE_JSON: &str = include_str!("../fixtures/default.json");

/// Largest fixture accepted (16 MiB): a bigger file is surely a mistake.
pub const MAX_FIXTURE_BYTES: usize = 16 * 1024 * 1024;

impl OrganisationData {
    /// Parses and checks a JSON fixture.
    ///
    /// # Errors
    /// [`SimError::FixtureSyntax`] (with line and column) when the JSON does not fit the model,
    /// [`SimError::FixtureInvalid`] when it breaks a consistency rule.
    pub fn from_json_str(json: &str) -> Result<Self, SimError> {
        if json.len() > MAX_FIXTURE_BYTES {
            return Err(SimError::FixtureInvalid(format!(
                "fixture is {} bytes, more than the {MAX_FIXTURE_BYTES} allowed",
                json.len()
            )));
        }
        let data: Self = serde_json::from_str(json).map_err(|e| SimError::FixtureSyntax {
            line: e.line(),
            column: e.column(),
            // A fixture holds patient data: never repeat the value serde choked on.
            message: nhs_identifiers::redact::serde_error(&e.to_string()),
        })?;
        data.validate()?;
        Ok(data)
    }

    /// Reads, parses and checks a JSON fixture file.
    ///
    /// # Errors
    /// [`SimError::FixtureIo`] when the file cannot be read, otherwise as
    /// [`OrganisationData::from_json_str`].
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self, SimError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SimError::FixtureIo {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_str(&text)
    }

    /// The built-in default organisation (`fixtures/default.json`): two sites, two Gateway
    /// users (`gateway0001`, `gateway0002`), three clinicians (`jbloggs1234`, `asmith5678`,
    /// `lworker0042`), five patients with 999 test-range NHS numbers (`9990001006`,
    /// `9990001014`, `9990001022`, `9990001030`, `9990001049`), two clinics with free slots
    /// and one registered software (`0a1b2c3d4e5f6071` → `Example Integration`).
    pub fn builtin_default() -> Self {
        // The embedded file is checked by a unit test; should it ever fail, fall back to an
        // empty organisation rather than panicking.
        Self::from_json_str(DEFAULT_FIXTURE_JSON).unwrap_or_else(|_| Self {
            name: "Empty organisation".to_owned(),
            sites: Vec::new(),
            users: Vec::new(),
            patients: Vec::new(),
            clinics: Vec::new(),
            slot_types: Vec::new(),
            clinic_types: Vec::new(),
            registered_software: Vec::new(),
            reference_data: Vec::new(),
        })
    }

    /// Checks the rules the types cannot express.
    ///
    /// # Errors
    /// [`SimError::FixtureInvalid`] naming the first rule broken (never a full NHS number).
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::FixtureInvalid(m));
        if self.sites.is_empty() {
            return bad("the organisation has no site".to_owned());
        }
        let mut site_ids = HashSet::new();
        for site in &self.sites {
            if !site_ids.insert(site.id.as_str()) {
                return bad(format!("duplicate site id {:?}", site.id));
            }
        }
        let mut users = HashSet::new();
        for user in &self.users {
            if user.user_name.is_empty() {
                return bad("a user has an empty user_name".to_owned());
            }
            if !users.insert(user.user_name.as_str()) {
                return bad(format!("duplicate user name {:?}", user.user_name));
            }
            if !user.site_id.is_empty() && !site_ids.contains(user.site_id.as_str()) {
                return bad(format!(
                    "user {:?} names unknown site {:?}",
                    user.user_name, user.site_id
                ));
            }
        }
        let mut numbers = HashSet::new();
        let mut uids = HashSet::new();
        for (index, patient) in self.patients.iter().enumerate() {
            if !patient.nhs_number.is_test_range() {
                return bad(format!(
                    "patient #{index} ({}) is not in the 999 test range: only fictitious data",
                    patient.nhs_number
                ));
            }
            if !numbers.insert(patient.nhs_number) {
                return bad(format!(
                    "patient #{index}: NHS number {} appears twice",
                    patient.nhs_number
                ));
            }
            if !matches!(patient.sex.as_str(), "M" | "F" | "I" | "U") {
                return bad(format!("patient #{index}: sex must be M, F, I or U"));
            }
            for event in &patient.journal {
                if !uids.insert(event.event_uid.as_str()) {
                    return bad(format!("duplicate UID {:?}", event.event_uid));
                }
                for name in [&event.author, &event.entered_by] {
                    if !users.contains(name.as_str()) {
                        return bad(format!(
                            "event {:?} names unknown user {name:?}",
                            event.event_uid
                        ));
                    }
                }
            }
            for task in &patient.tasks {
                if !uids.insert(task.task_uid.as_str()) {
                    return bad(format!("duplicate UID {:?}", task.task_uid));
                }
            }
            for appointment in &patient.appointments {
                if !uids.insert(appointment.appointment_uid.as_str()) {
                    return bad(format!("duplicate UID {:?}", appointment.appointment_uid));
                }
            }
        }
        for clinic in &self.clinics {
            if !users.contains(clinic.user_name.as_str()) {
                return bad(format!("clinic names unknown user {:?}", clinic.user_name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_default_parses_and_is_fictitious() {
        let data = OrganisationData::from_json_str(DEFAULT_FIXTURE_JSON).unwrap();
        assert_eq!(data, OrganisationData::builtin_default());
        assert!(data.patients.iter().all(|p| p.nhs_number.is_test_range()));
        assert_eq!(data.users.iter().filter(|u| u.gateway).count(), 2);
    }

    #[test]
    fn snapshots_save_as_fixtures_that_load_back_equal() {
        let org = crate::Organisation::builtin_default();
        org.open_record_elsewhere(&"9990001006".parse().unwrap());
        let snapshot = org.snapshot();
        let json = serde_json::to_string_pretty(&snapshot).unwrap();
        assert_eq!(OrganisationData::from_json_str(&json).unwrap(), snapshot);
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = OrganisationData::from_json_str("{\n  \"name\": 3\n}").unwrap_err();
        match err {
            SimError::FixtureSyntax { line, .. } => assert_eq!(line, 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_never_repeat_the_value() {
        let json = DEFAULT_FIXTURE_JSON.replacen("\"9990001014\"", "9990001014", 1);
        let err = OrganisationData::from_json_str(&json).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SimError::FixtureSyntax { .. }), "{text}");
        assert!(!text.contains("9990001014"), "{text}");
    }

    #[test]
    fn real_range_numbers_are_refused_without_printing_them() {
        let json = DEFAULT_FIXTURE_JSON.replace("9990001014", "4010232137");
        let err = OrganisationData::from_json_str(&json).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("test range"), "{text}");
        assert!(!text.contains("4010232137"), "{text}");
    }

    #[test]
    fn duplicates_and_dangling_users_are_refused() {
        let dup = DEFAULT_FIXTURE_JSON.replace("9990001014", "9990001006");
        assert!(matches!(
            OrganisationData::from_json_str(&dup),
            Err(SimError::FixtureInvalid(_))
        ));
        let dangling = DEFAULT_FIXTURE_JSON
            .replace("\"author\": \"jbloggs1234\"", "\"author\": \"JBLOGGS1234\"");
        assert!(matches!(
            OrganisationData::from_json_str(&dangling),
            Err(SimError::FixtureInvalid(_))
        ));
    }

    #[test]
    fn hostile_inputs_give_typed_errors() {
        let cases: [&str; 7] = [
            "",
            "null",
            "[]",
            "{",
            "{\"name\":\"x\",\"sites\":[],\"users\":[]}",
            "{\"name\":\"x\",\"sites\":[{\"id\":\"A\",\"name\":\"s\"}],\"users\":[],\"bogus\":1}",
            &"[".repeat(10_000),
        ];
        for case in cases {
            assert!(OrganisationData::from_json_str(case).is_err(), "{case:.40}");
        }
    }
}
