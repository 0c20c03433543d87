//! The async MESH client (reqwest on hyper, rustls on ring).

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing::{debug, warn};

use crate::chunk;
use crate::config::ClientConfig;
use crate::error::{MeshError, RETRYABLE_STATUSES};
use crate::types::{Envelope, MailboxId, MessageId};
use crate::wire::{self, InboxPage, MailboxInfo, Metadata, Report, Tracking};

/// `Accept` value that selects v2 bodies.
pub const ACCEPT_V2: &str = "application/vnd.mesh.v2+json";

/// A downloaded DATA message: its headers and the whole (decompressed) body.
///
/// `Debug` shows the metadata (masked) and the body length only.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataMessage {
    /// The message id.
    pub message_id: MessageId,
    /// The `mex-*` headers of chunk 1.
    pub metadata: Metadata,
    /// The body, every chunk decoded and joined.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for DataMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataMessage")
            .field("message_id", &self.message_id)
            .field("metadata", &self.metadata)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What a download returns: a message, or a REPORT from MESH about one we sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Downloaded {
    /// An ordinary message.
    Data(Box<DataMessage>),
    /// A report (for example a non-delivery report about a message we sent).
    Report(Report),
}

impl Downloaded {
    /// The id to acknowledge.
    pub fn message_id(&self) -> &MessageId {
        match self {
            Self::Data(d) => &d.message_id,
            Self::Report(r) => &r.message_id,
        }
    }
}

/// One prepared chunk: its bytes on the wire and whether they are gzip.
#[derive(Clone, Debug)]
pub(crate) struct PreparedChunk {
    pub data: Bytes,
    pub gzip: bool,
}

/// Splits `body` per the configuration and gzips each chunk on its own when asked.
pub(crate) fn prepare_chunks(
    body: &[u8],
    chunk_size: usize,
    compress: bool,
) -> Result<Vec<PreparedChunk>, MeshError> {
    chunk::chunk_ranges(body.len(), chunk_size)
        .into_iter()
        .map(|r| {
            let part = &body[r];
            Ok(PreparedChunk {
                data: if compress {
                    Bytes::from(chunk::gzip(part)?)
                } else {
                    Bytes::copy_from_slice(part)
                },
                gzip: compress,
            })
        })
        .collect()
}

/// An async MESH client for one mailbox. Cheap to clone (the connection pool is shared).
#[derive(Clone, Debug)]
pub struct MeshClient {
    http: reqwest::Client,
    config: ClientConfig,
    base: String,
}

