//! Client configuration: base URL, credentials, mutual TLS, proxy, time-outs, retries,
//! chunking and the download cap.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::auth::Credentials;
use crate::chunk::DEFAULT_CHUNK_SIZE;
use crate::error::MeshError;

/// NHS England's MESH base URLs.
pub mod env {
    /// Integration (INT) over the internet.
    pub const INTEGRATION: &str = "https://msg.intspineservices.nhs.uk";
    /// Deployment (DEP).
    pub const DEPLOYMENT: &str = "https://msg.depspineservices.nhs.uk";
    /// Live.
    pub const LIVE: &str = "https://mesh-sync.spineservices.nhs.uk";
}

/// Mutual TLS material, all PEM: the client certificate (chain), its private key and the
/// environment's CA bundle (NHS RootCA + SubCA; the server is verified against these only).
/// TLS 1.2 or 1.3, with rustls on the ring provider. `Debug` never shows the key.
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsConfig {
    /// Client certificate chain (PEM), or `None` for server-only TLS.
    pub client_cert_pem: Option<Vec<u8>>,
    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub client_key_pem: Option<Vec<u8>>,
    /// The CA bundle that signs the server certificate (PEM).
    pub ca_bundle_pem: Vec<u8>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field(
                "client_cert",
                &self.client_cert_pem.as_ref().map(|_| "<pem>"),
            )
            .field("client_key", &self.client_key_pem.as_ref().map(|_| "***"))
            .field("ca_bundle_bytes", &self.ca_bundle_pem.len())
            .finish()
    }
}

impl TlsConfig {
    /// Mutual TLS with a client certificate and key.
    pub fn mutual(cert_pem: Vec<u8>, key_pem: Vec<u8>, ca_bundle_pem: Vec<u8>) -> Self {
        Self {
            client_cert_pem: Some(cert_pem),
            client_key_pem: Some(key_pem),
            ca_bundle_pem,
        }
    }

    /// Server-authenticated TLS only (no client certificate).
    pub fn server_only(ca_bundle_pem: Vec<u8>) -> Self {
        Self {
            client_cert_pem: None,
            client_key_pem: None,
            ca_bundle_pem,
        }
    }

    /// Reads the three PEM files.
    ///
    /// # Errors
    /// [`MeshError::Config`] naming the file that could not be read.
    pub fn from_files(
        cert: impl AsRef<std::path::Path>,
        key: impl AsRef<std::path::Path>,
        ca: impl AsRef<std::path::Path>,
    ) -> Result<Self, MeshError> {
        let read = |p: &std::path::Path, what: &str| {
            std::fs::read(p)
                .map_err(|e| MeshError::Config(format!("cannot read the {what}: {}", e.kind())))
        };
        Ok(Self::mutual(
            read(cert.as_ref(), "client certificate")?,
            read(key.as_ref(), "client key")?,
            read(ca.as_ref(), "CA bundle")?,
        ))
    }

