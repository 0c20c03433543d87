//! What a refused request answers on the wire.

/// An error answered on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) message: String,
    pub(crate) permanent: bool,
}

impl Refusal {
    pub(crate) fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }

    pub(crate) fn temporary(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    pub(crate) fn record_in_use() -> Self {
        Self::temporary("The patient record is in use. Please try again later")
    }

    pub(crate) fn no_patient() -> Self {
        Self::permanent("No patient found with the given identity")
    }
}
