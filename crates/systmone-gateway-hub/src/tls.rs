//! The hub's TLS server settings: rustls on ring, TLS 1.3 only.

use std::sync::Arc;

use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

use crate::error::HubError;

/// A server config presenting `cert_chain_pem` (leaf first) with `key_pem`. Agents check it
/// against the CA shipped with them; agents authenticate with their device credential inside
/// the tunnel (see the crate docs).
///
/// # Errors
/// [`HubError::Tls`].
pub fn server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, HubError> {
    let chain = systmone_gateway::tls::certificates_from_pem(cert_chain_pem)
        .map_err(|e| HubError::Tls(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| HubError::Tls(format!("malformed private key PEM: {e}")))?;
    let config = rustls::ServerConfig::builder_with_provider(systmone_gateway::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| HubError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| HubError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}
