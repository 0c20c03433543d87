//! UUIDs for resource ids, `urn:uuid:` full URLs and bundle identifiers.
//!
//! The library never draws ids from a random source or the clock: callers inject an
//! [`IdGenerator`]. Production code wraps its UUID v4 source; tests use [`SequentialIds`], which
//! makes every message deterministic (snapshot tests rely on this).

use std::fmt;

use crate::error::Error;

/// A UUID in canonical lowercase `8-4-4-4-12` hexadecimal form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(String);

impl Uuid {
    /// The canonical string (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `urn:uuid:` form used for `Bundle.entry.fullUrl` and references.
    pub fn urn(&self) -> String {
        format!("urn:uuid:{}", self.0)
    }

    /// A UUID made from 128 bits (formatted as-is, no version bits forced).
    pub fn from_u128(value: u128) -> Self {
        let hex = format!("{value:032x}");
        Self(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }
}

/// Whether `text` is a UUID in `8-4-4-4-12` hexadecimal form (either case): the workspace's
/// one check, from `nhs_identifiers::uuid`.
pub use nhs_identifiers::uuid::is_uuid;

impl TryFrom<&str> for Uuid {
    type Error = Error;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        let value = value.strip_prefix("urn:uuid:").unwrap_or(value);
        if is_uuid(value) {
            Ok(Self(value.to_ascii_lowercase()))
        } else {
            Err(Error::InvalidInput {
                field: "uuid",
                reason: "not a UUID in 8-4-4-4-12 hexadecimal form".to_owned(),
            })
        }
    }
}

impl std::str::FromStr for Uuid {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_from(s)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({})", self.0)
    }
}

/// Source of fresh UUIDs for one message. Every id a builder needs is drawn from here, in a fixed
/// order, so the same generator state and inputs always give the same message.
pub trait IdGenerator {
    /// The next UUID. Must be unique within a message (and, in production, globally).
    fn next_uuid(&mut self) -> Uuid;
}

impl<F: FnMut() -> Uuid> IdGenerator for F {
    fn next_uuid(&mut self) -> Uuid {
        self()
    }
}

/// Deterministic ids for tests and examples: `prefix` in the top 64 bits, a counter below.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SequentialIds {
    prefix: u64,
    next: u64,
}

impl SequentialIds {
    /// Ids `prefix-…-0001`, `prefix-…-0002`, …
    pub fn new(prefix: u64) -> Self {
        Self { prefix, next: 1 }
    }
}

impl IdGenerator for SequentialIds {
    fn next_uuid(&mut self) -> Uuid {
        let value = (u128::from(self.prefix) << 64) | u128::from(self.next);
        self.next = self.next.wrapping_add(1);
        Uuid::from_u128(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_are_canonical_and_distinct() {
        let mut ids = SequentialIds::new(0xA1B2);
        let a = ids.next_uuid();
        let b = ids.next_uuid();
        assert_ne!(a, b);
        assert!(is_uuid(a.as_str()));
        assert_eq!(a.as_str(), "00000000-0000-a1b2-0000-000000000001");
        assert_eq!(Uuid::try_from(a.urn().as_str()).unwrap(), a);
    }

    #[test]
    fn rejects_non_uuids() {
        assert!(Uuid::try_from("not-a-uuid").is_err());
        assert!(Uuid::try_from("00000000-0000-a1b2-0000-00000000000g").is_err());
    }
}
