//! Keeping the device id SystmOne allocated to this installation.
//!
//! On first contact a request carries an empty `DeviceID`; SystmOne asks the logged-in user to
//! approve the software and answers with a newly allocated id, which must be sent from then on
//! (an empty id makes *every* request ask the user again). The dispatcher loads the id from a
//! [`DeviceIdStore`] when it starts and saves the id every time the response carries a new one.
//!
//! # Default location
//!
//! Unless the builder is given a store, a client keeps its id in a [`FileDeviceIdStore`], one
//! file per gateway ([`FileDeviceIdStore::file_name_for`]) in the first of these that can be
//! determined ([`default_device_id_dir`]):
//!
//! 1. `$SYSTMONE_DEVICE_ID_DIR` ([`DEVICE_ID_DIR_ENV`]), used as it is;
//! 2. on Windows (where SystmOne runs): `%LOCALAPPDATA%\nhs-integration\systmone\`;
//! 3. elsewhere: `$XDG_STATE_HOME/nhs-integration/systmone/`, or
//!    `$HOME/.local/state/nhs-integration/systmone/` (both must be absolute paths).
//!
//! Empty variables count as unset. The directory is created on the first save. When none can be
//! determined the id is kept in memory and a warning is logged.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::gateway::GatewayId;

/// The environment variable naming the directory that holds device id files (see
/// [`default_device_id_dir`]): set it to choose the location for a service account.
pub const DEVICE_ID_DIR_ENV: &str = "SYSTMONE_DEVICE_ID_DIR";

/// Looks an environment variable up (the process environment in production; a closure in
/// tests, which run in parallel and must not change the process environment).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The directory device id files are kept in by default, or `None` when no location can be
/// determined from the environment. The first of these that can be determined:
///
/// 1. `$SYSTMONE_DEVICE_ID_DIR` ([`DEVICE_ID_DIR_ENV`]), used as it is;
/// 2. on Windows (where SystmOne runs): `%LOCALAPPDATA%\nhs-integration\systmone\`;
/// 3. elsewhere: `$XDG_STATE_HOME/nhs-integration/systmone/`, or else
///    `$HOME/.local/state/nhs-integration/systmone/` (each must be an absolute path).
///
/// Empty variables count as unset. The directory is created on the first save; each gateway
/// has its own file in it ([`FileDeviceIdStore::file_name_for`]).
#[must_use]
pub fn default_device_id_dir() -> Option<PathBuf> {
    default_dir_from(&|name| std::env::var_os(name), cfg!(windows))
}

