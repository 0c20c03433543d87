//! Shared helpers for the sandbox tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use nhs_mesh::{ClientConfig, Credentials, MailboxId, MeshClient, RetryPolicy};

/// The sandbox mailboxes' password and the shared key CI starts it with.
pub const PASSWORD: &str = "password";
pub const SHARED_KEY: &str = "TestKey";

pub fn config(url: &str, mailbox: &str) -> ClientConfig {
    ClientConfig::new(
        url,
        Credentials::new(MailboxId::new(mailbox).unwrap(), PASSWORD, SHARED_KEY),
    )
    .retry(RetryPolicy::default())
}

pub fn client(url: &str, mailbox: &str) -> MeshClient {
    MeshClient::new(config(url, mailbox)).unwrap()
}

/// A workflow id no other test uses, so inbox listings can be filtered to this test only
/// (the sandbox is one shared in-memory instance; workflows only matter to lookups there).
pub fn unique_workflow(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Deterministic, moderately compressible bytes.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let word = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do ";
        let i = (x % 50) as usize;
        out.extend_from_slice(&word[i..i + 8]);
        out.push(b'0' + (x >> 60) as u8 % 10);
    }
    out.truncate(len);
    out
}

/// A plain HTTP/1.1 POST of JSON to the sandbox's admin API (no auth); returns the status.
pub async fn admin_post(url: &str, path: &str, json: &serde_json::Value) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let body = json.to_string();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A TCP proxy in front of the sandbox that, for the first `drops` requests whose request
/// line `matches`, forwards the request, waits until the sandbox starts answering (so it has
/// accepted it), then closes the client's connection without passing the answer on.
pub struct FaultProxy {
    pub url: String,
    pub drops_left: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

pub async fn fault_proxy(
    upstream_url: &str,
    drops: usize,
    matches: fn(&str) -> bool,
) -> FaultProxy {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = upstream_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let drops_left = Arc::new(AtomicUsize::new(drops));
    let left = drops_left.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let upstream = upstream.clone();
            let left = left.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let poisoned = Arc::new(AtomicBool::new(false));
                let p2 = poisoned.clone();
                let up = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let head = String::from_utf8_lossy(&buf[..n.min(300)]);
                        let first_line = head.lines().next().unwrap_or("");
                        if first_line.contains(" HTTP/1.1")
                            && matches(first_line)
                            && left
                                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| {
                                    d.checked_sub(1)
                                })
                                .is_ok()
                        {
                            p2.store(true, Ordering::SeqCst);
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let down = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if poisoned.load(Ordering::SeqCst) {
                            // The sandbox has answered: it accepted the request. Drop it all.
                            return;
                        }
                        if cw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                tokio::select! {
                    () = up => {},
                    () = down => {},
                }
            });
        }
    });
    FaultProxy {
        url: format!("http://{addr}"),
        drops_left,
    }
}