    /// The rustls configuration (ring provider, TLS 1.2+, only the given CA bundle trusted).
    ///
    /// # Errors
    /// [`MeshError::Config`] when a PEM cannot be read or the key does not fit.
    pub fn rustls_config(&self) -> Result<rustls::ClientConfig, MeshError> {
        let cfg = |what: &str| MeshError::Config(what.to_owned());
        let mut roots = rustls::RootCertStore::empty();
        let mut any = false;
        for cert in CertificateDer::pem_slice_iter(&self.ca_bundle_pem) {
            let cert = cert.map_err(|_| cfg("the CA bundle is not valid PEM"))?;
            roots
                .add(cert)
                .map_err(|_| cfg("a CA bundle certificate is not usable"))?;
            any = true;
        }
        if !any {
            return Err(cfg("the CA bundle holds no certificate"));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|_| cfg("TLS versions"))?
            .with_root_certificates(roots);
        match (&self.client_cert_pem, &self.client_key_pem) {
            (Some(cert), Some(key)) => {
                let chain = CertificateDer::pem_slice_iter(cert)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| cfg("the client certificate is not valid PEM"))?;
                if chain.is_empty() {
                    return Err(cfg("the client certificate file holds no certificate"));
                }
                let key = PrivateKeyDer::from_pem_slice(key)
                    .map_err(|_| cfg("the client key is not a PEM private key"))?;
                let signing = provider
                    .key_provider
                    .load_private_key(key)
                    .map_err(|_| cfg("the client key is not an RSA, ECDSA or Ed25519 key"))?;
                // A resolver instead of `with_client_auth_cert`: that parses our own
                // certificate with webpki, which refuses X.509 v1 certificates that servers
                // (and the CI's throwaway CA) still accept. A key that does not fit the
                // certificate fails at the handshake instead.
                Ok(
                    builder.with_client_cert_resolver(Arc::new(ClientIdentity(Arc::new(
                        rustls::sign::CertifiedKey::new(chain, signing),
                    )))),
                )
            }
            (None, None) => Ok(builder.with_no_client_auth()),
            _ => Err(cfg(
                "a client certificate needs its key, and a key its certificate",
            )),
        }
    }
}

