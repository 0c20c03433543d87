//! The sync rule, without IO: what to do with one entry a peer lists, given this directory's
//! copy and the content both last agreed on (a three-way decision).
//!
//! | this directory's copy | the peer's entry | outcome |
//! | --- | --- | --- |
//! | absent | any | **import** |
//! | same content | same content | **agree** (remember it as the base) |
//! | unchanged since the base | changed | **import** (the peer edited it) |
//! | changed since the base | unchanged | **keep** (this side edited it; the peer takes it on its own pull) |
//! | changed | changed (or no base: both had the entry before they first met) | **conflict**: the later `last_modified` wins (one with a `last_modified` beats one without); when they are equal or both absent, the directory whose id sorts first wins |
//!
//! Both directories decide a conflict the same way (the rule is symmetric: see the property
//! test), so after one pull in each direction they hold the same content and agree from then
//! on: an import never changes a record's content beyond what the peer sent, and unchanged
//! entries are never written again, so nothing ping-pongs.

use chrono::{DateTime, FixedOffset};

/// One side's version of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Version<'a> {
    /// [`super::content_hash`] of the service.
    pub hash: &'a str,
    /// Its `last_modified`, when readable and not in the future.
    pub modified: Option<DateTime<FixedOffset>>,
    /// The directory holding this version (this directory's id or the peer's).
    pub directory: &'a str,
}

impl<'a> Version<'a> {
    /// A version.
    pub fn new(hash: &'a str, modified: Option<DateTime<FixedOffset>>, directory: &'a str) -> Self {
        Self {
            hash,
            modified,
            directory,
        }
    }
}

/// What to do with a peer's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Not here yet: import it.
    ImportNew,
    /// The peer edited it and this side did not: import.
    ImportChanged,
    /// Both edited it and the peer's version wins the conflict: import.
    ImportConflict,
    /// Same content on both sides.
    Agree,
    /// This side edited it and the peer did not: keep ours.
    KeepLocalEdit,
    /// Both edited it and this side's version wins the conflict: keep ours.
    KeepConflict,
}

impl Decision {
    /// Whether the peer's content is written here.
    pub fn imports(self) -> bool {
        matches!(
            self,
            Self::ImportNew | Self::ImportChanged | Self::ImportConflict
        )
    }
}

/// Whether `remote` wins a conflict with `local`: the later `last_modified` (a version with
/// one beats a version without), then the smaller directory id. Symmetric:
/// `remote_wins(a, b) == !remote_wins(b, a)` for different directories.
pub fn remote_wins(local: &Version<'_>, remote: &Version<'_>) -> bool {
    match (local.modified, remote.modified) {
        (Some(l), Some(r)) if l != r => r > l,
        (Some(_), None) => false,
        (None, Some(_)) => true,
        _ => remote.directory < local.directory,
    }
}

