//! TLS for the agent's outbound connection: rustls on the ring provider, TLS 1.3 only, the
//! hub's certificate checked against the CA the integrator ships with the agent.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::Error;

/// The crypto provider every TLS config of this workspace uses: rustls's ring provider.
#[must_use]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Certificates from PEM text.
///
/// # Errors
/// [`Error::Tls`] when the text holds no certificate or a malformed one.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("malformed certificate PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(Error::Tls("no certificate in the PEM text".into()));
    }
    Ok(certificates)
}

/// A client config that trusts only the CA certificates in `ca_pem` (TLS 1.3, no client
/// certificate: the device authenticates with its credential inside the tunnel).
///
/// # Errors
/// [`Error::Tls`].
pub fn client_config(ca_pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates_from_pem(ca_pem)? {
        roots
            .add(certificate)
            .map_err(|e| Error::Tls(format!("unusable CA certificate: {e}")))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
