//! Name resolution for the fetcher: `*.invalid` never resolves; names resolving only to
//! private, loopback or link-local addresses are refused unless allowed; and the reading of
//! reqwest's errors back into an [`Inconclusive`] reason.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::freshness::snapshot::Inconclusive;

/// Why a name could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum ResolveFailure {
    #[error("the name does not resolve")]
    NotFound,
    #[error("the name resolves only to private addresses")]
    Private,
}

/// Whether an address is on the public internet (not loopback, private, link-local,
/// unspecified, shared or unique-local).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80)
        }
    }
}

pub(super) struct Resolver {
    pub(super) allow_private: bool,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let allow_private = self.allow_private;
        Box::pin(async move {
            type Failure = Box<dyn std::error::Error + Send + Sync>;
            let not_found = || -> Failure { Box::new(ResolveFailure::NotFound) };
            if host == "invalid" || host.ends_with(".invalid") {
                return Err(not_found());
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| not_found())?
                .collect();
            if found.is_empty() {
                return Err(not_found());
            }
            let usable: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if usable.is_empty() {
                return Err(Box::new(ResolveFailure::Private) as Failure);
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

pub(super) fn classify(error: &reqwest::Error) -> Inconclusive {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(failure) = e.downcast_ref::<ResolveFailure>() {
            return match failure {
                ResolveFailure::NotFound => Inconclusive::Transport,
                ResolveFailure::Private => Inconclusive::PrivateAddress,
            };
        }
        source = e.source();
    }
    if error.is_timeout() {
        Inconclusive::TimedOut
    } else if error.is_connect() {
        Inconclusive::ConnectFailed
    } else {
        Inconclusive::Transport
    }
}

pub(super) fn unresolved(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<ResolveFailure>() == Some(&ResolveFailure::NotFound) {
            return true;
        }
        source = e.source();
    }
    false
}
