#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Cross-crate, with real OS processes, on the real PostgreSQL (`NHSI_TEST_POSTGRES_URL`, a
//! fresh schema): one `systmone_sim` example process serves three Gateway PCs over one
//! fictitious organisation (SystmOne's real throttle); three `writeback` example processes share
//! one PostgreSQL outbox and those gateways (gateway leases), each submitting its own notes.
//! One worker is killed with SIGKILL right after a write it sent was answered and before it
//! could record it (`--stall-after-write-ms` holds that window open), so the outbox still says
//! `filing` for a note that is in the journal. The other two finish the queue.
//!
//! Checked afterwards, from the outbox and from the simulator's dump (`--dump`, written when
//! its standard input closes): every note a worker acknowledged is in the outbox and filed,
//! each exactly once in the journal, with the right author; the killed worker's note was
//! taken over, reconciled by reading the journal and not sent again; no two requests reached
//! one gateway less than 1 s apart, and no gateway was driven over two connections at once.
//!
//! The examples are built with `cargo build` (a no-op when they are up to date). Unix only:
//! the kill is a real SIGKILL (`Child::kill`).
#![cfg(unix)]

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nhs_integration::systmone_sim::model::{JournalEvent, JournalItem};
use nhs_integration::systmone_writeback::{
    Authorship, NoteStatus, Outbox, PostgresConfig, PostgresOutbox,
};
use serde::Deserialize;

/// Notes each worker submits.
const NOTES_PER_WORKER: usize = 4;

/// The root crate's features this test was built with (so the examples build with the same
/// ones and reuse this build's artefacts).
fn features() -> String {
    let mut on = Vec::new();
    macro_rules! check {
        ($($name:literal),*) => { $( if cfg!(feature = $name) { on.push($name); } )* };
    }
    check!(
        "nhs-identifiers",
        "systmone-api",
        "systmone-client",
        "systmone-sim",
        "systmone-writeback",
        "gpconnect-fhir",
        "ward-assurance",
        "open-referral-uk",
        "systmone-gateway",
        "systmone-gateway-hub",
        "nhs-mesh"
    );
    on.join(",")
}

/// Builds the two examples once and returns their executables by name.
fn build_examples() -> HashMap<String, PathBuf> {
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "-p",
            "nhs-integration",
            "--example",
            "writeback",
            "--example",
            "systmone_sim",
            "--no-default-features",
            "--features",
            &features(),
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit());
    // Cargo set these for this test; build scripts that watch them (ring's does) would rebuild
    // under another value, and again in the next ordinary build.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_tests = ["CARGO_PKG_", "CARGO_BIN_", "CARGO_CRATE_", "CARGO_CFG_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO",
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_MANIFEST_LINKS",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if set_for_tests {
            command.env_remove(name.as_ref());
        }
    }
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo build of the examples failed"
    );
    let mut found = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        if let (Some(name), Some(exe)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) {
            found.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    for name in ["writeback", "systmone_sim"] {
        assert!(found.contains_key(name), "cargo built no {name} executable");
    }
    found
}

/// One child process: its stdout lines (read on a thread), its stderr in a file.
struct Proc {
    name: String,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: PathBuf,
}

impl Proc {
    fn spawn(name: &str, mut command: Command, logs: &Path) -> Self {
        let stderr = logs.join(format!("{name}.stderr"));
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{name} did not start: {e}"));
        let mut child = child;
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            name: name.to_owned(),
            child,
            lines,
            seen: Vec::new(),
            stderr,
        }
    }

    /// Waits for a stdout line `matches` accepts (collecting every line read).
    fn wait_for(&mut self, timeout: Duration, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{}: line not seen in {timeout:?}\n{}",
                        self.name,
                        self.logs()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("{}: exited before the line\n{}", self.name, self.logs())
                }
            }
        }
    }

    /// Waits for the process to exit and collects the rest of its output.
    fn finish(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{}: still running after {timeout:?}\n{}",
                self.name,
                self.logs()
            );
            while let Ok(line) = self.lines.try_recv() {
                self.seen.push(line);
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        status
    }

    fn take_stdin(&mut self) -> ChildStdin {
        self.child.stdin.take().unwrap()
    }

    fn logs(&self) -> String {
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        format!(
            "--- {} stdout ---\n{}\n--- {} stderr (last lines) ---\n{}",
            self.name,
            self.seen.join("\n"),
            self.name,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    }

    /// References of the notes this worker printed as accepted.
    fn accepted(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|line| line.trim_start().starts_with("note ") && line.contains(" ref "))
            .filter_map(|line| line.split(" ref ").nth(1))
            .filter_map(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    }
}

