//! `Debug` that shows the shape of free text (whether it is set, how long it is), never the
//! text: notes, comments, `DoneBy`, file names and the like may hold a patient's name,
//! address, phone number or NHS number.

use std::fmt;

/// A value whose `Debug` is redacted: a string prints as `<n chars>`, an `Option` as
/// `Some(<n chars>)` / `None`, a list as `[<n chars>, …]`.
pub(crate) trait Redact {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl Redact for str {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} chars>", self.chars().count())
    }
}

impl Redact for String {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt_redacted(f)
    }
}

impl<T: Redact> Redact for Option<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(value) => f.debug_tuple("Some").field(&Redacted(value)).finish(),
            None => f.write_str("None"),
        }
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(Redacted)).finish()
    }
}

/// Wraps a reference so that its `Debug` is the redacted form.
pub(crate) struct Redacted<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: Redact + ?Sized> fmt::Debug for Redacted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_redacted(f)
    }
}

/// Implements `Debug` for a struct like `#[derive(Debug)]` would, in field order, except that
/// the fields marked `: redacted` print their shape only ([`Redact`]), and the output ends with
/// `..` like the crate's other masking impls. Every field must be listed (the impl destructures
/// `self`), so a new field cannot be forgotten.
///
/// ```text
/// debug_redacted!(Task { task_uid, content: redacted });
/// ```
macro_rules! debug_redacted {
    ($ty:ident { $($field:ident $(: $redacted:ident)?),* $(,)? }) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let Self { $($field),* } = self;
                f.debug_struct(stringify!($ty))
                    $(.field(
                        stringify!($field),
                        $crate::redact::debug_redacted!(@value $field $(, $redacted)?),
                    ))*
                    .finish_non_exhaustive()
            }
        }
    };
    (@value $field:ident) => {
        $field
    };
    (@value $field:ident, redacted) => {
        &$crate::redact::Redacted($field)
    };
}
pub(crate) use debug_redacted;
