//! The reference each note carries in its text, so that a write whose outcome is unknown can be
//! found in the journal before it is retried.

use std::fmt;

/// What starts the reference line in a note's narrative. Narratives may not contain it.
pub const MARKER: &str = "[nhsi-ref ";

/// A note's unique reference, e.g. `3fa2c1d0-17`: the outbox instance and the note's id.
///
/// It is written as the last narrative line, `[nhsi-ref 3fa2c1d0-17]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NoteReference(String);

impl NoteReference {
    /// The reference for note `id` in the outbox instance `instance`.
    pub fn new(instance: &str, id: i64) -> Self {
        Self(format!("{instance}-{id}"))
    }

    /// Reads a stored reference (letters, digits and `-` only).
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        ok.then(|| Self(text.to_owned()))
    }

    /// The reference text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The narrative line that carries the reference.
    pub fn line(&self) -> String {
        format!("{MARKER}{}]", self.0)
    }

    /// Whether a journal narrative line carries this reference.
    pub fn is_in(&self, line: &str) -> bool {
        line.contains(&self.line())
    }
}

impl fmt::Display for NoteReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fresh random outbox instance id (8 lowercase hex digits) from the standard library's
/// randomly seeded hasher and the time.
pub(crate) fn new_instance_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("{:08x}", hasher.finish() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_lines_do_not_match_longer_ids() {
        let r17 = NoteReference::new("3fa2c1d0", 17);
        let r170 = NoteReference::new("3fa2c1d0", 170);
        assert_eq!(r17.line(), "[nhsi-ref 3fa2c1d0-17]");
        assert!(r17.is_in("Seen today. [nhsi-ref 3fa2c1d0-17]"));
        assert!(!r17.is_in(&r170.line()));
        assert!(!r170.is_in(&r17.line()));
    }

    #[test]
    fn parse_accepts_only_reference_characters() {
        assert!(NoteReference::parse("3fa2c1d0-17").is_some());
        assert!(NoteReference::parse("").is_none());
        assert!(NoteReference::parse("a]b").is_none());
        assert_eq!(new_instance_id().len(), 8);
    }
}
