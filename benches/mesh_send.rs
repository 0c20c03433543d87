//! Sending a 100 MB message in 5 chunks of 20 MB to NHS England's mesh-sandbox, beside `curl`
//! uploading the same chunk bytes in the same run.
//!
//! `NHSI_TEST_PYTHON=.venv/bin/python cargo bench -p nhs-integration --bench mesh_send -- --warm-up-time 1 --measurement-time 3`
//!
//! The bench starts its own sandbox (`uvicorn mesh_sandbox.api:app`, memory store, full auth)
//! on a free port from the venv of `NHSI_TEST_PYTHON`, resets it after every upload (the
//! memory store would otherwise keep every 100 MB), and stops it at the end. Without
//! `NHSI_TEST_PYTHON` it prints a skip.
//!
//! * `nhs_mesh_plain`: `MeshClient::send`, chunks not compressed (the same bytes curl sends).
//! * `nhs_mesh_gzip`: each 20 MB chunk gzipped on its own (fast level) before upload.
//! * `curl_plain`: `curl --data-binary @chunkN` per chunk with the same headers, the token
//!   made by `nhs_mesh::auth` (curl's process start and file read are inside the timing).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nhs_integration::nhs_mesh::{ClientConfig, Credentials, Envelope, MailboxId, MeshClient};

const TOTAL: usize = 100 * 1024 * 1024;
const CHUNK: usize = 20 * 1024 * 1024;

struct Sandbox {
    child: Child,
    url: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sandbox(python: &str) -> Sandbox {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let mut child = Command::new(python)
        .args([
            "-m",
            "uvicorn",
            "mesh_sandbox.api:app",
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .args(["--workers", "1", "--log-level", "warning"])
        .env("STORE_MODE", "memory")
        .env("AUTH_MODE", "full")
        .env("SHARED_KEY", "TestKey")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mesh-sandbox");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if curl(&["-fsS", &format!("{url}/health")]).is_ok() {
            return Sandbox { child, url };
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("mesh-sandbox did not start");
}

fn curl(args: &[&str]) -> Result<String, String> {
    let out = Command::new("curl")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn reset(url: &str) {
    curl(&["-fsS", "-X", "DELETE", &format!("{url}/admin/reset")]).expect("reset sandbox");
}

fn data() -> Vec<u8> {
    // Text-like bytes (gzip gets roughly 3:1), deterministic.
    let words: &[&[u8]] = &[
        b"patient ",
        b"seen ",
        b"ward ",
        b"review ",
        b"plan ",
        b"2026 ",
        b"notes\n",
    ];
    let mut out = Vec::with_capacity(TOTAL);
    let mut x: u32 = 0x9E37_79B9;
    while out.len() < TOTAL {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.extend_from_slice(words[(x % 7) as usize]);
        out.extend_from_slice(&x.to_le_bytes()[..2]);
    }
    out.truncate(TOTAL);
    out
}

fn creds() -> Credentials {
    Credentials::new(
        MailboxId::new("X26ABC1").expect("mailbox"),
        "password",
        "TestKey",
    )
}

fn curl_send(url: &str, files: &[std::path::PathBuf]) {
    let n = files.len();
    let mut id = String::new();
    for (i, f) in files.iter().enumerate() {
        let k = i + 1;
        let auth = creds()
            .authorization(&nonce(k), 0, chrono::Utc::now())
            .expect("token");
        let path = if k == 1 {
            format!("{url}/messageexchange/X26ABC1/outbox")
        } else {
            format!("{url}/messageexchange/X26ABC1/outbox/{id}/{k}")
        };
        let data = format!("@{}", f.display());
        let range = format!("mex-Chunk-Range: {k}:{n}");
        let auth = format!("Authorization: {auth}");
        let out = curl(&[
            "-fsS",
            "-X",
            "POST",
            &path,
            "-H",
            &auth,
            "-H",
            "Accept: application/vnd.mesh.v2+json",
            "-H",
            "Content-Type: application/octet-stream",
            "-H",
            "mex-From: X26ABC1",
            "-H",
            "mex-To: X26ABC2",
            "-H",
            "mex-WorkflowID: BENCH",
            "-H",
            &range,
            "--data-binary",
            &data,
        ])
        .expect("curl upload");
        if k == 1 {
            let v: serde_json::Value = serde_json::from_str(&out).expect("send answer");
            id = v["message_id"].as_str().expect("message_id").to_owned();
        }
    }
}

/// A nonce used once: the time in nanoseconds and the chunk number.
fn nonce(k: usize) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}-{k}")
}

fn bench(c: &mut Criterion) {
    let Ok(python) = std::env::var("NHSI_TEST_PYTHON") else {
        eprintln!("skipped: set NHSI_TEST_PYTHON to a Python with mesh-sandbox installed");
        return;
    };
    let sandbox = start_sandbox(&python);
    let url = sandbox.url.clone();
    let body = data();
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<_> = body
        .chunks(CHUNK)
        .enumerate()
        .map(|(i, c)| {
            let p = dir.path().join(format!("chunk{}", i + 1));
            std::fs::write(&p, c).expect("write chunk");
            p
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let plain = MeshClient::new(
        ClientConfig::new(&url, creds())
            .chunk_size(CHUNK)
            .compress(false),
    )
    .expect("client");
    let gzip = MeshClient::new(
        ClientConfig::new(&url, creds())
            .chunk_size(CHUNK)
            .compress(true),
    )
    .expect("client");
    let env = Envelope::new("X26ABC2", "BENCH");

    let mut g = c.benchmark_group("mesh_send_100MB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.bench_function("curl_plain", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                curl_send(&url, &files);
                total += t.elapsed();
                reset(&url);
            }
            total
        });
    });
    for (name, client) in [("nhs_mesh_plain", &plain), ("nhs_mesh_gzip", &gzip)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    rt.block_on(client.send(&env, &body)).expect("send");
                    total += t.elapsed();
                    reset(&url);
                }
                total
            });
        });
    }
    g.finish();
    drop(sandbox);
}

criterion_group!(benches, bench);
criterion_main!(benches);
