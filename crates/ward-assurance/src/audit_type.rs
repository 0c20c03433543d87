//! The seven assurance audits, their dashboard labels, hub codes and when each is due.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{AssuranceError, cut};

/// A ward shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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

/// One of the seven assurance audits.
///
/// Parses from the hub code (`fridge_temps`) or the dashboard label (`Fridge Temperatures`),
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

    /// The assurance dashboard's label, e.g. `Fridge Temperatures`.
    #[must_use]
    pub const fn dashboard_label(self) -> &'static str {
        match self {
            Self::FridgeTemperatures => "Fridge Temperatures",
            Self::WaterTemperatures => "Water Temperatures",
            Self::Walkaround => "Walkaround",
            Self::ControlledDrugs => "Controlled Drugs",
            Self::ResusCheck => "Resus Check",
            Self::FireSafety => "Fire Safety",
            Self::LigatureCheck => "Ligature Check",
        }
    }

    /// When the audit is due.
    #[must_use]
    pub const fn cadence(self) -> Cadence {
        match self {
            Self::FridgeTemperatures => Cadence::Daily(Shift::Early),
            Self::WaterTemperatures => Cadence::Weekly,
            Self::Walkaround => Cadence::EachShiftChange,
            Self::ControlledDrugs => Cadence::Daily(Shift::Night),
            Self::ResusCheck => Cadence::Daily(Shift::Late),
            Self::FireSafety => Cadence::Weekly,
            Self::LigatureCheck => Cadence::Daily(Shift::Early),
        }
    }

    /// A dense index 0..7, for tables.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
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
            .ok_or_else(|| AssuranceError::UnknownAuditType { value: cut(value) })
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
        assert!(
            matches!(err, AssuranceError::UnknownAuditType { ref value } if value == "hand_hygiene")
        );
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
        let table: Vec<_> = AuditType::ALL
            .iter()
            .map(|t| {
                serde_json::json!({
                    "hubCode": t.hub_code(),
                    "label": t.dashboard_label(),
                    "cadence": t.cadence(),
                })
            })
            .collect();
        insta::assert_json_snapshot!(table);
    }
}
