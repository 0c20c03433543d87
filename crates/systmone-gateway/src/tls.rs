//! TLS for the agent's outbound connection: rustls on the ring provider, TLS 1.3 only, the
//! hub's certificate checked against the CA the integrator ships with the agent and, with
//! [`mutual_client_config`], this device's client certificate presented to the hub.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

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
/// certificate: the device authenticates with its credential inside the tunnel alone). For a
/// hub that requires client certificates, use [`mutual_client_config`].
///
/// # Errors
/// [`Error::Tls`].
pub fn client_config(ca_pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, Error> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(roots(ca_pem)?)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn roots(ca_pem: &[u8]) -> Result<rustls::RootCertStore, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates_from_pem(ca_pem)? {
        roots
            .add(certificate)
            .map_err(|e| Error::Tls(format!("unusable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// A client config that trusts only the CA certificates in `ca_pem` and presents this device's
/// client certificate (`cert_chain_pem`, leaf first, with its private key `key_pem`) for
/// mutual TLS. The integrator issues the certificate from its device CA with the enrolment
/// token, its subject CN naming the device (see the crate docs); the device credential is still
/// sent inside the tunnel.
///
/// # Errors
/// [`Error::Tls`] for malformed PEM, an unusable CA certificate, or a key that does not
/// match the certificate.
pub fn mutual_client_config(
    ca_pem: &[u8],
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let chain = certificates_from_pem(cert_chain_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| Error::Tls(format!("malformed private key PEM: {e}")))?;
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(roots(ca_pem)?)
        .with_client_auth_cert(chain, key)
        .map_err(|e| Error::Tls(format!("unusable client certificate or key: {e}")))?;
    Ok(Arc::new(config))
}