impl MeshClient {
    /// Builds a client.
    ///
    /// # Errors
    /// [`MeshError::Config`] for a URL that is not `http(s)://`, an `https://` URL without
    /// [`crate::TlsConfig`], unusable TLS material or proxy.
    pub fn new(config: ClientConfig) -> Result<Self, MeshError> {
        let base = config.base_url.trim_end_matches('/').to_owned();
        let https = base.starts_with("https://");
        if !https && !base.starts_with("http://") {
            return Err(MeshError::Config(
                "the base URL must start with http:// or https://".into(),
            ));
        }
        let tls = match &config.tls {
            Some(t) => t.rustls_config()?,
            None if https => {
                return Err(MeshError::Config(
                    "an https:// base URL needs TlsConfig (at least the environment's CA bundle)"
                        .into(),
                ));
            }
            // Plain HTTP (the sandbox): reqwest still wants a TLS backend; give it one that
            // trusts nothing, so no https redirect or proxy can succeed by accident.
            None => rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|_| MeshError::Config("TLS versions".into()))?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        };
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(config.client_version.clone());
        builder = match (&config.proxy, config.proxy_from_env) {
            (Some(p), from_env) => {
                let mut proxy = reqwest::Proxy::all(p.as_str())
                    .map_err(|_| MeshError::Config("the proxy URL is invalid".into()))?;
                if from_env {
                    proxy = proxy.no_proxy(reqwest::NoProxy::from_env());
                }
                builder.proxy(proxy)
            }
            // reqwest's default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY as curl reads
            // them (the `system-proxy` feature, OS settings, is off).
            (None, true) => builder,
            (None, false) => builder.no_proxy(),
        };
        let http = builder
            .build()
            .map_err(|e| MeshError::Config(format!("HTTP client: {}", short(&e))))?;
        Ok(Self { http, config, base })
    }

    /// The mailbox this client acts for.
    pub fn mailbox(&self) -> &MailboxId {
        &self.config.credentials.mailbox
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn mb_path(&self, rest: &str) -> String {
        format!("/messageexchange/{}{}", self.mailbox(), rest)
    }

    fn request(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, MeshError> {
        let nonce = uuid::Uuid::new_v4().to_string();
        let auth = self
            .config
            .credentials
            .authorization(&nonce, 0, Utc::now())?;
        Ok(self
            .http
            .request(method, self.url(path))
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, ACCEPT_V2))
    }

    /// Sends one request (no retry). Non-2xx answers become [`MeshError::Http`].
    async fn once(
        &self,
        operation: &'static str,
        changes_state: bool,
        build: impl Fn() -> Result<reqwest::RequestBuilder, MeshError>,
        ok: &[u16],
    ) -> Result<reqwest::Response, MeshError> {
        let resp = build()?
            .send()
            .await
            .map_err(|e| transport(operation, &e, changes_state))?;
        let status = resp.status().as_u16();
        if ok.contains(&status) {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| wire::parse_retry_after(v, Utc::now()));
        let body = resp.bytes().await.unwrap_or_default();
        let (code, description) = wire::parse_error_body(&body);
        Err(MeshError::Http {
            operation,
            status,
            code,
            description,
            ambiguous: false,
            retry_after,
        })
    }

    /// [`Self::once`] with retries per the policy: at most `policy.attempts` more calls on
    /// 425/429/502/503/504, waiting `policy.delay(n)` or the server's `Retry-After`, whichever
    /// is longer. A `Retry-After` longer than `policy.max` stops the retries at once (the
    /// error carries it). `idempotent`: a transport failure may be retried too (reads,
    /// acknowledgements, chunks 2..n). The last failure is returned as it was, so
    /// [`MeshError::retry`] still says what the caller may do.
    async fn retried(
        &self,
        operation: &'static str,
        idempotent: bool,
        build: impl Fn() -> Result<reqwest::RequestBuilder, MeshError>,
        ok: &[u16],
    ) -> Result<reqwest::Response, MeshError> {
        let policy = self.config.retry;
        let mut attempt = 0;
        loop {
            match self.once(operation, !idempotent, &build, ok).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    let (again, asked) = match &e {
                        MeshError::Http {
                            status,
                            retry_after,
                            ..
                        } => (RETRYABLE_STATUSES.contains(status), *retry_after),
                        MeshError::Transport { .. } => (idempotent, None),
                        _ => (false, None),
                    };
                    if !again || attempt >= policy.attempts {
                        return Err(e);
                    }
                    let wait = match asked {
                        Some(asked) if asked > policy.max => return Err(e),
                        Some(asked) => asked.max(policy.delay(attempt)),
                        None => policy.delay(attempt),
                    };
                    debug!(
                        operation,
                        attempt,
                        ?wait,
                        status = e.status(),
                        "retrying MESH call"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Handshake (`POST /messageexchange/{mailbox}`): once a day, tells MESH the mailbox is
    /// alive.
    ///
    /// # Errors
    /// [`MeshError::Http`] (403 for bad credentials), [`MeshError::Transport`].
    pub async fn handshake(&self) -> Result<(), MeshError> {
        let path = self.mb_path("");
        self.retried(
            "handshake",
            true,
            || {
                Ok(self
                    .request(Method::POST, &path)?
                    .header("mex-ClientVersion", self.config.client_version.as_str())
                    .header("mex-OSName", std::env::consts::OS)
                    .header("mex-OSVersion", "unknown")
                    .header("mex-OSArchitecture", std::env::consts::ARCH))
            },
            &[200],
        )
        .await?;
        Ok(())
    }

    /// Sends a whole message: one POST when it fits in one chunk, otherwise chunk 1 then
    /// chunks 2..n in order. **The first POST is never retried** (MESH does not deduplicate):
    /// a failure there has [`crate::Retry::CheckFirst`] when it may have been accepted. Use
    /// [`crate::outbox::Outbox`] for exactly-once sending.
    ///
    /// # Errors
    /// [`MeshError::InvalidField`] for a bad envelope (an NHS number in local id, subject or
    /// file name), [`MeshError::Http`], [`MeshError::Transport`].
    pub async fn send(&self, envelope: &Envelope, body: &[u8]) -> Result<MessageId, MeshError> {
        envelope.validate()?;
        let chunks = prepare_chunks(body, self.config.chunk_size, self.config.compress)?;
        let total =
            u32::try_from(chunks.len()).map_err(|_| MeshError::Config("too many chunks".into()))?;
        let first = chunks
            .first()
            .ok_or_else(|| MeshError::Config("no chunk".into()))?;
        let id = self.send_first_chunk(envelope, first, total).await?;
        for (i, c) in chunks.iter().enumerate().skip(1) {
            let k =
                u32::try_from(i + 1).map_err(|_| MeshError::Config("too many chunks".into()))?;
            self.send_chunk(&id, k, total, c).await?;
        }
        Ok(id)
    }

    /// POSTs chunk 1 (or the only chunk) with every header. Never retried.
    pub(crate) async fn send_first_chunk(
        &self,
        envelope: &Envelope,
        chunk: &PreparedChunk,
        total: u32,
    ) -> Result<MessageId, MeshError> {
        envelope.validate()?;
        let path = self.mb_path("/outbox");
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: Option<&str>| -> Result<(), MeshError> {
            if let Some(v) = value {
                let v = HeaderValue::from_str(v).map_err(|_| MeshError::InvalidField {
                    field: name,
                    reason: "not a valid HTTP header value",
                })?;
                headers.insert(HeaderName::from_static(lower(name)), v);
            }
            Ok(())
        };
        put("mex-From", Some(self.mailbox().as_str()))?;
        put("mex-To", Some(&envelope.to))?;
        put("mex-WorkflowID", Some(&envelope.workflow_id))?;
        put("mex-Subject", envelope.subject.as_deref())?;
        put("mex-LocalID", envelope.local_id.as_deref())?;
        put("mex-FileName", envelope.file_name.as_deref())?;
        put("mex-Content-Type", envelope.content_type.as_deref())?;
        put("mex-PartnerID", envelope.partner_id.as_deref())?;
        put("mex-Content-Checksum", envelope.checksum.as_deref())?;
        put(
            "mex-Content-Compressed",
            Some(if chunk.gzip { "Y" } else { "N" }),
        )?;
        put("mex-Chunk-Range", Some(&format!("1:{total}")))?;
        let data = chunk.data.clone();
        let gzip = chunk.gzip;
        let result = self
            .once(
                "send",
                true,
                || {
                    let mut rb = self
                        .request(Method::POST, &path)?
                        .headers(headers.clone())
                        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                        .body(data.clone());
                    if gzip {
                        rb = rb.header(reqwest::header::CONTENT_ENCODING, "gzip");
                    }
                    Ok(rb)
                },
                &[200, 202],
            )
            .await;
        let resp = match result {
            Ok(r) => r,
            Err(MeshError::Http {
                operation,
                status,
                code,
                description,
                retry_after,
                ..
            }) => {
                return Err(MeshError::Http {
                    operation,
                    status,
                    code,
                    description,
                    ambiguous: status >= 500 || status == 408,
                    retry_after,
                });
            }
            Err(e) => return Err(e),
        };
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport("send", &e, true))?;
        // A 202 whose body we cannot read still means MESH accepted it: say so precisely.
        wire::parse_send_response(&body).map_err(|_| MeshError::Transport {
            operation: "send",
            detail: "accepted, but the message id could not be read".into(),
            maybe_sent: true,
            changes_state: true,
        })
    }

    /// POSTs chunk `k` of `n` (k ≥ 2) of message `id`. Sending a chunk again overwrites it,
    /// so transport failures and 425/429/5xx are retried per the policy.
    pub(crate) async fn send_chunk(
        &self,
        id: &MessageId,
        k: u32,
        n: u32,
        chunk: &PreparedChunk,
    ) -> Result<(), MeshError> {
        let path = self.mb_path(&format!("/outbox/{id}/{k}"));
        let range = format!("{k}:{n}");
        self.retried(
            "send chunk",
            true,
            || {
                let mut rb = self
                    .request(Method::POST, &path)?
                    .header("mex-Chunk-Range", range.as_str())
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(chunk.data.clone());
                if chunk.gzip {
                    rb = rb.header(reqwest::header::CONTENT_ENCODING, "gzip");
                }
                Ok(rb)
            },
            &[200, 202],
        )
        .await?;
        Ok(())
    }

    /// One inbox page. `workflow_filter` uses MESH's syntax (`WF`, `!WF`, `WF*`, `*X*`, ...);
    /// `max_results` must be 10–5000 (MESH default 500).
    ///
    /// # Errors
    /// [`MeshError::Http`], [`MeshError::Transport`], [`MeshError::Malformed`].
    pub async fn inbox_page(
        &self,
        workflow_filter: Option<&str>,
        max_results: Option<u32>,
    ) -> Result<InboxPage, MeshError> {
        let mut query = Vec::new();
        if let Some(m) = max_results {
            if !(10..=5000).contains(&m) {
                return Err(MeshError::InvalidField {
                    field: "max_results",
                    reason: "must be between 10 and 5000",
                });
            }
            query.push(format!("max_results={m}"));
        }
        if let Some(f) = workflow_filter {
            query.push(format!("workflow_filter={}", encode_query(f)));
        }
        let path = if query.is_empty() {
            self.mb_path("/inbox")
        } else {
            self.mb_path(&format!("/inbox?{}", query.join("&")))
        };
        self.inbox_at(&path).await
    }

    /// The page at a `links.next` path (relative; this client prefixes its base URL).
    ///
    /// # Errors
    /// As [`Self::inbox_page`].
    pub async fn inbox_at(&self, path: &str) -> Result<InboxPage, MeshError> {
        let resp = self
            .retried("inbox", true, || self.request(Method::GET, path), &[200])
            .await?;
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport("inbox", &e, false))?;
        wire::parse_inbox(&body)
    }

    /// Every message id in the inbox (following `links.next` page by page).
    ///
    /// # Errors
    /// As [`Self::inbox_page`].
    pub async fn inbox_all(
        &self,
        workflow_filter: Option<&str>,
    ) -> Result<Vec<MessageId>, MeshError> {
        let mut page = self.inbox_page(workflow_filter, None).await?;
        let mut ids = std::mem::take(&mut page.messages);
        let mut pages = 1u32;
        while let Some(next) = page.next.take() {
            pages += 1;
            if pages > 100_000 {
                return Err(MeshError::Malformed {
                    operation: "inbox",
                    detail: "links.next never ends".into(),
                });
            }
            page = self.inbox_at(&next).await?;
            if page.messages.is_empty() {
                break;
            }
            ids.append(&mut page.messages);
        }
        Ok(ids)
    }

    /// Downloads a message (every chunk, in either compression), decoded and joined, capped
    /// at [`ClientConfig::max_download_size`]. A REPORT comes back as [`Downloaded::Report`].
    ///
    /// # Errors
    /// [`MeshError::TooLarge`] past the cap, [`MeshError::Malformed`] for a wrong chunk range
    /// or corrupt gzip, [`MeshError::Http`] (404/410 gone), [`MeshError::Transport`].
    pub async fn download(&self, id: &MessageId) -> Result<Downloaded, MeshError> {
        let limit = self.config.max_download_size;
        let first = self.fetch_chunk(id, 1).await?;
        let metadata = Metadata::from_headers(
            first
                .0
                .iter()
                .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))),
        )?;
        if let Some(report) = Report::from_metadata(&metadata)? {
            return Ok(Downloaded::Report(report));
        }
        let n = metadata.chunk_count();
        if let Some((k, _)) = metadata.chunk_range
            && k != 1
        {
            return Err(MeshError::Malformed {
                operation: "download",
                detail: "chunk 1 answered with another chunk number".into(),
            });
        }
        let mut body = Vec::new();
        decode_into(&mut body, &first.0, &first.1, limit)?;
        for k in 2..=n {
            let (headers, raw) = self.fetch_chunk(id, k).await?;
            if let Some(range) = headers.get("mex-chunk-range").and_then(|v| v.to_str().ok()) {
                let (got_k, got_n) = wire::parse_chunk_range(range)?;
                if got_k != k || got_n != n {
                    return Err(MeshError::Malformed {
                        operation: "download",
                        detail: format!("asked for chunk {k} of {n}, got another range"),
                    });
                }
            }
            decode_into(&mut body, &headers, &raw, limit)?;
        }
        Ok(Downloaded::Data(Box::new(DataMessage {
            message_id: id.clone(),
            metadata,
            body,
        })))
    }

    async fn fetch_chunk(&self, id: &MessageId, k: u32) -> Result<(HeaderMap, Vec<u8>), MeshError> {
        let path = if k == 1 {
            self.mb_path(&format!("/inbox/{id}"))
        } else {
            self.mb_path(&format!("/inbox/{id}/{k}"))
        };
        let mut resp = self
            .retried(
                "download",
                true,
                || {
                    Ok(self
                        .request(Method::GET, &path)?
                        .header(reqwest::header::ACCEPT_ENCODING, "gzip"))
                },
                &[200, 206],
            )
            .await?;
        let headers = resp.headers().clone();
        // Raw bytes are capped too (gzip never grows data by more than a little).
        let raw_cap = self
            .config
            .max_download_size
            .saturating_add(self.config.max_download_size / 8)
            .saturating_add(1 << 20);
        let mut raw = Vec::new();
        while let Some(part) = resp
            .chunk()
            .await
            .map_err(|e| transport("download", &e, false))?
        {
            if raw.len() as u64 + part.len() as u64 > raw_cap {
                return Err(MeshError::TooLarge {
                    operation: "download",
                    limit: self.config.max_download_size,
                });
            }
            raw.extend_from_slice(&part);
        }
        Ok((headers, raw))
    }

    /// Metadata only (`HEAD /inbox/{id}`).
    ///
    /// # Errors
    /// [`MeshError::Http`] (404/410), [`MeshError::Transport`], [`MeshError::Malformed`].
    pub async fn head(&self, id: &MessageId) -> Result<Metadata, MeshError> {
        let path = self.mb_path(&format!("/inbox/{id}"));
        let resp = self
            .retried("head", true, || self.request(Method::HEAD, &path), &[200])
            .await?;
        Metadata::from_headers(
            resp.headers()
                .iter()
                .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))),
        )
    }

    /// Acknowledges a message: MESH removes it from the inbox and the sender's tracking shows
    /// `acknowledged`. Acknowledge only after the message is stored durably.
    ///
    /// # Errors
    /// [`MeshError::Http`], [`MeshError::Transport`].
    pub async fn acknowledge(&self, id: &MessageId) -> Result<(), MeshError> {
        let path = self.mb_path(&format!("/inbox/{id}/status/acknowledged"));
        self.retried(
            "acknowledge",
            true,
            || self.request(Method::PUT, &path),
            &[200],
        )
        .await?;
        Ok(())
    }

    /// Tracking of a message this mailbox sent.
    ///
    /// # Errors
    /// [`MeshError::Http`] (404: not ours or unknown), [`MeshError::Malformed`].
    pub async fn track(&self, id: &MessageId) -> Result<Tracking, MeshError> {
        let path = self.mb_path(&format!("/outbox/tracking?messageID={id}"));
        let resp = self
            .retried(
                "tracking",
                true,
                || self.request(Method::GET, &path),
                &[200],
            )
            .await?;
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport("tracking", &e, false))?;
        wire::parse_tracking(&body)
    }

    /// Tracking by `mex-LocalID` (the deprecated endpoint, v1 body): `None` when no message
    /// carries it.
    ///
    /// # Errors
    /// [`MeshError::DuplicateLocalId`] on 300 (more than one carries it), [`MeshError::Http`],
    /// [`MeshError::Malformed`].
    pub async fn track_local_id(&self, local_id: &str) -> Result<Option<Tracking>, MeshError> {
        let path = self.mb_path(&format!("/outbox/tracking/{}", encode_path(local_id)));
        match self
            .retried(
                "tracking by local id",
                true,
                || self.request(Method::GET, &path),
                &[200],
            )
            .await
        {
            Ok(resp) => {
                let body = resp
                    .bytes()
                    .await
                    .map_err(|e| transport("tracking by local id", &e, false))?;
                wire::parse_tracking(&body).map(Some)
            }
            Err(MeshError::Http { status: 404, .. }) => Ok(None),
            Err(MeshError::Http { status: 300, .. }) => Err(MeshError::DuplicateLocalId),
            Err(e) => Err(e),
        }
    }

    /// Endpoint lookup: the mailboxes of organisation `ods_code` that receive `workflow_id`.
    ///
    /// # Errors
    /// [`MeshError::Http`], [`MeshError::Malformed`].
    pub async fn lookup(
        &self,
        ods_code: &str,
        workflow_id: &str,
    ) -> Result<Vec<MailboxInfo>, MeshError> {
        let path = format!(
            "/messageexchange/endpointlookup/{}/{}",
            encode_path(ods_code),
            encode_path(workflow_id)
        );
        self.lookup_at("lookup", &path).await
    }

    /// Workflow search: the mailboxes that receive `workflow_id`.
    ///
    /// # Errors
    /// As [`Self::lookup`].
    pub async fn workflow_search(&self, workflow_id: &str) -> Result<Vec<MailboxInfo>, MeshError> {
        let path = format!(
            "/messageexchange/workflowsearch/{}",
            encode_path(workflow_id)
        );
        self.lookup_at("workflow search", &path).await
    }

    async fn lookup_at(&self, op: &'static str, path: &str) -> Result<Vec<MailboxInfo>, MeshError> {
        let resp = self
            .retried(op, true, || self.request(Method::GET, path), &[200])
            .await?;
        let body = resp.bytes().await.map_err(|e| transport(op, &e, false))?;
        wire::parse_lookup(&body)
    }
}

