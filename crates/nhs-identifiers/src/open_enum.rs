//! Code lists a newer peer may extend: [`open_enum!`](macro@crate::open_enum) and [`Unknown`].
//!
//! A code list from SystmOne, FHIR or ORUK can gain values after a crate is released. Each is
//! an enum of the values we know plus `Other(Unknown)`, which keeps what was received so it
//! round-trips. [`Unknown`]'s text is private: a caller can only match `Other(_)`, never
//! `Other(text) if text == "new-value"`, so when a later release learns `"new-value"` as a
//! variant no caller's match silently stops matching.

use std::fmt;

/// A value outside a code list, kept exactly as received. Its text is readable
/// ([`Unknown::as_str`]) but not matchable, and it can only be made by parsing.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unknown(String);

impl Unknown {
    /// For [`open_enum!`](macro@crate::open_enum) only: a known value never becomes an `Unknown`.
    #[doc(hidden)]
    pub fn __new(value: &str) -> Self {
        Self(value.to_owned())
    }

    /// The value as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Code values are not patient data, but a hostile peer could put anything here.
        write!(f, "Unknown(<{} chars>)", self.0.chars().count())
    }
}

/// Declares a code list with a catch-all: the known values, then `Other(Unknown)`.
///
/// Each variant names its wire value and, optionally, a display text (`=> "Display"`). The
/// enum gets `as_str`, `from_wire`, `display`, `is_known`, `KNOWN`, `Display`, `FromStr`
/// (never fails), `From<&str>`, and serde as a string.
///
/// ```
/// nhs_identifiers::open_enum! {
///     /// `service.status`.
///     pub enum ServiceStatus {
///         /// Running.
///         Active = "active",
///         /// Closed for a while.
///         TemporarilyClosed = "temporarily closed" => "Temporarily closed",
///     }
/// }
///
/// let s = ServiceStatus::from_wire("defunct");
/// assert!(!s.is_known());
/// assert_eq!(s.as_str(), "defunct"); // kept, so it round-trips
/// assert!(matches!(s, ServiceStatus::Other(_)));
/// assert_eq!(ServiceStatus::TemporarilyClosed.display(), "Temporarily closed");
/// assert_eq!(ServiceStatus::Active.display(), "");
/// assert_eq!(serde_json::to_string(&ServiceStatus::Active).unwrap(), "\"active\"");
/// ```
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(=> $display:literal)? ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know (a newer peer may send it), kept as received.
            Other($crate::open_enum::Unknown),
        }

        impl $name {
            /// Every known value, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(value) => value.as_str(),
                }
            }

            /// Reads a wire value; values this version does not know become `Other`.
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Other($crate::open_enum::Unknown::__new(other)),
                }
            }

            /// The display text fixed by the code system (empty where none is declared, and
            /// for unknown values).
            pub fn display(&self) -> &'static str {
                match self {
                    $( Self::$variant => $crate::open_enum!(@display $($display)?), )+
                    Self::Other(_) => "",
                }
            }

            /// Whether this is one of the values this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from_wire(value))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::from_wire(value)
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let value: ::std::borrow::Cow<'de, str> =
                    $crate::__serde::Deserialize::deserialize(deserializer)?;
                Ok(Self::from_wire(&value))
            }
        }
    };
    (@display $display:literal) => { $display };
    (@display) => { "" };
}

#[cfg(test)]
mod tests {
    crate::open_enum! {
        /// A test list.
        pub enum Colour {
            /// Red.
            Red = "red" => "Red colour",
            /// Green.
            Green = "green",
        }
    }

    #[test]
    fn known_values_round_trip_and_unknown_ones_are_kept() {
        for c in Colour::KNOWN {
            assert_eq!(&Colour::from_wire(c.as_str()), c);
            assert!(c.is_known());
        }
        let blue: Colour = "blue".parse().unwrap();
        assert_eq!(blue.as_str(), "blue");
        assert_eq!(blue.to_string(), "blue");
        assert_eq!(blue.display(), "");
        assert_eq!(Colour::Red.display(), "Red colour");
        assert!(matches!(&blue, Colour::Other(u) if u.as_str() == "blue"));
        assert_eq!(format!("{blue:?}"), "Other(Unknown(<4 chars>))");
    }

    #[test]
    fn serde_is_the_wire_string() {
        let json = serde_json::to_string(&[Colour::Green, Colour::from_wire("x y")]).unwrap();
        assert_eq!(json, r#"["green","x y"]"#);
        let back: Vec<Colour> = serde_json::from_str(r#"["green","x\ny"]"#).unwrap();
        assert_eq!(back[0], Colour::Green);
        assert_eq!(back[1].as_str(), "x\ny");
    }
}