/// [`default_device_id_dir`] over any environment, for Windows or not.
pub(crate) fn default_dir_from(env: EnvLookup<'_>, windows: bool) -> Option<PathBuf> {
    let set = |name: &str| {
        env(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = set(DEVICE_ID_DIR_ENV) {
        return Some(dir);
    }
    let state_home = if windows {
        set("LOCALAPPDATA")?
    } else {
        set("XDG_STATE_HOME")
            .filter(|dir| dir.is_absolute())
            .or_else(|| {
                set("HOME")
                    .filter(|home| home.is_absolute())
                    .map(|home| home.join(".local").join("state"))
            })?
    };
    Some(state_home.join("nhs-integration").join("systmone"))
}

/// 64-bit FNV-1a: a stable (across Rust versions and platforms) hash for file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Longest gateway label kept verbatim in a file name.
const MAX_FILE_STEM: usize = 64;

/// Device names Windows reserves whatever the extension.
fn is_windows_reserved(stem: &str) -> bool {
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && upper.as_bytes()[3].is_ascii_digit())
}

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
/// Saving creates the directory if needed, writes a sibling temporary file, syncs it and renames
/// it over the old one, so a crash leaves either the old or the new id, never a torn file.
#[derive(Clone, Debug)]
pub struct FileDeviceIdStore {
    path: PathBuf,
}

impl FileDeviceIdStore {
    /// A store at `path` (neither the file nor its directory need exist yet).
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The store of `gateway`'s id in `dir`: `dir` joined with
    /// [`file_name_for(gateway)`](Self::file_name_for).
    #[must_use]
    pub fn for_gateway(dir: impl AsRef<Path>, gateway: &GatewayId) -> Self {
        Self::new(dir.as_ref().join(Self::file_name_for(gateway)))
    }

    /// The store of `gateway`'s id in the [default directory](default_device_id_dir), if one
    /// can be determined.
    #[must_use]
    pub fn default_for(gateway: &GatewayId) -> Option<Self> {
        default_device_id_dir().map(|dir| Self::for_gateway(dir, gateway))
    }

    /// The file name that keeps `gateway`'s id: `<label>.device-id` when the label is 1 to 64
    /// lowercase ASCII letters, digits, `-` or `_` (and not a name Windows reserves, such as
    /// `con`); otherwise the label lowercased, with every other character replaced by `_`, cut
    /// to 64 characters (and `_` added to a reserved name), then `.` and a 16-hex-digit hash of
    /// the whole label, so that no two labels share a file, even on case-insensitive file
    /// systems. The name never holds a path separator and never starts with `.`.
    #[must_use]
    pub fn file_name_for(gateway: &GatewayId) -> String {
        let label = gateway.as_str();
        let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
        if !label.is_empty()
            && label.len() <= MAX_FILE_STEM
            && label.bytes().all(plain)
            && !is_windows_reserved(label)
        {
            return format!("{label}.device-id");
        }
        let mut safe: String = label
            .chars()
            .take(MAX_FILE_STEM)
            .map(|c| {
                let c = c.to_ascii_lowercase();
                if c.is_ascii() && plain(c as u8) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if safe.is_empty() {
            safe.push_str("gateway");
        } else if is_windows_reserved(&safe) {
            safe.push('_');
        }
        format!("{safe}.{:016x}.device-id", fnv1a(label.as_bytes()))
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
        if let Some(dir) = self.path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
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
    fn file_store_creates_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileDeviceIdStore::for_gateway(dir.path().join("a").join("b"), &"gw-1".into());
        assert_eq!(store.load().unwrap(), None);
        store.save("7c41d09e2b8a5f13").unwrap();
        assert_eq!(
            store.path(),
            dir.path().join("a").join("b").join("gw-1.device-id")
        );
        assert_eq!(store.load().unwrap().as_deref(), Some("7c41d09e2b8a5f13"));
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    #[test]
    fn default_directory_order() {
        let all = [
            (DEVICE_ID_DIR_ENV, "/srv/systmone-ids"),
            ("LOCALAPPDATA", r"C:\Users\svc\AppData\Local"),
            ("XDG_STATE_HOME", "/home/svc/.state"),
            ("HOME", "/home/svc"),
        ];
        assert_eq!(
            default_dir_from(&env(&all), false),
            Some(PathBuf::from("/srv/systmone-ids"))
        );
        assert_eq!(
            default_dir_from(&env(&all), true),
            Some(PathBuf::from("/srv/systmone-ids"))
        );
        let without_override = &all[1..];
        assert_eq!(
            default_dir_from(&env(without_override), true),
            Some(
                PathBuf::from(r"C:\Users\svc\AppData\Local")
                    .join("nhs-integration")
                    .join("systmone")
            )
        );
        assert_eq!(
            default_dir_from(&env(without_override), false),
            Some(PathBuf::from("/home/svc/.state/nhs-integration/systmone"))
        );
        let home_only = [
            ("XDG_STATE_HOME", "relative/ignored"),
            ("HOME", "/home/svc"),
        ];
        assert_eq!(
            default_dir_from(&env(&home_only), false),
            Some(PathBuf::from(
                "/home/svc/.local/state/nhs-integration/systmone"
            ))
        );
        let empty = [(DEVICE_ID_DIR_ENV, ""), ("HOME", "/home/svc")];
        assert_eq!(
            default_dir_from(&env(&empty), false),
            Some(PathBuf::from(
                "/home/svc/.local/state/nhs-integration/systmone"
            ))
        );
        assert_eq!(default_dir_from(&env(&[]), false), None);
        assert_eq!(default_dir_from(&env(&[("HOME", "/home/svc")]), true), None);
        assert_eq!(default_dir_from(&env(&[("HOME", "svc")]), false), None);
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        let name = |label: &str| FileDeviceIdStore::file_name_for(&GatewayId::new(label));
        assert_eq!(name("gw-1"), "gw-1.device-id");
        assert_eq!(name("practice_a-2"), "practice_a-2.device-id");
        let hostile = [
            "",
            ".",
            "..",
            "../../etc/passwd",
            "a/b",
            r"a\b",
            "C:x",
            "GW-1",
            "gw-1 ",
            "con",
            "Com1",
            "lpt9",
            "gw\u{0}1",
            "pr\u{e4}xis",
            &"x".repeat(200),
        ];
        let mut names: Vec<String> = hostile.iter().map(|label| name(label)).collect();
        names.push(name("gw-1"));
        for file in &names {
            assert!(file.ends_with(".device-id"), "{file}");
            assert!(
                file.len() <= MAX_FILE_STEM + 1 + 16 + ".device-id".len(),
                "{file}"
            );
            assert!(!file.starts_with('.'), "{file}");
            assert!(
                file.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)),
                "{file}"
            );
            let stem = file.split('.').next().unwrap_or_default();
            assert!(!is_windows_reserved(stem), "{file}");
            assert_eq!(
                Path::new(file).file_name().and_then(|f| f.to_str()),
                Some(file.as_str())
            );
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_ne!(name("a/b"), name("a:b"));
        assert_eq!(name("GW-1"), name("GW-1"), "stable");
    }

    #[test]
    fn plausibility() {
        assert!(is_plausible_device_id("7c41d09e2b8a5f13"));
        assert!(!is_plausible_device_id(""));
        assert!(!is_plausible_device_id(&"a".repeat(MAX_DEVICE_ID_LEN + 1)));
        assert!(!is_plausible_device_id("a b"));
    }
}
