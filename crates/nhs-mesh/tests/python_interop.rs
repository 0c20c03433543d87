//! Interoperability both ways with NHS's Python `mesh-client` 5.0.2 (`NHSI_TEST_PYTHON`)
//! over the sandbox (`NHSI_TEST_MESH_URL`): chunked and gzipped, metadata intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{client, config, payload, unique_workflow};
use nhs_mesh::{Downloaded, Envelope, MeshClient};

const RECEIVE: &str = r#"
import json, sys
from mesh_client import MeshClient
url, wf, out = sys.argv[1], sys.argv[2], sys.argv[3]
with MeshClient(url, "X26ABC2", "password", shared_key=b"TestKey", max_retries=0) as c:
    ids = c.list_messages(workflow_filter=wf)
    assert len(ids) == 1, ids
    m = c.retrieve_message(ids[0])
    data = m.read()
    open(out, "wb").write(data)
    print(json.dumps({"id": ids[0], "subject": m.mex_header("subject"), "local_id": m.mex_header("localid"),
                      "workflow": m.mex_header("workflowid"), "from": m.mex_header("from"),
                      "file_name": m.mex_header("filename")}))
    m.acknowledge()
"#;

const SEND: &str = r#"
import sys
from mesh_client import MeshClient
url, wf, path = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
with MeshClient(url, "X26ABC2", "password", shared_key=b"TestKey", max_chunk_size=1024 * 1024) as c:
    c.handshake()
    print(c.send_message("X26ABC1", data, workflow_id=wf, subject="from python", local_id="py-1",
                         filename="python.dat", compress=True))
"#;

#[tokio::test]
async fn what_rust_sends_python_receives_and_the_reverse() {
    let Some(url) = nhs_test_support::mesh_url() else {
        return;
    };
    let Some(python) = nhs_test_support::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();

    // Rust → Python: 3 gzip chunks.
    let sender = MeshClient::new(config(&url, "X26ABC1").chunk_size(1024 * 1024)).unwrap();
    let wf = unique_workflow("PYIN");
    let data = payload(2 * 1024 * 1024 + 12345, 11);
    let id = sender
        .send(
            &Envelope::new("X26ABC2", &wf)
                .subject("from rust")
                .local_id("rust-1")
                .file_name("rust.dat"),
            &data,
        )
        .await
        .unwrap();
    let out_path = dir.path().join("received.bin");
    let out = Command::new(&python)
        .args(["-c", RECEIVE, &url, &wf, out_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["id"], id.as_str());
    assert_eq!(meta["subject"], "from rust");
    assert_eq!(meta["local_id"], "rust-1");
    assert_eq!(meta["workflow"], wf.as_str());
    assert_eq!(meta["from"], "X26ABC1");
    assert_eq!(meta["file_name"], "rust.dat");
    assert!(
        std::fs::read(&out_path).unwrap() == data,
        "python got other bytes"
    );

    // Python → Rust: python's own chunking and compression.
    let wf = unique_workflow("PYOUT");
    let data = payload(2 * 1024 * 1024 + 777, 12);
    let in_path = dir.path().join("to_send.bin");
    std::fs::write(&in_path, &data).unwrap();
    let out = Command::new(&python)
        .args(["-c", SEND, &url, &wf, in_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py_id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let receiver = client(&url, "X26ABC1");
    let ids = receiver.inbox_all(Some(&wf)).await.unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].as_str(), py_id);
    let Downloaded::Data(m) = receiver.download(&ids[0]).await.unwrap() else {
        panic!()
    };
    assert_eq!(m.metadata.chunk_count(), 3);
    assert!(m.body == data, "rust got other bytes");
    assert_eq!(m.metadata.subject.as_deref(), Some("from python"));
    assert_eq!(m.metadata.local_id.as_deref(), Some("py-1"));
    assert_eq!(m.metadata.file_name.as_deref(), Some("python.dat"));
    receiver.acknowledge(&ids[0]).await.unwrap();
}
