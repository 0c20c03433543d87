//! Naming a Gateway PC.

use std::fmt;
use std::sync::Arc;

/// The name of one Gateway PC (one SystmOne client) in a pool, e.g. `"gw-1"`.
///
/// It appears in `tracing` spans, errors and pool results, so it must not contain patient data;
/// it is a short operator-chosen label. Cheap to clone.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GatewayId(Arc<str>);

impl GatewayId {
    /// A gateway id from an operator-chosen label.
    #[must_use]
    pub fn new(label: impl AsRef<str>) -> Self {
        Self(Arc::from(label.as_ref()))
    }

    /// The label.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for GatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GatewayId({:?})", &*self.0)
    }
}

impl fmt::Display for GatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for GatewayId {
    fn from(label: &str) -> Self {
        Self::new(label)
    }
}

impl From<String> for GatewayId {
    fn from(label: String) -> Self {
        Self(Arc::from(label))
    }
}
