//! The device credential an agent keeps after enrolment, in a file only its owner can read.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::control::Secret;
use crate::error::Error;

/// What enrolment gave this device: its id, its organisation and its credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeviceCredential {
    /// The device id the hub assigned.
    pub device_id: String,
    /// The organisation (ODS code) the device was enrolled for.
    pub ods: String,
    /// The credential presented in every hello.
    pub credential: Secret,
}

impl fmt::Debug for DeviceCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCredential")
            .field("device_id", &self.device_id)
            .field("ods", &self.ods)
            .field("credential", &self.credential)
            .finish()
    }
}

impl DeviceCredential {
    /// A credential.
    #[must_use]
    pub fn new(device_id: impl Into<String>, ods: impl Into<String>, credential: Secret) -> Self {
        Self {
            device_id: device_id.into(),
            ods: ods.into(),
            credential,
        }
    }

    /// Writes the credential to `path`, readable and writable by the owner only: on Unix the
    /// file is created with mode `0600`; on Windows it takes the ACL of its directory, so keep
    /// it in the service account's own profile (e.g. `%LOCALAPPDATA%`, which only that account
    /// and administrators can read). The file is written beside its final name and renamed
    /// into place, so a crash never leaves half a credential.
    ///
    /// # Errors
    /// [`Error::Credential`].
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let problem = |problem: String| Error::Credential {
            path: path.to_path_buf(),
            problem,
        };
        let json = serde_json::to_vec_pretty(self).map_err(|e| problem(e.to_string()))?;
        let temporary = temporary_path(path);
        let _ = std::fs::remove_file(&temporary);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&temporary)
            .map_err(|e| problem(format!("cannot create: {e}")))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(|e| problem(format!("cannot write: {e}")))?;
        drop(file);
        std::fs::rename(&temporary, path).map_err(|e| problem(format!("cannot rename: {e}")))
    }

    /// Reads a credential written by [`DeviceCredential::save`].
    ///
    /// # Errors
    /// [`Error::Credential`] (missing, unreadable, malformed: the text never quotes the file).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let problem = |problem: String| Error::Credential {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| problem(format!("cannot read: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            problem(format!(
                "malformed at line {} column {}",
                e.line(),
                e.column()
            ))
        })
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_credentials_load_back_and_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.json");
        let credential = DeviceCredential::new("dev-1", "B11111", Secret::from("abc123"));
        credential.save(&path).unwrap();
        assert_eq!(DeviceCredential::load(&path).unwrap(), credential);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Saving again replaces it.
        DeviceCredential::new("dev-2", "B11111", Secret::from("x"))
            .save(&path)
            .unwrap();
        assert_eq!(DeviceCredential::load(&path).unwrap().device_id, "dev-2");
        assert!(!format!("{credential:?}").contains("abc123"));
    }

    #[test]
    fn malformed_files_do_not_quote_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.json");
        std::fs::write(&path, "{\"device_id\": \"supersecret").unwrap();
        let error = DeviceCredential::load(&path).unwrap_err().to_string();
        assert!(!error.contains("supersecret"), "{error}");
    }
}
