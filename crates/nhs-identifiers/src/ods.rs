use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::IdentifierError;

/// An Organisation Data Service code: a GP practice (`A81001`), a trust (`RX1`), a site
/// (`RX1AB`) or any other ODS-registered organisation.
///
/// Accepted: 3 to 12 ASCII letters and digits, surrounding white space trimmed, letters
/// upper-cased. ODS codes identify organisations, not people, so `Debug` shows them in full.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OdsCode(String);

impl OdsCode {
    /// The code, upper-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parse_str(input: &str) -> Result<Self, IdentifierError> {
        let trimmed = input.trim();
        if trimmed.len() < 3 {
            return Err(IdentifierError::InvalidOdsCode {
                reason: "shorter than 3 characters",
            });
        }
        if trimmed.len() > 12 {
            return Err(IdentifierError::InvalidOdsCode {
                reason: "longer than 12 characters",
            });
        }
        if !trimmed.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdentifierError::InvalidOdsCode {
                reason: "contains a character that is not an ASCII letter or digit",
            });
        }
        Ok(Self(trimmed.to_ascii_uppercase()))
    }
}

impl FromStr for OdsCode {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_str(s)
    }
}

impl TryFrom<&str> for OdsCode {
    type Error = IdentifierError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse_str(value)
    }
}

impl TryFrom<String> for OdsCode {
    type Error = IdentifierError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_str(&value)
    }
}

impl AsRef<str> for OdsCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OdsCode({})", self.0)
    }
}

impl Serialize for OdsCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OdsCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse_str(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!("a81001".parse::<OdsCode>().unwrap().as_str(), "A81001");
        assert_eq!(" RX1 ".parse::<OdsCode>().unwrap().as_str(), "RX1");
        let json = serde_json::to_string(&OdsCode::try_from("b82005").unwrap()).unwrap();
        assert_eq!(json, "\"B82005\"");
    }

    #[test]
    fn rejects_with_a_reason() {
        for bad in ["", "AB", "A81 001", "A81001-X", "ABCDEFGHIJKLM"] {
            let err = bad.parse::<OdsCode>().unwrap_err();
            assert!(
                matches!(err, IdentifierError::InvalidOdsCode { .. }),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<OdsCode>("\"A!\"").is_err());
    }
}
