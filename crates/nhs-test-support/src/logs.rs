//! Log lines captured in memory, for tests that check what is (and is not) logged.
//!
//! ```
//! let logs = nhs_test_support::logs::LogCapture::global("trace");
//! tracing::info!(gateway = "gw-1", "connected");
//! assert!(logs.text().contains("connected"));
//! ```
//!
//! [`LogCapture::global`] installs one process-wide subscriber (the first call's filter wins),
//! which sees the lines of every thread and task: a test binary that uses it should hold only
//! tests that want those lines. [`LogCapture::subscriber`] gives a subscriber to install on one
//! thread with `tracing::subscriber::set_default`.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// A shared in-memory buffer the formatted log lines go to (no colour codes).
#[derive(Clone, Debug, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// The capture behind this process's global subscriber, installing it on the first call
    /// with `filter` (an `EnvFilter` directive such as `"trace"` or `"info"`).
    ///
    /// # Panics
    /// If another global subscriber was installed first: its lines would not be captured.
    pub fn global(filter: &str) -> Self {
        static GLOBAL: OnceLock<LogCapture> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let capture = Self::new();
                tracing::subscriber::set_global_default(capture.subscriber(filter))
                    .expect("no other global tracing subscriber in this test binary");
                capture
            })
            .clone()
    }

    /// A `fmt` subscriber at `filter` whose lines go to this capture.
    pub fn subscriber(&self, filter: &str) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
    }

    /// Everything captured so far (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