/// Decides one entry. `base`: the content hash both sides last agreed on, if any.
pub fn decide(local: Option<&Version<'_>>, remote: &Version<'_>, base: Option<&str>) -> Decision {
    let Some(local) = local else {
        return Decision::ImportNew;
    };
    if local.hash == remote.hash {
        return Decision::Agree;
    }
    match base {
        Some(base) if base == local.hash => Decision::ImportChanged,
        Some(base) if base == remote.hash => Decision::KeepLocalEdit,
        _ if remote_wins(local, remote) => Decision::ImportConflict,
        _ => Decision::KeepConflict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(s).ok()
    }

    #[test]
    fn the_table() {
        let ours = Version::new("h1", at("2026-01-01T00:00:00Z"), "a");
        let theirs = Version::new("h2", at("2026-01-02T00:00:00Z"), "b");
        assert_eq!(decide(None, &theirs, None), Decision::ImportNew);
        assert_eq!(decide(Some(&ours), &ours, Some("h0")), Decision::Agree);
        assert_eq!(
            decide(Some(&ours), &theirs, Some("h1")),
            Decision::ImportChanged
        );
        assert_eq!(
            decide(Some(&ours), &theirs, Some("h2")),
            Decision::KeepLocalEdit
        );
        assert_eq!(
            decide(Some(&ours), &theirs, Some("h0")),
            Decision::ImportConflict
        );
        assert_eq!(
            decide(Some(&theirs), &ours, Some("h0")),
            Decision::KeepConflict
        );
        // Equal times: the smaller directory id wins on both sides.
        let a = Version::new("h1", None, "a");
        let b = Version::new("h2", None, "b");
        assert_eq!(decide(Some(&b), &a, None), Decision::ImportConflict);
        assert_eq!(decide(Some(&a), &b, None), Decision::KeepConflict);
    }

    proptest! {
        /// Whatever the contents, times and the agreed base, one pull each way leaves both
        /// sides on the same content, and a further pull each way changes nothing.
        #[test]
        fn two_pulls_converge(
            ha in 0u8..3, hb in 0u8..3,
            ta in proptest::option::of(0i64..3), tb in proptest::option::of(0i64..3),
            base in proptest::option::of((0u8..3, proptest::option::of(0i64..3))),
            a_first in any::<bool>(),
        ) {
            let time = |t: Option<i64>| t.and_then(|t| DateTime::from_timestamp(t * 60, 0)).map(|t| t.fixed_offset());
            // The hash covers the whole service, `last_modified` included.
            let mut a = (format!("h{ha}-{ta:?}"), time(ta));
            let mut b = (format!("h{hb}-{tb:?}"), time(tb));
            // Bases as the protocol leaves them: both sides remember the same agreed content,
            // or neither has met the other yet.
            let mut base_at_a = base.map(|(h, t)| format!("h{h}-{t:?}"));
            let mut base_at_b = base_at_a.clone();
            fn pull(
                local: &mut (String, Option<DateTime<FixedOffset>>), local_id: &str,
                remote: &(String, Option<DateTime<FixedOffset>>), remote_id: &str,
                base: &mut Option<String>,
            ) -> bool {
                let l = Version::new(&local.0, local.1, local_id);
                let r = Version::new(&remote.0, remote.1, remote_id);
                let decision = decide(Some(&l), &r, base.as_deref());
                if decision.imports() {
                    *local = remote.clone();
                    *base = Some(remote.0.clone());
                    true
                } else {
                    if decision == Decision::Agree { *base = Some(local.0.clone()); }
                    false
                }
            }
            for _ in 0..2 {
                if a_first {
                    pull(&mut a, "dir-a", &b.clone(), "dir-b", &mut base_at_a);
                    pull(&mut b, "dir-b", &a.clone(), "dir-a", &mut base_at_b);
                } else {
                    pull(&mut b, "dir-b", &a.clone(), "dir-a", &mut base_at_b);
                    pull(&mut a, "dir-a", &b.clone(), "dir-b", &mut base_at_a);
                }
            }
            prop_assert_eq!(&a, &b);
            let wrote_a = pull(&mut a, "dir-a", &b.clone(), "dir-b", &mut base_at_a);
            let wrote_b = pull(&mut b, "dir-b", &a.clone(), "dir-a", &mut base_at_b);
            prop_assert!(!wrote_a && !wrote_b, "no ping-pong once converged");
        }

        #[test]
        fn conflicts_are_decided_the_same_way_on_both_sides(
            ta in proptest::option::of(0i64..4), tb in proptest::option::of(0i64..4),
        ) {
            let time = |t: Option<i64>| t.and_then(|t| DateTime::from_timestamp(t, 0)).map(|t| t.fixed_offset());
            let a = Version::new("ha", time(ta), "dir-a");
            let b = Version::new("hb", time(tb), "dir-b");
            prop_assert_ne!(remote_wins(&a, &b), remote_wins(&b, &a));
        }
    }
}
