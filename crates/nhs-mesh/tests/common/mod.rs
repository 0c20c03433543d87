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