/// Kills every child still running, on every path out of the test.
#[derive(Default)]
struct Procs(Vec<Proc>);

impl Drop for Procs {
    fn drop(&mut self) {
        for proc in &mut self.0 {
            let _ = proc.child.kill();
            let _ = proc.child.wait();
        }
    }
}

#[derive(Deserialize)]
struct Dump {
    gateways: Vec<GatewayDump>,
    journals: Vec<JournalDump>,
}

#[derive(Deserialize)]
struct GatewayDump {
    gateway: u64,
    requests: Vec<RequestDump>,
}

#[derive(Deserialize)]
struct RequestDump {
    sequence: u64,
    at_us: u64,
    connection: u64,
    function: Option<String>,
}

#[derive(Deserialize)]
struct JournalDump {
    nhs_number: String,
    events: Vec<JournalEvent>,
}

fn carries(event: &JournalEvent, line: &str) -> bool {
    event.items.iter().any(
        |item| matches!(item, JournalItem::Narrative { lines } if lines.iter().any(|l| l == line)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_worker_processes_one_killed_file_every_note_exactly_once() {
    let Some(base) = nhs_test_support::postgres_url() else {
        return;
    };
    let url = nhs_test_support::fresh_postgres_schema(&base, "wb_processes").await;
    let examples = build_examples();
    let logs = tempfile::tempdir().unwrap();
    let dump_path = logs.path().join("simulator.json");
    let mut procs = Procs::default();

    // The simulator: three Gateway PCs on free ports, SystmOne's real throttle.
    let mut simulator = Command::new(&examples["systmone_sim"]);
    simulator
        .args([
            "--port",
            "0",
            "--gateways",
            "3",
            "--until-stdin-closes",
            "--dump",
        ])
        .arg(&dump_path);
    procs
        .0
        .push(Proc::spawn("simulator", simulator, logs.path()));
    let mut addrs = Vec::new();
    for _ in 0..3 {
        let line = procs.0[0].wait_for(Duration::from_secs(30), |l| l.contains("listening on "));
        addrs.push(line.rsplit(' ').next().unwrap().to_owned());
    }
    let simulator_stdin = procs.0[0].take_stdin();

    let worker = |name: &str, extra: &[&str]| {
        let mut command = Command::new(&examples["writeback"]);
        for addr in &addrs {
            command.args(["--addr", addr]);
        }
        command
            .args(["--outbox", &url, "--worker-id", name])
            .args(["--generate", &NOTES_PER_WORKER.to_string()])
            // Short leases: a killed worker's notes and gateways are taken over within seconds.
            .args([
                "--lease-secs",
                "6",
                "--max-gateways",
                "2",
                "--timeout-secs",
                "3",
            ])
            // Loopback arrival jitter on a loaded machine stays well inside 100 ms.
            .args(["--pacing-margin-ms", "100", "--wait-secs", "90"])
            .args(extra)
            .env("RUST_LOG", "warn");
        Proc::spawn(name, command, logs.path())
    };

    // The worker to be killed starts first (it takes gateways and claims notes), and holds
    // each answered write for 20 s before recording it.
    procs
        .0
        .push(worker("worker-0", &["--stall-after-write-ms", "20000"]));
    procs.0[1].wait_for(Duration::from_secs(60), |l| l == "Filing...");
    procs.0.push(worker("worker-1", &[]));
    procs.0.push(worker("worker-2", &[]));
    let answered = procs.0[1].wait_for(Duration::from_secs(60), |l| {
        l.trim_start().starts_with("write answered by ")
    });
    let stalled_line = answered.rsplit(": ").next().unwrap().to_owned();
    procs.0[1].child.kill().unwrap(); // SIGKILL
    let killed = procs.0[1].child.wait().unwrap();
    assert!(!killed.success());
    while let Ok(line) = procs.0[1].lines.recv_timeout(Duration::from_secs(2)) {
        procs.0[1].seen.push(line);
    }

    for index in [2, 3] {
        let status = procs.0[index].finish(Duration::from_secs(90));
        assert!(
            status.success(),
            "{} failed: {status}\n{}",
            procs.0[index].name,
            procs.0[index].logs()
        );
    }
    drop(simulator_stdin);
    let status = procs.0[0].finish(Duration::from_secs(20));
    assert!(
        status.success(),
        "simulator: {status}\n{}",
        procs.0[0].logs()
    );
    let dump: Dump = serde_json::from_slice(&std::fs::read(&dump_path).unwrap()).unwrap();

    // Every note a worker acknowledged is in the outbox, and nothing else is.
    let acknowledged: BTreeSet<String> = procs.0[1..].iter().flat_map(Proc::accepted).collect();
    assert_eq!(
        acknowledged.len(),
        3 * NOTES_PER_WORKER,
        "accepted lines: {acknowledged:?}"
    );
    let outbox = PostgresOutbox::connect(&url, PostgresConfig::default().with_pool_size(1))
        .await
        .unwrap();
    let entries = outbox.entries().await.unwrap();
    let stored: BTreeSet<String> = entries.iter().map(|e| e.reference.to_string()).collect();
    assert_eq!(stored, acknowledged);

    let mut recovered = 0;
    let mut found_stalled = false;
    for entry in &entries {
        let trail = outbox.audit_trail(entry.id).await.unwrap();
        let kinds: Vec<&str> = trail.iter().map(|r| r.kind.name()).collect();
        assert!(
            matches!(entry.status, NoteStatus::Filed { .. }),
            "note {} is {}: {kinds:?}",
            entry.id,
            entry.status
        );
        if kinds.contains(&"recovered") {
            recovered += 1;
        }
        let line = entry.reference.line();
        let nhs = entry.note.patient.nhs_number.expose();
        let events: Vec<&JournalEvent> = dump
            .journals
            .iter()
            .filter(|j| j.nhs_number == nhs)
            .flat_map(|j| j.events.iter())
            .filter(|event| carries(event, &line))
            .collect();
        assert_eq!(
            events.len(),
            1,
            "note {} is in the journal {} times: {kinds:?}",
            entry.id,
            events.len()
        );
        let event = events[0];
        assert!(
            event.entered_by.starts_with("gateway"),
            "{}",
            event.entered_by
        );
        match entry.note.author.authorship() {
            Authorship::SystmOneUser { username } => assert_eq!(event.author, username.as_str()),
            Authorship::DoneByText { name } => {
                assert_eq!(event.author, event.entered_by);
                assert_eq!(event.done_by_text.as_deref(), Some(name.as_str()));
            }
            other => panic!("unexpected authorship {other:?}"),
        }
        if line == stalled_line {
            found_stalled = true;
            assert!(
                kinds.contains(&"recovered"),
                "the killed worker's answered write was taken over: {kinds:?}"
            );
            // The killed worker's write is the last one sent: after the takeover it is found
            // by reading the journal, never sent again. (On a loaded machine an earlier
            // attempt can time out unapplied, be read as not in the journal and be sent
            // again before the kill; that is the outbox working, not a second filing.)
            let last_sent = kinds.iter().rposition(|k| *k == "write-sent");
            let recovered_at = kinds.iter().position(|k| *k == "recovered");
            assert!(
                last_sent.zip(recovered_at).is_some_and(|(s, r)| s < r),
                "found by reading the journal, never sent again: {kinds:?}"
            );
            assert_eq!(
                kinds.last(),
                Some(&"found-in-journal"),
                "found by reading the journal, never sent again: {kinds:?}"
            );
        }
    }
    assert!(
        found_stalled,
        "the killed worker's write {stalled_line} is a note"
    );

    // SystmOne's limits: one driver per gateway at a time, 1 s between requests.
    let mut requests = 0;
    for gateway in &dump.gateways {
        requests += gateway.requests.len();
        for pair in gateway.requests.windows(2) {
            let gap = Duration::from_micros(pair[1].at_us.saturating_sub(pair[0].at_us));
            assert!(
                gap >= Duration::from_secs(1),
                "gateway {} got requests {} ({:?}) and {} ({:?}) only {gap:?} apart",
                gateway.gateway,
                pair[0].sequence,
                pair[0].function,
                pair[1].sequence,
                pair[1].function
            );
            assert!(
                pair[1].connection >= pair[0].connection,
                "gateway {} was driven over two connections at once",
                gateway.gateway
            );
        }
    }
    eprintln!(
        "{} notes filed by three worker processes (one killed mid-write); {recovered} recovered \
         after the kill; {requests} requests to three gateways",
        entries.len()
    );
}
