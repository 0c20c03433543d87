//! Turning recipients into e-mail addresses.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::live::core::Recipient;
use crate::search::Directory;

/// Turns a notification's recipient into e-mail addresses (empty: unknown, so the
/// notification stays unsent).
pub trait AddressBook: Send + Sync {
    /// The addresses of `to`.
    fn addresses(&self, to: &Recipient) -> Vec<String>;
}

/// Addresses from configuration: provider organisations and referrers by id, the
/// administrators, and optionally services' own `email` read from the search directory (for
/// the contacts of bulk-uploaded entries).
#[derive(Default, Clone)]
#[non_exhaustive]
pub struct StaticAddressBook {
    organisations: BTreeMap<String, String>,
    admins: Vec<String>,
    directory: Option<Arc<RwLock<Directory>>>,
}

impl std::fmt::Debug for StaticAddressBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticAddressBook")
            .field("organisations", &self.organisations.len())
            .field("admins", &self.admins.len())
            .field("directory", &self.directory.is_some())
            .finish()
    }
}

impl StaticAddressBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// The address of a provider or referring organisation (its principal id).
    #[must_use]
    pub fn organisation(mut self, id: impl Into<String>, address: impl Into<String>) -> Self {
        self.organisations.insert(id.into(), address.into());
        self
    }

    /// An administrators' address (each gets [`Recipient::Admins`] notifications).
    #[must_use]
    pub fn admin(mut self, address: impl Into<String>) -> Self {
        self.admins.push(address.into());
        self
    }

    /// Reads [`Recipient::ServiceContact`] addresses from the services' `email` in this
    /// directory ([`Live::directory`](crate::live::Live::directory)).
    #[must_use]
    pub fn service_contacts_from(mut self, directory: Arc<RwLock<Directory>>) -> Self {
        self.directory = Some(directory);
        self
    }
}

impl AddressBook for StaticAddressBook {
    fn addresses(&self, to: &Recipient) -> Vec<String> {
        match to {
            Recipient::Provider(id) | Recipient::Referrer(id) => {
                self.organisations.get(id).cloned().into_iter().collect()
            }
            Recipient::Admins => self.admins.clone(),
            Recipient::ServiceContact(service_id) => self
                .directory
                .as_ref()
                .and_then(|directory| {
                    let directory = directory.read().unwrap_or_else(|p| p.into_inner());
                    directory
                        .services()
                        .iter()
                        .find(|s| &s.id == service_id)
                        .and_then(|s| s.email.clone())
                })
                .into_iter()
                .collect(),
        }
    }
}
