//! Keeping the device id SystmOne allocated to this installation.
//!
//! On first contact a request carries an empty `DeviceID`; SystmOne asks the logged-in user to
//! approve the software and answers with a newly allocated id, which must be sent from then on
//! (an empty id makes *every* request ask the user again). The dispatcher loads the id from a
//! [`DeviceIdStore`] when it starts and saves the id every time the response carries a new one.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Longest device id accepted from a store or a response (TPP's are 16 hex characters).
pub const MAX_DEVICE_ID_LEN: usize = 64;

/// Checks that `id` looks like a device id: non-empty, at most [`MAX_DEVICE_ID_LEN`] ASCII
/// letters and digits (TPP's are 16 hex characters).
pub(crate) fn is_plausible_device_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_DEVICE_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Persists the device id of one SystmOne client installation.
///
/// Implementations are called rarely (once at start, once per newly allocated id) and may
/// block briefly.
pub trait DeviceIdStore: Send + Sync + fmt::Debug {
    /// The stored id, or `None` before first contact.
    ///
    /// # Errors
    /// The store cannot be read, or holds something that is not a device id.
    fn load(&self) -> io::Result<Option<String>>;

    /// Stores `device_id`, replacing any previous one; it must be durable when this returns.
    ///
    /// # Errors
    /// The store cannot be written.
    fn save(&self, device_id: &str) -> io::Result<()>;
}

/// Keeps the id in memory only (tests, or callers that persist it themselves).
#[derive(Debug, Default)]
pub struct MemoryDeviceIdStore {
    id: Mutex<Option<String>>,
}

impl MemoryDeviceIdStore {
    /// An empty store (first contact).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that already holds `device_id`.
    #[must_use]
    pub fn with_id(device_id: impl Into<String>) -> Self {
        Self {
            id: Mutex::new(Some(device_id.into())),
        }
    }
}

impl DeviceIdStore for MemoryDeviceIdStore {
    fn load(&self) -> io::Result<Option<String>> {
        let guard = self
            .id
            .lock()
            .map_err(|_| io::Error::other("device id store lock poisoned"))?;
        Ok(guard.clone())
    }

    fn save(&self, device_id: &str) -> io::Result<()> {
        let mut guard = self
            .id
            .lock()
            .map_err(|_| io::Error::other("device id store lock poisoned"))?;
        *guard = Some(device_id.to_owned());
        Ok(())
    }
}

/// Keeps the id in a small text file (the default): one line holding the id.
///
/// Saving writes a sibling temporary file, syncs it and renames it over the old one, so a
/// crash leaves either the old or the new id, never a torn file.
#[derive(Clone, Debug)]
pub struct FileDeviceIdStore {
    path: PathBuf,
}

impl FileDeviceIdStore {
    /// A store at `path` (the file need not exist yet; its directory must).
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the id is kept.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl DeviceIdStore for FileDeviceIdStore {
    fn load(&self) -> io::Result<Option<String>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let id = text.trim();
        if id.is_empty() {
            return Ok(None);
        }
        if !is_plausible_device_id(id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} does not hold a device id (expected up to {MAX_DEVICE_ID_LEN} ASCII letters and digits)",
                    self.path.display()
                ),
            ));
        }
        Ok(Some(id.to_owned()))
    }

    fn save(&self, device_id: &str) -> io::Result<()> {
        if !is_plausible_device_id(device_id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "refusing to store an implausible device id",
            ));
        }
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(device_id.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_round_trips_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileDeviceIdStore::new(dir.path().join("device-id"));
        assert_eq!(store.load().unwrap(), None);
        store.save("7c41d09e2b8a5f13").unwrap();
        assert_eq!(store.load().unwrap().as_deref(), Some("7c41d09e2b8a5f13"));
        store.save("0a1b2c3d4e5f6071").unwrap();
        assert_eq!(
            FileDeviceIdStore::new(store.path())
                .load()
                .unwrap()
                .as_deref(),
            Some("0a1b2c3d4e5f6071")
        );
    }

    #[test]
    fn file_store_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device-id");
        std::fs::write(&path, "<not an id>").unwrap();
        let error = FileDeviceIdStore::new(&path).load().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(FileDeviceIdStore::new(&path).save("bad id\n").is_err());
        std::fs::write(&path, "  \n").unwrap();
        assert_eq!(FileDeviceIdStore::new(&path).load().unwrap(), None);
    }

    #[test]
    fn memory_store() {
        let store = MemoryDeviceIdStore::new();
        assert_eq!(store.load().unwrap(), None);
        store.save("abc123").unwrap();
        assert_eq!(store.load().unwrap().as_deref(), Some("abc123"));
        assert_eq!(
            MemoryDeviceIdStore::with_id("x1")
                .load()
                .unwrap()
                .as_deref(),
            Some("x1")
        );
    }

    #[test]
    fn plausibility() {
        assert!(is_plausible_device_id("7c41d09e2b8a5f13"));
        assert!(!is_plausible_device_id(""));
        assert!(!is_plausible_device_id(&"a".repeat(MAX_DEVICE_ID_LEN + 1)));
        assert!(!is_plausible_device_id("a b"));
    }
}