/// Always presents the one configured client certificate.
#[derive(Debug)]
struct ClientIdentity(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for ClientIdentity {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Retry policy for calls other than the first POST of a send: up to `attempts` more tries
/// on 425, 429, 502, 503, 504 (and on transport failures of reads and idempotent calls),
/// waiting `base × 2^n` capped at `max` (mesh-client: 3 tries, factor 0.5 s), or longer when
/// MESH sends `Retry-After`; a `Retry-After` beyond `max` ends the retries at once and the
/// error carries it. The first POST of a send is never retried (see [`crate::Outbox`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Extra attempts after the first.
    pub attempts: u32,
    /// The first wait.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// `attempts` retries after the first call, waiting `base`, `2 × base`, `4 × base`...
    /// never more than `max` (nor less than `base`: `max` is raised to `base` if lower).
    pub fn new(attempts: u32, base: Duration, max: Duration) -> Self {
        Self {
            attempts,
            base,
            max: max.max(base),
        }
    }

    /// No retries.
    pub fn none() -> Self {
        Self {
            attempts: 0,
            ..Self::default()
        }
    }

    /// The wait before retry `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        self.base
            .checked_mul(1u32.checked_shl(n.min(16)).unwrap_or(u32::MAX))
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// Everything a [`crate::MeshClient`] needs.
///
/// **Proxies.** By default the client connects directly and **ignores** the environment's
/// proxy variables, so where patient data goes does not change with an inherited variable.
/// [`Self::proxy`] names a proxy for every request: `https://` MESH URLs are tunnelled with
/// HTTP `CONNECT` (mutual TLS runs end to end inside the tunnel, the proxy sees only the host
/// and port), `http://` URLs (the sandbox) are forwarded as plain HTTP requests. Give the
/// proxy as `http://host:port` (optionally `http://user:password@host:port`; `Debug` never
/// shows it); an `https://` proxy URL is also accepted, but the TLS connection to the proxy
/// then trusts only [`TlsConfig::ca_bundle_pem`]. [`Self::proxy_from_env`] honours the
/// environment as curl reads it: `HTTPS_PROXY` / `https_proxy` for `https://` URLs,
/// `HTTP_PROXY` / `http_proxy` for `http://` ones, `ALL_PROXY` for both, and `NO_PROXY` /
/// `no_proxy` exclusions (host names with their subdomains, IP addresses, CIDR ranges, `*`);
/// with an explicit proxy as well, only `NO_PROXY` is read from the environment.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Base URL (`https://msg.intspineservices.nhs.uk`, or the sandbox's `http://127.0.0.1:8700`).
    pub base_url: String,
    /// Mailbox credentials.
    pub credentials: Credentials,
    /// TLS material (required for `https://` URLs).
    pub tls: Option<TlsConfig>,
    /// An HTTP(S) proxy URL for every request (CONNECT tunnelling for `https://` MESH URLs;
    /// the client certificate's TLS runs through it). Default none.
    pub proxy: Option<String>,
    /// Whether the environment's `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` are
    /// honoured. Default `false`: the environment is ignored.
    pub proxy_from_env: bool,
    /// Time-out of one HTTP request (mesh-client: 10 minutes).
    pub timeout: Duration,
    /// Connect time-out.
    pub connect_timeout: Duration,
    /// Retries of calls other than a send's first POST.
    pub retry: RetryPolicy,
    /// Uncompressed bytes per chunk.
    pub chunk_size: usize,
    /// Gzip each chunk before sending.
    pub compress: bool,
    /// Largest message (decompressed) a download accepts.
    pub max_download_size: u64,
    /// `mex-ClientVersion` for the handshake.
    pub client_version: String,
}

nhs_identifiers::debug_redacted!(ClientConfig {
    base_url,
    credentials,
    tls,
    proxy: redacted,
    proxy_from_env,
    timeout,
    connect_timeout,
    retry,
    chunk_size,
    compress,
    max_download_size,
    client_version,
});

impl ClientConfig {
    /// A configuration with the defaults: 10-minute time-out, 3 retries, 20 MiB chunks,
    /// gzip on, 1 GiB download cap, no TLS material, no proxy and the environment's proxy
    /// variables ignored.
    pub fn new(base_url: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            base_url: base_url.into(),
            credentials,
            tls: None,
            proxy: None,
            proxy_from_env: false,
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            compress: true,
            max_download_size: 1 << 30,
            client_version: concat!("nhs-mesh-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Sets the TLS material.
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sends every request through this proxy (`http://host:port`); see the type's docs.
    #[must_use]
    pub fn proxy(mut self, proxy: impl Into<String>) -> Self {
        self.proxy = Some(proxy.into());
        self
    }

    /// Honours (`true`) or ignores (`false`, the default) the environment's `HTTPS_PROXY`,
    /// `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`; see the type's docs.
    #[must_use]
    pub fn proxy_from_env(mut self, honour: bool) -> Self {
        self.proxy_from_env = honour;
        self
    }

    /// Sets the chunk size (uncompressed bytes).
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// Turns gzip of outgoing chunks on or off.
    #[must_use]
    pub fn compress(mut self, on: bool) -> Self {
        self.compress = on;
        self
    }

    /// Sets the download cap.
    #[must_use]
    pub fn max_download_size(mut self, bytes: u64) -> Self {
        self.max_download_size = bytes;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the request time-out.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0), Duration::from_millis(500));
        assert_eq!(p.delay(2), Duration::from_secs(2));
        assert_eq!(p.delay(40), Duration::from_secs(30));
    }

    #[test]
    fn debug_hides_proxy_credentials_and_the_environment_is_ignored_by_default() {
        let c = ClientConfig::new(
            "http://127.0.0.1:8700",
            Credentials::new(
                crate::MailboxId::new("X26ABC1").unwrap(),
                "mailbox-pw-5512",
                "TestKey",
            ),
        );
        assert!(!c.proxy_from_env);
        assert!(c.proxy.is_none());
        let c = c.proxy("http://user:hunter2@proxy.example:3128");
        let text = format!("{c:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            !text.contains("mailbox-pw-5512") && !text.contains("TestKey"),
            "{text}"
        );
        assert!(c.proxy_from_env(true).proxy_from_env);
    }

    #[test]
    fn tls_debug_hides_the_key_and_bad_pem_is_a_config_error() {
        let t = TlsConfig::mutual(b"c".to_vec(), b"SECRETKEY".to_vec(), b"x".to_vec());
        assert!(!format!("{t:?}").contains("SECRETKEY"));
        assert!(matches!(t.rustls_config(), Err(MeshError::Config(_))));
    }
}