fn decode_into(
    body: &mut Vec<u8>,
    headers: &HeaderMap,
    raw: &[u8],
    limit: u64,
) -> Result<(), MeshError> {
    let remaining = limit.saturating_sub(body.len() as u64);
    let gz = headers
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    if gz {
        body.extend(chunk::gunzip_capped(raw, remaining, limit)?);
    } else {
        if raw.len() as u64 > remaining {
            return Err(MeshError::TooLarge {
                operation: "download",
                limit,
            });
        }
        body.extend_from_slice(raw);
    }
    Ok(())
}

fn lower(name: &'static str) -> &'static str {
    match name {
        "mex-From" => "mex-from",
        "mex-To" => "mex-to",
        "mex-WorkflowID" => "mex-workflowid",
        "mex-Subject" => "mex-subject",
        "mex-LocalID" => "mex-localid",
        "mex-FileName" => "mex-filename",
        "mex-Content-Type" => "mex-content-type",
        "mex-PartnerID" => "mex-partnerid",
        "mex-Content-Checksum" => "mex-content-checksum",
        "mex-Content-Compressed" => "mex-content-compressed",
        "mex-Chunk-Range" => "mex-chunk-range",
        _ => "x-mesh-unknown",
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode_query(s: &str) -> String {
    encode_path(s)
}

/// A short, content-free description of a reqwest error.
fn short(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() {
        "body error"
    } else if e.is_decode() {
        "decode error"
    } else if e.is_builder() {
        "request could not be built"
    } else if e.is_request() {
        "request failed"
    } else {
        "HTTP error"
    }
}

fn transport(operation: &'static str, e: &reqwest::Error, changes_state: bool) -> MeshError {
    let maybe_sent = !e.is_connect() && !e.is_builder();
    if maybe_sent && changes_state {
        warn!(operation, "MESH call failed after it may have been sent");
    }
    MeshError::Transport {
        operation,
        detail: short(e).to_owned(),
        maybe_sent,
        changes_state,
    }
}

/// Default time to wait between polls (MESH: at most every 5 minutes).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(encode_path("a b/c*"), "a%20b%2Fc%2A");
        assert_eq!(encode_query("*_ACK*"), "%2A_ACK%2A");
    }

    #[test]
    fn https_without_tls_material_is_refused() {
        let creds = crate::Credentials::new(MailboxId::new("X26ABC1").unwrap(), "p", "k");
        let err = MeshClient::new(ClientConfig::new("https://example.invalid", creds.clone()))
            .unwrap_err();
        assert!(matches!(err, MeshError::Config(_)));
        assert!(MeshClient::new(ClientConfig::new("ftp://x", creds.clone())).is_err());
        assert!(MeshClient::new(ClientConfig::new("http://127.0.0.1:1", creds)).is_ok());
    }
}
