//! Logging for the example binaries, written once: `RUST_LOG` (tracing-subscriber's
//! `EnvFilter` syntax, e.g. `RUST_LOG=debug` or `RUST_LOG=systmone_client=trace`) selects what
//! is logged. Logs go to stderr (stdout stays the program's output), with colours only when
//! stderr is a terminal.

use std::io::IsTerminal;

/// Installs the subscriber; `default` is the filter used when `RUST_LOG` is unset or invalid.
pub fn init(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
