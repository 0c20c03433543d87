//! A local website for the freshness tests and bench: a raw tokio listener on loopback that
//! answers by path, whatever the `Host` (many host names map to it through the checker's
//! `resolve` option), and logs every request (host, path, arrival) with the most requests
//! one host had in flight at once.
//!
//! | path | answer |
//! | --- | --- |
//! | `/page` | a service page; its phone number follows [`Site::version`] |
//! | `/cosmetic` | the same page with a timestamp, a counter and a token that change on every fetch |
//! | `/gone404`, `/gone410` | 404, 410 |
//! | `/loop-a` ↔ `/loop-b` | 302 to each other |
//! | `/chain/N` | 302 to `/chain/N+1`, forever |
//! | `/elsewhere` | 301 to `http://parked.test:PORT/` |
//! | `/moved` | 301 to `/page` (same site) |
//! | `/slow` | 200, then one byte every 200 ms |
//! | `/huge` | 200, no length, 64 KiB chunks until the client hangs up |
//! | `/declared` | 200 with `Content-Length: 1073741824` |
//! | `/latin1` | the page in Latin-1 with stray bytes (invalid UTF-8) |
//! | `/pdf` | `application/pdf` |
//! | `/error` | 503 |
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// The shared state of the site.
#[derive(Default)]
pub struct Site {
    /// Which phone number `/page` shows (0: 0118 496 0000, 1: 0118 496 0999, 2: 0118 496 0777).
    pub version: AtomicU32,
    /// Fetches of `/cosmetic` so far.
    pub counter: AtomicU64,
    /// Every request: (host, path, arrival).
    pub log: Mutex<Vec<(String, String, Instant)>>,
    active: Mutex<HashMap<String, u32>>,
    /// The most requests one host had in flight at once.
    pub max_active_per_host: AtomicU32,
    /// Requests answered.
    pub served: AtomicU64,
}

/// A running site.
pub struct Running {
    /// Its state.
    pub site: Arc<Site>,
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// `http://{host}:{port}{path}`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    /// The requests logged for one host, in arrival order.
    pub fn arrivals(&self, host: &str) -> Vec<Instant> {
        self.site
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, _, _)| h == host)
            .map(|(_, _, at)| *at)
            .collect()
    }
}

/// Starts the site on a free loopback port.
pub async fn start() -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let site = Arc::new(Site::default());
    let state = Arc::clone(&site);
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let site = Arc::clone(&state);
            tokio::spawn(async move {
                let _ = handle(socket, site, addr.port()).await;
            });
        }
    });
    Running { site, addr, task }
}

const PHONES: [&str; 3] = ["0118 496 0000", "0118 496 0999", "0118 496 0777"];

/// The service page with a given phone number and cosmetic parts.
pub fn page(phone: &str, updated: &str, visits: u64, token: &str) -> String {
    format!(
        "<!doctype html><html><head><title>Riverside Walking Group</title>\
         <script>window.token = '{token}';</script><style>body {{ font: 1em serif }}</style></head>\
         <body><nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav>\
         <h1>Riverside Walking Group</h1>\
         <p>Last updated {updated}. {visits} visits. Session {token}</p>\
         <p>Friendly walks along the Thames for all abilities.</p>\
         <p>Call {phone} or e-mail <a href=\"mailto:walks@riverside.example\">walks@riverside.example</a></p>\
         <address>Riverside Hall, Reading RG1 1AA</address>\
         <table><tr><td>Tuesdays</td><td>10am - 12pm</td></tr></table>\
         <footer>&copy; 2026 Riverside</footer></body></html>"
    )
}

