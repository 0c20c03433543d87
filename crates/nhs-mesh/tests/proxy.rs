//! Proxies: a tiny HTTP proxy written here (CONNECT tunnels, and plain forwarding of
//! absolute-form `http://` requests) in front of the TLS sandbox with client-certificate
//! checking (`NHSI_TEST_MESH_TLS_URL`, `NHSI_TEST_MESH_TLS_DIR`) and the plain sandbox
//! (`NHSI_TEST_MESH_URL`). The environment's `HTTPS_PROXY` / `NO_PROXY` are tested in a child
//! process of this test binary, so no test changes its own environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use common::{config, unique_workflow};
use nhs_mesh::{Downloaded, Envelope, MeshClient, MeshError, RetryPolicy, TlsConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The proxy: records the request line of every request it receives (for a CONNECT, the
/// tunnel's only one).
struct Proxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn proxy() -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let _ = serve(client, log).await;
            });
        }
    });
    Proxy {
        url: format!("http://{addr}"),
        seen,
    }
}

async fn serve(
    mut client: tokio::net::TcpStream,
    log: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        let n = client.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let line = head.lines().next().unwrap_or("").to_owned();
    log.lock().unwrap().push(line.clone());
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    if method == "CONNECT" {
        let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
            client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                .await?;
            return Ok(());
        };
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
        upstream.write_all(&buf[head_end..]).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    // Plain forwarding of an absolute-form request: `POST http://host:port/path HTTP/1.1`.
    let Some(rest) = target.strip_prefix("http://") else {
        client
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut upstream = tokio::net::TcpStream::connect(host).await?;
    // Origin-form request line; one request per connection, so the rest can be piped.
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    for h in head.split("\r\n").skip(1).filter(|h| !h.is_empty()) {
        let name = h.split(':').next().unwrap_or("").to_ascii_lowercase();
        if name != "connection" && name != "proxy-connection" && name != "keep-alive" {
            out.push_str(h);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    upstream.write_all(out.as_bytes()).await?;
    upstream.write_all(&buf[head_end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

fn tls() -> Option<(String, PathBuf)> {
    let url = nhs_test_support::service(
        nhs_test_support::MESH_TLS_URL_VAR,
        "mesh-sandbox over TLS with client-certificate checking",
    )?;
    let dir = nhs_test_support::service(
        nhs_test_support::MESH_TLS_DIR_VAR,
        "the throwaway CA, client certificate and key of the TLS sandbox",
    )?;
    Some((url, PathBuf::from(dir)))
}

fn material(dir: &std::path::Path) -> TlsConfig {
    TlsConfig::from_files(
        dir.join("client.pem"),
        dir.join("client-key.pem"),
        dir.join("ca.pem"),
    )
    .unwrap()
}

/// `host:port` of an `https://` URL.
fn authority(url: &str) -> String {
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

#[tokio::test]
async fn mutual_tls_through_a_connect_proxy() {
    let Some((url, dir)) = tls() else { return };
    let proxy = proxy().await;
    let sender = MeshClient::new(
        config(&url, "X26ABC1")
            .tls(material(&dir))
            .proxy(&proxy.url),
    )
    .unwrap();
    let receiver = MeshClient::new(
        config(&url, "X26ABC2")
            .tls(material(&dir))
            .proxy(&proxy.url),
    )
    .unwrap();
    sender.handshake().await.unwrap();
    let connect = format!("CONNECT {} HTTP/1.1", authority(&url));
    assert!(
        proxy.seen().contains(&connect),
        "the proxy saw {:?}",
        proxy.seen()
    );
    // Only tunnels: the proxy never saw a request in the clear.
    assert!(proxy.seen().iter().all(|l| l.starts_with("CONNECT ")));

    let wf = unique_workflow("PROXY");
    let id = sender
        .send(&Envelope::new("X26ABC2", &wf), b"through the tunnel")
        .await
        .unwrap();
    let Downloaded::Data(m) = receiver.download(&id).await.unwrap() else {
        panic!("not data")
    };
    assert_eq!(m.body, b"through the tunnel");
    receiver.acknowledge(&id).await.unwrap();
    assert!(proxy.seen().iter().all(|l| l.starts_with("CONNECT ")));

    // Without a client certificate the tunnel opens but the server refuses the handshake.
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();
    let no_cert = MeshClient::new(
        config(&url, "X26ABC1")
            .tls(TlsConfig::server_only(ca))
            .proxy(&proxy.url)
            .retry(RetryPolicy::none()),
    )
    .unwrap();
    let err = no_cert.handshake().await.unwrap_err();
    assert!(matches!(err, MeshError::Transport { .. }), "{err}");
}

#[tokio::test]
async fn plain_http_through_a_forwarding_proxy() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let proxy = proxy().await;
    let c = MeshClient::new(config(&url, "X26ABC1").proxy(&proxy.url)).unwrap();
    c.handshake().await.unwrap();
    let want = format!(
        "POST {}/messageexchange/X26ABC1 HTTP/1.1",
        url.trim_end_matches('/')
    );
    assert_eq!(proxy.seen(), vec![want]);
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_transport_failure_before_anything_is_sent() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = MeshClient::new(
        config("http://127.0.0.1:8700", "X26ABC1")
            .proxy(format!("http://127.0.0.1:{port}"))
            .retry(RetryPolicy::none()),
    )
    .unwrap();
    let err = c
        .send(&Envelope::new("X26ABC2", "TEST_WORKFLOW"), b"x")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MeshError::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        MeshClient::new(config("http://127.0.0.1:8700", "X26ABC1").proxy("::not a url")).is_err()
    );
}

/// Set in the child process: which configuration to use (`honour` or `ignore`).
const CHILD_VAR: &str = "NHS_MESH_PROXY_ENV_CHILD";

/// The child's half of `the_environment_proxy_is_used_only_when_asked`: a handshake with the
/// environment the parent gave it. Does nothing in a normal run.
#[tokio::test]
async fn child_handshake_with_the_environment() {
    let Ok(mode) = std::env::var(CHILD_VAR) else {
        return;
    };
    let (url, dir) = tls().expect("the parent checked the TLS sandbox");
    let c = MeshClient::new(
        config(&url, "X26ABC1")
            .tls(material(&dir))
            .proxy_from_env(mode == "honour")
            .retry(RetryPolicy::none()),
    )
    .unwrap();
    c.handshake().await.unwrap();
}

/// Runs the child test with `env`; asserts that it passed.
async fn run_child(mode: &str, env: &[(&str, &str)]) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        "child_handshake_with_the_environment",
        "--exact",
        "--nocapture",
    ])
    .env(CHILD_VAR, mode);
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child {mode} {env:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_environment_proxy_is_used_only_when_asked() {
    let Some((url, _)) = tls() else { return };
    let host = authority(&url)
        .rsplit_once(':')
        .map(|(h, _)| h.to_owned())
        .unwrap();

    // Default: HTTPS_PROXY is ignored; the handshake goes direct.
    let p = proxy().await;
    run_child("ignore", &[("HTTPS_PROXY", &p.url)]).await;
    assert!(p.seen().is_empty(), "{:?}", p.seen());

    // Asked to honour it: the handshake is tunnelled through HTTPS_PROXY.
    let p = proxy().await;
    run_child("honour", &[("HTTPS_PROXY", &p.url)]).await;
    assert_eq!(
        p.seen(),
        vec![format!("CONNECT {} HTTP/1.1", authority(&url))]
    );

    // ... the lower-case spelling too.
    let p = proxy().await;
    run_child("honour", &[("https_proxy", &p.url)]).await;
    assert_eq!(p.seen().len(), 1);

    // ... except for hosts in NO_PROXY.
    let p = proxy().await;
    run_child("honour", &[("HTTPS_PROXY", &p.url), ("NO_PROXY", &host)]).await;
    assert!(p.seen().is_empty(), "{:?}", p.seen());

    // HTTP_PROXY is for http:// URLs only: an https:// MESH URL goes direct.
    let p = proxy().await;
    run_child("honour", &[("HTTP_PROXY", &p.url)]).await;
    assert!(p.seen().is_empty(), "{:?}", p.seen());
}
