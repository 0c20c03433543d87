//! A scripted HTTP/1.1 server for tests: every request is logged, and a closure decides the
//! answer from the request and how many earlier requests had the same method and path.
//! One request per connection (`Connection: close`), so each retry is a new connection.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body_len: usize,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
#[derive(Clone, Debug)]
pub enum Reply {
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, then close the connection without answering.
    Drop,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self::Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Self::Answer { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    pub fn with_body(mut self, bytes: &[u8]) -> Self {
        if let Self::Answer { body, .. } = &mut self {
            *body = bytes.to_vec();
        }
        self
    }
}

pub struct Scripted {
    pub url: String,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// How many requests had this method and a target starting with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.target.starts_with(prefix))
            .count()
    }
}

type Route = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// Starts the server on 127.0.0.1; `route(request, n)` answers, `n` being the number of
/// earlier requests with the same method and target.
pub async fn scripted(route: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Scripted {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let counts = Arc::new(Mutex::new(HashMap::<(String, String), usize>::new()));
    let route: Arc<Route> = Arc::new(route);
    let task_log = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let log = task_log.clone();
            let counts = counts.clone();
            let route = route.clone();
            tokio::spawn(async move {
                let Some(seen) = read_request(&mut stream).await else {
                    return;
                };
                let n = {
                    let mut c = counts.lock().unwrap();
                    let e = c
                        .entry((seen.method.clone(), seen.target.clone()))
                        .or_insert(0);
                    *e += 1;
                    *e - 1
                };
                log.lock().unwrap().push(seen.clone());
                match route(&seen, n) {
                    Reply::Drop => {}
                    Reply::Answer {
                        status,
                        headers,
                        body,
                    } => {
                        let mut head = format!(
                            "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n",
                            body.len()
                        );
                        for (n, v) in headers {
                            head.push_str(&format!("{n}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = stream.write_all(head.as_bytes()).await;
                        if seen.method != "HEAD" {
                            let _ = stream.write_all(&body).await;
                        }
                        let _ = stream.shutdown().await;
                    }
                }
            });
        }
    });
    Scripted {
        url: format!("http://{addr}"),
        log,
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let head_end = loop {
        let n = stream.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < len {
        let n = stream.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        have += n;
    }
    Some(Seen {
        method,
        target,
        headers,
        body_len: have,
        at: Instant::now(),
    })
}
