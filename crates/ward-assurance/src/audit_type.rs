//! The seven assurance audits, their dashboard labels, hub codes and when each is due.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::AssuranceError;

/// A ward shift. Its hours are trust configuration ([`crate::ShiftWindows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Shift {
    /// The early (day) shift.
    Early,
    /// The late (afternoon and evening) shift.
    Late,
    /// The night shift.
    Night,
}

impl Shift {
    /// The three shifts, in the order of the day.
    pub const ALL: [Shift; 3] = [Self::Early, Self::Late, Self::Night];

    /// `early`, `late` or `night`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Early => "early",
            Self::Late => "late",
            Self::Night => "night",
        }
    }
}

impl fmt::Display for Shift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How often an audit is due and in which shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase", tag = "every", content = "shift")]
#[non_exhaustive]
pub enum Cadence {
    /// Once a day, in the given shift.
    Daily(Shift),
    /// At each shift change (early to late, late to night, night to early).
    EachShiftChange,
    /// Once a week.
    Weekly,
}

/// One of the seven assurance audits, as in the integration design's audit type mapping:
///
/// | Dashboard audit | Hub `auditType` | Cadence |
/// | --- | --- | --- |
/// | Fridge Temperature | `fridge_temps` | Daily, early shift |
/// | Water Temperature | `water_temps` | Daily, late shift |
/// | Shift Walkaround | `walkaround` | Each shift change |
/// | Controlled Drugs | `controlled_drugs` | Daily, early shift |
/// | Resus Equipment | `resus_check` | Daily, early shift |
/// | Fire Safety | `fire_safety` | Weekly |
/// | Ligature Points | `ligature_check` | Daily, night shift |
///
/// Parses from the hub code (`fridge_temps`) or the dashboard label (`Fridge Temperature`),
/// ignoring case and treating spaces, hyphens and underscores alike. An unknown type is
/// [`AssuranceError::UnknownAuditType`]. Serialises as the hub code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AuditType {
    /// Medicines fridge temperatures.
    FridgeTemperatures,
    /// Water outlet temperatures (legionella).
    WaterTemperatures,
    /// Environmental walkaround.
    Walkaround,
    /// Controlled drugs register and stock check.
    ControlledDrugs,
    /// Resuscitation trolley and equipment check.
    ResusCheck,
    /// Fire safety check.
    FireSafety,
    /// Ligature point check.
    LigatureCheck,
}

impl AuditType {
    /// All seven audit types, in dashboard order.
    pub const ALL: [AuditType; 7] = [
        Self::FridgeTemperatures,
        Self::WaterTemperatures,
        Self::Walkaround,
        Self::ControlledDrugs,
        Self::ResusCheck,
        Self::FireSafety,
        Self::LigatureCheck,
    ];

    /// The hub's task code, e.g. `fridge_temps`.
    #[must_use]
    pub const fn hub_code(self) -> &'static str {
        match self {
            Self::FridgeTemperatures => "fridge_temps",
            Self::WaterTemperatures => "water_temps",
            Self::Walkaround => "walkaround",
            Self::ControlledDrugs => "controlled_drugs",
            Self::ResusCheck => "resus_check",
            Self::FireSafety => "fire_safety",
            Self::LigatureCheck => "ligature_check",
        }
    }

    /// The assurance dashboard's label, e.g. `Fridge Temperature`.
    #[must_use]
    pub const fn dashboard_label(self) -> &'static str {
        match self {
            Self::FridgeTemperatures => "Fridge Temperature",
            Self::WaterTemperatures => "Water Temperature",
            Self::Walkaround => "Shift Walkaround",
            Self::ControlledDrugs => "Controlled Drugs",
            Self::ResusCheck => "Resus Equipment",
            Self::FireSafety => "Fire Safety",
            Self::LigatureCheck => "Ligature Points",
        }
    }

    /// When the audit is due.
    #[must_use]
    pub const fn cadence(self) -> Cadence {
        match self {
            Self::FridgeTemperatures => Cadence::Daily(Shift::Early),
            Self::WaterTemperatures => Cadence::Daily(Shift::Late),
            Self::Walkaround => Cadence::EachShiftChange,
            Self::ControlledDrugs => Cadence::Daily(Shift::Early),
            Self::ResusCheck => Cadence::Daily(Shift::Early),
            Self::FireSafety => Cadence::Weekly,
            Self::LigatureCheck => Cadence::Daily(Shift::Night),
        }
    }

    /// The shift the audit is due in, for daily audits (`None` for walkarounds, which are
    /// due at every shift change, and weekly audits).
    #[must_use]
    pub const fn default_shift(self) -> Option<Shift> {
        match self.cadence() {
            Cadence::Daily(shift) => Some(shift),
            Cadence::EachShiftChange | Cadence::Weekly => None,
        }
    }

    /// The row `GET /api/assurance/audit-types` serves for this type:
    /// `{"code","label","cadence","shift"}` (`cadence` is `daily`, `eachShiftChange` or
    /// `weekly`; `shift` is `early`, `late`, `night` or null).
    #[must_use]
    pub fn catalogue_row(self) -> AuditTypeRow {
        let (cadence, shift) = match self.cadence() {
            Cadence::Daily(shift) => ("daily", Some(shift)),
            Cadence::EachShiftChange => ("eachShiftChange", None),
            Cadence::Weekly => ("weekly", None),
        };
        AuditTypeRow {
            code: self.hub_code(),
            label: self.dashboard_label(),
            cadence,
            shift,
        }
    }

    /// The whole table, in dashboard order (what `GET /api/assurance/audit-types` serves).
    #[must_use]
    pub fn catalogue() -> Vec<AuditTypeRow> {
        Self::ALL.into_iter().map(Self::catalogue_row).collect()
    }

    /// A dense index 0..7, for tables.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// One row of the audit-type table served to the hub's admin pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditTypeRow {
    /// The hub code, e.g. `fridge_temps`.
    pub code: &'static str,
    /// The dashboard label, e.g. `Fridge Temperature`.
    pub label: &'static str,
    /// `daily`, `eachShiftChange` or `weekly`.
    pub cadence: &'static str,
    /// The shift of a daily audit.
    pub shift: Option<Shift>,
}

