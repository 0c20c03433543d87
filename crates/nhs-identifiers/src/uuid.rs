//! UUIDs: random v4 ids for production (from the `uuid` crate), a deterministic sequence for
//! snapshots, and the checks and formatting every crate needs.
//!
//! ```
//! use nhs_identifiers::uuid::{is_uuid, RandomUuids, SequentialUuids, UuidSource};
//!
//! let id = RandomUuids.next_uuid();
//! assert!(is_uuid(&id.to_string()));
//! assert_eq!(id.get_version_num(), 4);
//!
//! let fixed = SequentialUuids::starting_at(1);
//! assert_eq!(fixed.next_uuid().to_string(), "00000000-0000-4000-8000-000000000001");
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

pub use ::uuid::Uuid;

/// Whether `text` is a UUID in its `8-4-4-4-12` hexadecimal form (either case).
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A source of UUIDs, injected wherever ids are made, so output can be deterministic in tests.
pub trait UuidSource: Send + Sync {
    /// The next id.
    fn next_uuid(&self) -> Uuid;
}

/// Random version 4 UUIDs from the operating system's generator: use these in production.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomUuids;

impl UuidSource for RandomUuids {
    fn next_uuid(&self) -> Uuid {
        Uuid::new_v4()
    }
}

/// Deterministic UUIDs `00000000-0000-4000-8000-{n:012x}`, counting up from a start: valid
/// version 4 / RFC 4122 variant ids, for snapshots and reproducible examples only.
#[derive(Debug, Default)]
pub struct SequentialUuids(AtomicU64);

impl SequentialUuids {
    /// A sequence whose first id ends in `start`.
    pub fn starting_at(start: u64) -> Self {
        Self(AtomicU64::new(start))
    }
}

impl UuidSource for SequentialUuids {
    fn next_uuid(&self) -> Uuid {
        let n = self.0.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff_ffff;
        Uuid::from_u128((0x4000_u128 << 64) | (0x8000_u128 << 48) | u128::from(n))
    }
}

impl<S: UuidSource + ?Sized> UuidSource for std::sync::Arc<S> {
    fn next_uuid(&self) -> Uuid {
        (**self).next_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_are_valid_version_4_and_distinct() {
        let s = SequentialUuids::starting_at(0xabc);
        let a = s.next_uuid();
        let b = s.next_uuid();
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(a.get_variant(), ::uuid::Variant::RFC4122);
        assert_eq!(a.to_string(), "00000000-0000-4000-8000-000000000abc");
    }

    #[test]
    fn is_uuid_checks_form_only() {
        assert!(is_uuid("0A1B2C3D-0000-4000-8000-000000000001"));
        assert!(!is_uuid("0a1b2c3d00004000800000000000000001"));
        assert!(!is_uuid("0a1b2c3d-0000-4000-8000-00000000000g"));
        assert!(!is_uuid("urn:uuid:0a1b2c3d-0000-4000-8000-000000000001"));
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(RandomUuids.next_uuid(), RandomUuids.next_uuid());
    }
}
