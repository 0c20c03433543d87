//! Identifiers that are plain text on the wire: [`text_id!`](crate::text_id).

/// Declares a text identifier: a `String` newtype with `as_str`, `Display`, serde as a string
/// and `PartialEq<str>`.
///
/// Without a validator the id is opaque (`new` takes anything, as for ids a peer hands out).
/// With `validate = path` the function `fn(&str) -> Result<String, E>` checks (and may
/// normalise) every value, `new` returns its `Result`, and deserialising runs it too.
///
/// ```
/// nhs_identifiers::text_id! {
///     /// `EventUID`: one journal event, as SystmOne hands it out.
///     pub struct EventUid;
/// }
///
/// fn short(value: &str) -> Result<String, String> {
///     let value = value.trim();
///     if value.is_empty() || value.len() > 16 { Err("1 to 16 characters".into()) } else { Ok(value.into()) }
/// }
/// nhs_identifiers::text_id! {
///     /// A task id.
///     pub struct TaskId; validate = short, error = String;
/// }
///
/// assert_eq!(EventUid::new("4d5e6f").as_str(), "4d5e6f");
/// assert_eq!(TaskId::new(" T-1 ").unwrap().as_str(), "T-1");
/// assert!(TaskId::new("").is_err());
/// assert!(serde_json::from_str::<TaskId>("\"\"").is_err());
/// ```
#[macro_export]
macro_rules! text_id {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(String);

        impl $name {
            /// Wraps a value as received or to be sent.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl ::std::convert::From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                <String as $crate::__serde::Deserialize>::deserialize(deserializer).map(Self)
            }
        }

        $crate::text_id!(@common $name);
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident; validate = $validate:path, error = $err:ty;) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(String);

        impl $name {
            /// Checks (and normalises) a value.
            ///
            /// # Errors
            /// What the validator refuses.
            pub fn new(value: &str) -> ::std::result::Result<Self, $err> {
                $validate(value).map(Self)
            }
        }

        impl ::std::convert::TryFrom<&str> for $name {
            type Error = $err;
            fn try_from(value: &str) -> ::std::result::Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let value: ::std::borrow::Cow<'de, str> =
                    $crate::__serde::Deserialize::deserialize(deserializer)?;
                Self::new(&value).map_err(<D::Error as $crate::__serde::de::Error>::custom)
            }
        }

        $crate::text_id!(@common $name);
    };
    (@common $name:ident) => {
        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id, unwrapped.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::cmp::PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}
