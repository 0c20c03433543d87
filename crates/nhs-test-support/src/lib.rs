//! Test-only helpers shared by every crate of the workspace (never published).
//!
//! A test that needs a real service (PostgreSQL, NHS England's MESH sandbox, a Python peer)
//! finds it through an environment variable. Without it the test prints that it was skipped
//! and how to enable it; under `CI` (set by `.ci/run`'s caller) a skip is an error, so a
//! missing install step cannot hide behind a green run.
//!
//! | variable | what | set by `.ci/run` to |
//! | --- | --- | --- |
//! | [`POSTGRES_URL_VAR`] | a PostgreSQL URL with rights to create schemas | `postgres://postgres@127.0.0.1:5432/test` |
//! | [`MESH_URL_VAR`] | NHS England's `mesh-sandbox`, plain HTTP, `AUTH_MODE=full` | `http://127.0.0.1:8700` |
//! | [`MESH_TLS_URL_VAR`] | a second sandbox behind TLS with client-certificate checking | `https://localhost:8701` |
//! | [`MESH_TLS_DIR_VAR`] | the throwaway CA, client certificate and key for it | `target/ci/mesh-tls` |
//! | [`PYTHON_VAR`] | the venv's Python with `mesh-client` and `fhir.resources` installed | `.venv/bin/python` |
//!
//! Tests that check what is (and is not) logged capture the lines with [`logs::LogCapture`].
//!
//! ```no_run
//! # async fn t() {
//! let Some(url) = nhs_test_support::postgres_url() else { return };
//! let schema_url = nhs_test_support::fresh_postgres_schema(&url, "ward").await;
//! // every connection made from `schema_url` works in its own, new schema
//! # }
//! ```

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod logs;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// PostgreSQL for tests: a URL whose user may create schemas (trust auth on these machines).
pub const POSTGRES_URL_VAR: &str = "NHSI_TEST_POSTGRES_URL";
/// NHS England's `mesh-sandbox` over plain HTTP, started with `AUTH_MODE=full`.
pub const MESH_URL_VAR: &str = "NHSI_TEST_MESH_URL";
/// A second `mesh-sandbox` served over TLS that checks client certificates.
pub const MESH_TLS_URL_VAR: &str = "NHSI_TEST_MESH_TLS_URL";
/// Folder holding `ca.pem`, `client.pem` and `client-key.pem` for [`MESH_TLS_URL_VAR`].
pub const MESH_TLS_DIR_VAR: &str = "NHSI_TEST_MESH_TLS_DIR";
/// A Python interpreter with NHS's `mesh-client` and `fhir.resources` installed.
pub const PYTHON_VAR: &str = "NHSI_TEST_PYTHON";

/// True when running under CI (`CI` set to anything but empty, `0` or `false`).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The value of `var`, or `None` after printing that the calling test was skipped and how to
/// enable it. Under `CI` a missing service panics instead: a skip there is an error.
pub fn service(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            let msg = format!(
                "skipped: this test needs {what}; set {var} to enable it \
                 (`bash .ci/run` provisions it and sets {var})"
            );
            if under_ci() {
                panic!("{msg}; under CI a skip is an error");
            }
            eprintln!("{msg}");
            None
        }
    }
}

/// [`POSTGRES_URL_VAR`], or a printed skip (an error under CI).
pub fn postgres_url() -> Option<String> {
    service(
        POSTGRES_URL_VAR,
        "PostgreSQL (for example postgres://postgres@127.0.0.1:5432/test)",
    )
}

/// [`MESH_URL_VAR`], or a printed skip (an error under CI).
///
/// The first call in a process also warms the sandbox up (see [`warm_up_mesh_sandbox`]).
pub fn mesh_url() -> Option<String> {
    let url = service(
        MESH_URL_VAR,
        "NHS England's mesh-sandbox (pip install mesh-sandbox==1.0.137)",
    )?;
    static WARMED: std::sync::Once = std::sync::Once::new();
    WARMED.call_once(|| warm_up_mesh_sandbox(&url));
    Some(url)
}

/// Makes one request that reaches mesh-sandbox's message store, alone, before any test does.
///
/// mesh-sandbox 1.0.137 builds its store lazily, on the first request that needs it, behind
/// `functools.lru_cache` on a thread pool. Requests that arrive together at a fresh sandbox can
/// each build their own store: a message sent through one of them is then missing from every
/// later inbox listing (seen as a test's inbox being empty, only on a freshly started sandbox).
/// `.ci/services.sh` does the same with curl as soon as the sandbox is up. Plain HTTP only;
/// failures are ignored (the tests that follow will say what is wrong).
pub fn warm_up_mesh_sandbox(url: &str) {
    use std::io::{Read, Write};
    let Some(host) = url.strip_prefix("http://") else {
        return;
    };
    let host = host.trim_end_matches('/');
    let Ok(addrs) = std::net::ToSocketAddrs::to_socket_addrs(host) else {
        return;
    };
    let timeout = std::time::Duration::from_secs(5);
    for addr in addrs {
        let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, timeout) else {
            continue;
        };
        let _ = s.set_read_timeout(Some(timeout));
        let req = format!(
            "GET /admin/mailbox/X26ABC1 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        );
        if s.write_all(req.as_bytes()).is_ok() {
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
        }
        return;
    }
}

/// [`PYTHON_VAR`], or a printed skip (an error under CI).
pub fn python() -> Option<String> {
    service(
        PYTHON_VAR,
        "a Python with mesh-client and fhir.resources installed",
    )
}

/// Creates a new, empty schema named `{prefix}_{unique}` and returns `base_url` with
/// `options=-c search_path=<schema>` added, so every connection made from the returned URL
/// (tokio-postgres, deadpool, or `psql`) works inside that schema only. Each test gets its own
/// schema; they are left behind for inspection and are cheap (drop them with
/// `DROP SCHEMA … CASCADE` when you like).
///
/// Panics when the database cannot be reached: the caller asked for it explicitly.
pub async fn fresh_postgres_schema(base_url: &str, prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let prefix: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    let schema = format!(
        "t_{prefix}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(base_url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL for a test schema: {e}"));
    let conn = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap_or_else(|e| panic!("cannot create test schema {schema}: {e}"));
    drop(client);
    let _ = conn.await;
    let sep = if base_url.contains('?') { '&' } else { '?' };
    format!("{base_url}{sep}options=-c%20search_path%3D{schema}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_schema_is_the_search_path_of_its_url() {
        let Some(url) = postgres_url() else { return };
        let a = fresh_postgres_schema(&url, "support").await;
        let b = fresh_postgres_schema(&url, "support").await;
        assert_ne!(a, b);
        let (client, connection) = tokio_postgres::connect(&a, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let row = client
            .query_one("SELECT current_schema()", &[])
            .await
            .unwrap();
        let schema: String = row.get(0);
        assert!(a.contains(&schema), "{a} vs {schema}");
        let (client_b, connection) = tokio_postgres::connect(&b, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        assert!(
            client_b.query("SELECT * FROM t", &[]).await.is_err(),
            "schemas are separate"
        );
    }
}
