//! The hub's TLS server settings: rustls on ring, TLS 1.3 only; optionally mutual TLS, where
//! each agent must present a client certificate signed by the integrator's device CA.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::error::HubError;
use crate::registry::DeviceId;

fn chain_and_key(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), HubError> {
    let chain = systmone_gateway::tls::certificates_from_pem(cert_chain_pem)
        .map_err(|e| HubError::Tls(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| HubError::Tls(format!("malformed private key PEM: {e}")))?;
    Ok((chain, key))
}

fn builder() -> Result<rustls::ConfigBuilder<rustls::ServerConfig, rustls::WantsVerifier>, HubError>
{
    rustls::ServerConfig::builder_with_provider(systmone_gateway::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| HubError::Tls(e.to_string()))
}

/// A server config presenting `cert_chain_pem` (leaf first) with `key_pem`, asking agents for
/// no client certificate: agents authenticate with their device credential alone. Prefer
/// [`mutual_server_config`].
///
/// # Errors
/// [`HubError::Tls`].
pub fn server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, HubError> {
    let (chain, key) = chain_and_key(cert_chain_pem, key_pem)?;
    let config = builder()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| HubError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}

/// A server config presenting `cert_chain_pem` (leaf first) with `key_pem` that **requires** a
/// client certificate signed by a CA in `device_ca_pem` (the integrator's device CA), checked
/// by rustls's WebPKI verifier: chain, validity dates, key usage. An agent without one, with
/// one from another CA, or with an expired one is refused during the TLS handshake, before it
/// can send a byte. The agent still authenticates with its device credential inside the
/// tunnel; set [`DeviceCertificates::CommonNameIsDeviceId`](crate::DeviceCertificates) to also
/// tie each certificate to its device.
///
/// # Errors
/// [`HubError::Tls`] for malformed PEM or an unusable CA certificate.
pub fn mutual_server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    device_ca_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, HubError> {
    let (chain, key) = chain_and_key(cert_chain_pem, key_pem)?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in systmone_gateway::tls::certificates_from_pem(device_ca_pem)
        .map_err(|e| HubError::Tls(format!("device CA: {e}")))?
    {
        roots
            .add(certificate)
            .map_err(|e| HubError::Tls(format!("unusable device CA certificate: {e}")))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        systmone_gateway::tls::provider(),
    )
    .build()
    .map_err(|e| HubError::Tls(format!("client certificate verifier: {e}")))?;
    let config = builder()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| HubError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}

/// The device id a client certificate names: its subject common name (CN), when there is
/// exactly one and it is a valid [`DeviceId`]; `None` otherwise (including certificates that
/// do not parse). The certificate is not verified here: the TLS handshake did that.
#[must_use]
pub fn certificate_device_id(certificate: &CertificateDer<'_>) -> Option<DeviceId> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, parsed) = X509Certificate::from_der(certificate.as_ref()).ok()?;
    let mut names = parsed.subject().iter_common_name();
    let name = names.next()?.as_str().ok()?;
    if names.next().is_some() {
        return None;
    }
    DeviceId::new(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(common_names: &[&str]) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for name in common_names {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, *name);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn the_device_id_is_the_single_valid_common_name() {
        assert_eq!(
            certificate_device_id(&certificate(&["b11111-reception_2"])),
            Some(DeviceId::new("b11111-reception_2").unwrap())
        );
        assert_eq!(certificate_device_id(&certificate(&[])), None);
        assert_eq!(certificate_device_id(&certificate(&["a b"])), None);
        assert_eq!(
            certificate_device_id(&certificate(&[&"x".repeat(65)])),
            None
        );
    }

    #[test]
    fn garbage_is_no_certificate() {
        assert_eq!(
            certificate_device_id(&CertificateDer::from(vec![0x30, 0x82, 0xff])),
            None
        );
        assert_eq!(
            certificate_device_id(&CertificateDer::from(Vec::new())),
            None
        );
    }

    #[test]
    fn malformed_pem_is_a_tls_error() {
        assert!(matches!(
            mutual_server_config(b"nope", b"nope", b"nope"),
            Err(HubError::Tls(_))
        ));
    }
}
