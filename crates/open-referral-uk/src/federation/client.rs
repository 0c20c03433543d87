//! The HTTP side of federation (feature `federation`): reqwest on rustls (ring provider, the
//! platform's trust store unless a configuration is given), with every bound applied to a
//! peer that misbehaves: a time-out on the whole exchange (a body that drips slowly included),
//! a connect time-out, no redirects followed, and bodies read in chunks up to a cap (a
//! `Content-Length` over the cap is refused before reading).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use super::FederationError;

/// Why one request to a peer failed. The text never repeats a received value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No answer within the time-out (whole exchange).
    #[error("the peer did not answer within the time-out")]
    TimedOut,
    /// The connection failed.
    #[error("could not connect to the peer")]
    Connect,
    /// A status other than 2xx (redirects are not followed).
    #[error("the peer answered HTTP {0}")]
    Status(u16),
    /// The body is larger than the cap.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    /// Anything else on the way (reset connection, malformed HTTP).
    #[error("the request failed")]
    Failed,
}

fn classify(error: &reqwest::Error) -> FetchError {
    if error.is_timeout() {
        FetchError::TimedOut
    } else if error.is_connect() {
        FetchError::Connect
    } else {
        FetchError::Failed
    }
}

/// A bounded HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
}

impl Http {
    pub(crate) fn new(
        timeout: Duration,
        connect_timeout: Duration,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<Self, FederationError> {
        let tls = match tls {
            Some(tls) => tls,
            None => platform_tls()?,
        };
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "open-referral-uk/",
                env!("CARGO_PKG_VERSION"),
                " (federation)"
            ))
            .build()
            .map_err(|_| FederationError::Client("the HTTP client could not be built"))?;
        Ok(Self { client })
    }

    /// GETs `url` and reads at most `cap` bytes of body.
    pub(crate) async fn get(
        &self,
        url: Url,
        key: Option<&str>,
        cap: usize,
    ) -> Result<Vec<u8>, FetchError> {
        let mut request = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(|e| classify(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > cap as u64)
        {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// TLS 1.2+ on the ring provider, trusting what the operating system trusts.
fn platform_tls() -> Result<rustls::ClientConfig, FederationError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(BuilderVerifierExt::with_platform_verifier)
        .map(|builder| builder.with_no_client_auth())
        .map_err(|_| FederationError::Client("the TLS configuration could not be built"))
}
