//! The website fetcher (feature `freshness`): the only IO of the freshness checks, with strict
//! bounds. It answers an [`Observation`] for every URL and never fails or panics.
//!
//! * **Time-out** per request (connect, headers and body together; a slow drip is cut off).
//! * **Body cap**: the body is read chunk by chunk and reading stops at the cap
//!   ([`Inconclusive::TooLarge`]); a declared `Content-Length` over the cap is refused unread.
//! * **Redirects** are followed by hand, at most [`CheckerOptions::max_redirects`], each hop
//!   checked: back to an address already visited is a loop; another site (not the same host
//!   or a subdomain of it, `www.` ignored) ends the check with
//!   [`Observation::RedirectedElsewhere`].
//! * **Politeness**: one request at a time per host, and at least
//!   [`CheckerOptions::politeness`] between the starts of two requests to one host (default
//!   one second); [`CheckerOptions::max_in_flight`] requests in flight overall.
//! * **User-Agent** says who is asking ([`default_user_agent`]).
//! * **Invalid UTF-8** is read lossily (the snapshot sees U+FFFD).
//! * **Names** that do not resolve ([`Observation::Unresolved`]; `*.invalid` never does, RFC
//!   6761), and names resolving only to private, loopback or link-local addresses are refused
//!   unless [`CheckerOptions::allow_private_addresses`] (tests), so a listing cannot make the
//!   directory fetch its own network.
//! * **TLS**: rustls on ring with the platform's trust store, or the roots of a PEM bundle.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use reqwest::Url;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

pub use self::resolve::is_public;
use self::resolve::{Resolver, classify, unresolved};
use super::snapshot::{Inconclusive, Observation};
use crate::live::LiveError;

mod resolve;
#[cfg(test)]
mod tests;

/// The User-Agent sent by default: the crate, its version and where to read about it.
pub fn default_user_agent() -> String {
    format!(
        "open-referral-uk-freshness/{} (directory listing check; one request per host per second; +{})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// The fetcher's bounds.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckerOptions {
    /// The User-Agent header ([`default_user_agent`]).
    pub user_agent: String,
    /// Time-out of one request, body included (20 s).
    pub timeout: StdDuration,
    /// Time-out of connecting (10 s).
    pub connect_timeout: StdDuration,
    /// The largest body read (2 MiB).
    pub max_body_bytes: usize,
    /// The most redirects followed (5).
    pub max_redirects: usize,
    /// The least time between the starts of two requests to one host (1 s).
    pub politeness: StdDuration,
    /// Requests in flight at once, over all hosts (32).
    pub max_in_flight: usize,
    /// Whether names may resolve to private, loopback or link-local addresses (false).
    pub allow_private_addresses: bool,
    /// Names answered without DNS (tests, benches: many host names on one local server).
    pub resolve: Vec<(String, SocketAddr)>,
    /// Trusted roots as PEM (`None`: the platform's trust store).
    pub ca_bundle_pem: Option<Vec<u8>>,
}

impl Default for CheckerOptions {
    fn default() -> Self {
        Self {
            user_agent: default_user_agent(),
            timeout: StdDuration::from_secs(20),
            connect_timeout: StdDuration::from_secs(10),
            max_body_bytes: 2 * 1024 * 1024,
            max_redirects: 5,
            politeness: StdDuration::from_secs(1),
            max_in_flight: 32,
            allow_private_addresses: false,
            resolve: Vec::new(),
            ca_bundle_pem: None,
        }
    }
}

type Gate = Arc<tokio::sync::Mutex<Option<Instant>>>;

/// The bounded website fetcher. Share it (`Arc`) between runs so politeness holds across
/// them.
pub struct Checker {
    client: reqwest::Client,
    options: CheckerOptions,
    gates: Mutex<HashMap<String, Gate>>,
    in_flight: Semaphore,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

enum Hop {
    Redirect(String),
    Done(Observation),
}

fn tls(options: &CheckerOptions) -> Result<rustls::ClientConfig, LiveError> {
    let bad = |what: &str| LiveError::BadRequest(format!("website checker TLS: {what}"));
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    .map_err(|_| bad("protocol versions"))?;
    Ok(match &options.ca_bundle_pem {
        Some(pem) => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|_| bad("the CA bundle is not PEM"))?;
                roots
                    .add(cert)
                    .map_err(|_| bad("a CA certificate is unusable"))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|_| bad("the platform trust store is unusable"))?
                .with_no_client_auth()
        }
    })
}

/// `host:port` (lower case), the unit of politeness.
fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn site(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    host.strip_prefix("www.").map(str::to_owned).unwrap_or(host)
}

/// Whether `next` is on the same site as `origin`: the same host (`www.` ignored), or a
/// subdomain of it, or it a subdomain of `next`.
fn same_site(origin: &str, next: &Url) -> bool {
    let next = site(next);
    next == origin || next.ends_with(&format!(".{origin}")) || origin.ends_with(&format!(".{next}"))
}