fn fold(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl FromStr for AuditType {
    type Err = AssuranceError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let folded = fold(value);
        Self::ALL
            .into_iter()
            .find(|t| folded == t.hub_code() || folded == fold(t.dashboard_label()))
            .ok_or(AssuranceError::UnknownAuditType)
    }
}

impl TryFrom<&str> for AuditType {
    type Error = AssuranceError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for AuditType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hub_code())
    }
}

impl Serialize for AuditType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.hub_code())
    }
}

impl<'de> Deserialize<'de> for AuditType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        value.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_code_and_label() {
        for t in AuditType::ALL {
            assert_eq!(t.hub_code().parse::<AuditType>().unwrap(), t);
            assert_eq!(t.dashboard_label().parse::<AuditType>().unwrap(), t);
            assert_eq!(
                t.dashboard_label()
                    .to_uppercase()
                    .parse::<AuditType>()
                    .unwrap(),
                t
            );
            assert_eq!(
                format!(" {} ", t.hub_code()).parse::<AuditType>().unwrap(),
                t
            );
        }
        assert_eq!(
            "controlled-drugs".parse::<AuditType>().unwrap(),
            AuditType::ControlledDrugs
        );
    }

    #[test]
    fn unknown_type_is_typed_error() {
        let err = "hand_hygiene".parse::<AuditType>().unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_AUDIT_TYPE");
        assert!(!err.to_string().contains("hand_hygiene"), "{err}");
        assert!("".parse::<AuditType>().is_err());
    }

    #[test]
    fn codes_and_labels_are_distinct() {
        let codes: std::collections::HashSet<_> =
            AuditType::ALL.iter().map(|t| t.hub_code()).collect();
        assert_eq!(codes.len(), 7);
        for (i, t) in AuditType::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
    }

    #[test]
    fn catalogue_snapshot() {
        insta::assert_json_snapshot!(AuditType::catalogue());
    }

    /// The design's "Audit Type Mapping" table, row by row.
    #[test]
    fn matches_the_design_table() {
        let design = [
            (
                "Fridge Temperature",
                "fridge_temps",
                "daily",
                Some(Shift::Early),
            ),
            (
                "Water Temperature",
                "water_temps",
                "daily",
                Some(Shift::Late),
            ),
            ("Shift Walkaround", "walkaround", "eachShiftChange", None),
            (
                "Controlled Drugs",
                "controlled_drugs",
                "daily",
                Some(Shift::Early),
            ),
            (
                "Resus Equipment",
                "resus_check",
                "daily",
                Some(Shift::Early),
            ),
            ("Fire Safety", "fire_safety", "weekly", None),
            (
                "Ligature Points",
                "ligature_check",
                "daily",
                Some(Shift::Night),
            ),
        ];
        assert_eq!(AuditType::ALL.len(), design.len());
        for (t, (label, code, cadence, shift)) in AuditType::ALL.into_iter().zip(design) {
            let row = t.catalogue_row();
            assert_eq!(
                (row.label, row.code, row.cadence, row.shift),
                (label, code, cadence, shift)
            );
            assert_eq!(label.parse::<AuditType>().unwrap(), t);
            assert_eq!(code.parse::<AuditType>().unwrap(), t);
        }
    }
}