async fn handle(mut socket: TcpStream, site: Arc<Site>, port: u16) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = socket.read(&mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&request).into_owned();
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let host = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("host: ")
                .or_else(|| l.strip_prefix("Host: "))
        })
        .map(|h| h.trim().split(':').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    site.log
        .lock()
        .unwrap()
        .push((host.clone(), path.clone(), Instant::now()));
    {
        let mut active = site.active.lock().unwrap();
        let count = active.entry(host.clone()).or_default();
        *count += 1;
        site.max_active_per_host.fetch_max(*count, Ordering::SeqCst);
    }
    let result = answer(&mut socket, &site, &path, port).await;
    *site.active.lock().unwrap().entry(host).or_default() -= 1;
    site.served.fetch_add(1, Ordering::SeqCst);
    result
}

async fn respond(
    socket: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body).await?;
    socket.shutdown().await
}

fn html() -> (&'static str, String) {
    ("Content-Type", "text/html; charset=utf-8".to_owned())
}

async fn answer(socket: &mut TcpStream, site: &Site, path: &str, port: u16) -> std::io::Result<()> {
    let redirect = |to: String| [("Location", to)];
    match path {
        "/page" => {
            let phone = PHONES[site.version.load(Ordering::SeqCst) as usize % PHONES.len()];
            let body = page(phone, "30 November 2026", 1204, "a8f9c3e1d2");
            respond(socket, "200 OK", &[html()], body.as_bytes()).await
        }
        "/cosmetic" => {
            let n = site.counter.fetch_add(1, Ordering::SeqCst);
            let updated = format!(
                "{} December 2026 at {:02}:{:02}",
                1 + n % 28,
                n % 24,
                (n * 7) % 60
            );
            let token = format!("{:x}", 0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(n + 1));
            let body = page(PHONES[0], &updated, 1000 + n * 13, &token);
            let body = body.replace(
                "<p>Friendly",
                &format!("<p>\n{}Friendly", " ".repeat(n as usize % 5)),
            );
            respond(socket, "200 OK", &[html()], body.as_bytes()).await
        }
        "/gone404" => respond(socket, "404 Not Found", &[html()], b"<h1>Not found</h1>").await,
        "/gone410" => respond(socket, "410 Gone", &[html()], b"<h1>Gone</h1>").await,
        "/loop-a" => respond(socket, "302 Found", &redirect("/loop-b".into()), b"").await,
        "/loop-b" => respond(socket, "302 Found", &redirect("/loop-a".into()), b"").await,
        "/elsewhere" => {
            respond(
                socket,
                "301 Moved Permanently",
                &redirect(format!("http://parked.test:{port}/")),
                b"",
            )
            .await
        }
        "/moved" => {
            respond(
                socket,
                "301 Moved Permanently",
                &redirect("/page".into()),
                b"",
            )
            .await
        }
        "/slow" => {
            socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n",
                )
                .await?;
            for _ in 0..300 {
                socket.write_all(b"<").await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(())
        }
        "/huge" => {
            socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n",
                )
                .await?;
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..16_384 {
                socket.write_all(&chunk).await?;
            }
            Ok(())
        }
        "/declared" => {
            socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1073741824\r\n\r\n<p>",
                )
                .await?;
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        }
        "/latin1" => {
            let mut body = page(PHONES[0], "30 November 2026", 1204, "a8f9c3e1d2").into_bytes();
            body.extend_from_slice(b"<p>Caf\xe9 open \xff\xfe\xc3 daily</p>");
            respond(
                socket,
                "200 OK",
                &[("Content-Type", "text/html; charset=iso-8859-1".into())],
                &body,
            )
            .await
        }
        "/pdf" => {
            respond(
                socket,
                "200 OK",
                &[("Content-Type", "application/pdf".into())],
                b"%PDF-1.4",
            )
            .await
        }
        "/error" => respond(socket, "503 Service Unavailable", &[html()], b"busy").await,
        p if p.starts_with("/chain/") => {
            let n: u64 = p["/chain/".len()..].parse().unwrap_or(0);
            respond(
                socket,
                "302 Found",
                &redirect(format!("/chain/{}", n + 1)),
                b"",
            )
            .await
        }
        _ => respond(socket, "404 Not Found", &[html()], b"").await,
    }
}