impl Checker {
    /// A fetcher with these bounds.
    pub fn new(options: CheckerOptions) -> Result<Self, LiveError> {
        if options.max_in_flight == 0 || options.max_body_bytes == 0 {
            return Err(LiveError::BadRequest(
                "website checker: max_in_flight and max_body_bytes must be positive".into(),
            ));
        }
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls(&options)?)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(options.user_agent.clone())
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .pool_max_idle_per_host(1)
            .no_proxy()
            .dns_resolver(Resolver {
                allow_private: options.allow_private_addresses,
            });
        for (name, addr) in &options.resolve {
            builder = builder.resolve(name, *addr);
        }
        let client = builder.build().map_err(|_| {
            LiveError::BadRequest("website checker: the HTTP client could not be built".into())
        })?;
        Ok(Self {
            client,
            in_flight: Semaphore::new(options.max_in_flight),
            options,
            gates: Mutex::new(HashMap::new()),
        })
    }

    /// The bounds.
    pub fn options(&self) -> &CheckerOptions {
        &self.options
    }

    fn gate(&self, host: &str) -> Gate {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        if gates.len() > 50_000 {
            let idle = Instant::now() - self.options.politeness;
            gates.retain(|_, g| {
                Arc::strong_count(g) > 1
                    || g.try_lock()
                        .map_or(true, |at| at.is_none_or(|at| at > idle))
            });
        }
        Arc::clone(gates.entry(host.to_owned()).or_default())
    }

    /// Fetches one website (following redirects within the bounds).
    pub async fn fetch(&self, url: &str) -> Observation {
        let Ok(mut current) = Url::parse(url.trim()) else {
            return Observation::Inconclusive(Inconclusive::BadUrl);
        };
        if !matches!(current.scheme(), "http" | "https") || current.host_str().is_none() {
            return Observation::Inconclusive(Inconclusive::BadUrl);
        }
        let origin = site(&current);
        let mut visited = HashSet::new();
        for _ in 0..=self.options.max_redirects {
            if !visited.insert(current.as_str().to_owned()) {
                return Observation::Inconclusive(Inconclusive::RedirectLoop);
            }
            if let Some(ip) = current
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
                .and_then(|h| h.parse::<IpAddr>().ok())
                && !self.options.allow_private_addresses
                && !is_public(ip)
            {
                return Observation::Inconclusive(Inconclusive::PrivateAddress);
            }
            match self.hop(&current).await {
                Hop::Done(observation) => return observation,
                Hop::Redirect(location) => {
                    let Ok(next) = current.join(&location) else {
                        return Observation::Inconclusive(Inconclusive::BadUrl);
                    };
                    if !matches!(next.scheme(), "http" | "https") || next.host_str().is_none() {
                        return Observation::Inconclusive(Inconclusive::BadUrl);
                    }
                    if !same_site(&origin, &next) {
                        return Observation::RedirectedElsewhere { host: site(&next) };
                    }
                    current = next;
                }
            }
        }
        Observation::Inconclusive(Inconclusive::TooManyRedirects)
    }

    async fn hop(&self, url: &Url) -> Hop {
        let gate = self.gate(&host_key(url));
        let mut last = gate.lock().await;
        if let Some(at) = *last {
            tokio::time::sleep_until(at + self.options.politeness).await;
        }
        let Ok(_permit) = self.in_flight.acquire().await else {
            return Hop::Done(Observation::Inconclusive(Inconclusive::Transport));
        };
        *last = Some(Instant::now());
        match tokio::time::timeout(self.options.timeout, self.request(url)).await {
            Ok(hop) => hop,
            Err(_) => Hop::Done(Observation::Inconclusive(Inconclusive::TimedOut)),
        }
    }

    async fn request(&self, url: &Url) -> Hop {
        let done = |o| Hop::Done(o);
        let failed = |e: &reqwest::Error| {
            if unresolved(e) {
                Hop::Done(Observation::Unresolved)
            } else {
                Hop::Done(Observation::Inconclusive(classify(e)))
            }
        };
        let mut response = match self
            .client
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "text/html, text/plain;q=0.9, */*;q=0.1",
            )
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => return failed(&error),
        };
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            return match response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            {
                Some(location) => Hop::Redirect(location.to_owned()),
                None => done(Observation::Inconclusive(Inconclusive::Status { status })),
            };
        }
        if status == 404 || status == 410 {
            return done(Observation::Gone { status });
        }
        if !(200..300).contains(&status) {
            return done(Observation::Inconclusive(Inconclusive::Status { status }));
        }
        let text = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|t| {
                let t = t.trim().to_ascii_lowercase();
                t.starts_with("text/") || t.starts_with("application/xhtml")
            });
        if !text {
            return done(Observation::Inconclusive(Inconclusive::NotText));
        }
        let cap = self.options.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
        {
            return done(Observation::Inconclusive(Inconclusive::TooLarge));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > cap {
                        return done(Observation::Inconclusive(Inconclusive::TooLarge));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return done(Observation::Page { body }),
                Err(error) => return failed(&error),
            }
        }
    }

    /// Fetches many websites: one task per host (its URLs one after another, politely),
    /// [`CheckerOptions::max_in_flight`] requests at once overall. Each answer arrives on the
    /// channel with its key and URL as soon as it is known.
    pub fn fetch_many<K: Send + 'static>(
        self: &Arc<Self>,
        jobs: Vec<(K, String)>,
    ) -> mpsc::Receiver<(K, String, Observation)> {
        let (tx, rx) = mpsc::channel(256);
        let mut by_host: BTreeMap<String, Vec<(K, String)>> = BTreeMap::new();
        for (key, url) in jobs {
            let host = Url::parse(url.trim())
                .map(|u| host_key(&u))
                .unwrap_or_default();
            by_host.entry(host).or_default().push((key, url));
        }
        for (_, jobs) in by_host {
            let checker = Arc::clone(self);
            let tx = tx.clone();
            tokio::spawn(async move {
                for (key, url) in jobs {
                    let observation = checker.fetch(&url).await;
                    if tx.send((key, url, observation)).await.is_err() {
                        return;
                    }
                }
            });
        }
        rx
    }
}
