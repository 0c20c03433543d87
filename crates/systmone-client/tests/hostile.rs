#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hostile or broken answers from the far end: each gives a typed error saying what happened,
//! never a panic, and never a hang; the next request gets a fresh connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, DeviceId, EncodeOptions, FunctionName,
    ReceivedRequestHeader, ResponseHeader, ResponseUid, get_functions, patient_search,
};
use systmone_client::{
    ApiKey, BoxStream, Client, ClientConfig, ClientError, FailureCause, FnConnector, Request,
    Retry, Timeouts,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the scripted server does with one request.
#[derive(Clone)]
enum Answer {
    /// Send these bytes.
    Bytes(Vec<u8>),
    /// Send these bytes, then close.
    BytesThenClose(Vec<u8>),
    /// A proper answer for the request.
    Proper,
    /// A proper answer, then (unprompted) these bytes in the same write.
    ProperThen(Vec<u8>),
    /// A proper answer, then (unprompted, 100 ms later) these bytes.
    ProperLater(Vec<u8>),
}

fn proper(header: &ReceivedRequestHeader) -> Vec<u8> {
    let response_header = ResponseHeader::for_request(
        header,
        DeviceId::new("7c41d09e2b8a5f13"),
        ResponseUid::new("6F175F30-B338-11E3-9804-010000005129"),
    );
    let body: systmone_api::Response = match header.function {
        FunctionName::PatientSearch => patient_search::v1::Response::default().into(),
        _ => get_functions::v1::Response::default().into(),
    };
    ClientIntegrationResponse::success(response_header, body)
        .encode(&EncodeOptions::server())
        .unwrap()
}

/// A client whose server answers the n-th request with `script[n]` (then `Proper`).
fn scripted(script: Vec<Answer>, config: ClientConfig) -> (Client, Arc<Mutex<usize>>) {
    let script = Arc::new(Mutex::new(script.into_iter()));
    let connections = Arc::new(Mutex::new(0usize));
    let counter = Arc::clone(&connections);
    let connector = FnConnector::new(move || {
        let script = Arc::clone(&script);
        *counter.lock().unwrap() += 1;
        Box::pin(async move {
            let (client, mut server) = tokio::io::duplex(1 << 16);
            tokio::spawn(async move {
                let mut framer = systmone_api::Framer::default();
                let mut buf = vec![0u8; 4096];
                loop {
                    let read = match server.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => read,
                    };
                    framer.push(&buf[..read]);
                    while let Ok(Some(message)) = framer.next_message() {
                        let header = ClientIntegrationRequest::decode_header(&message).unwrap();
                        let answer = script.lock().unwrap().next().unwrap_or(Answer::Proper);
                        let (bytes, close) = match answer.clone() {
                            Answer::Bytes(bytes) => (bytes, false),
                            Answer::BytesThenClose(bytes) => (bytes, true),
                            Answer::Proper => (proper(&header), false),
                            Answer::ProperLater(_) => (Vec::new(), false),
                            Answer::ProperThen(extra) => {
                                let mut bytes = proper(&header);
                                bytes.extend_from_slice(&extra);
                                (bytes, false)
                            }
                        };
                        if let Answer::ProperLater(extra) = &answer {
                            let _ = server.write_all(&proper(&header)).await;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            if server.write_all(extra).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        if server.write_all(&bytes).await.is_err() || close {
                            return;
                        }
                    }
                }
            });
            Ok(Box::new(client) as BoxStream)
        })
    });
    let client = Client::builder("gw-x", ApiKey::new("0a1b2c3d4e5f6071"))
        .in_memory_device_id()
        .connector(Arc::new(connector))
        .config(config)
        .spawn()
        .unwrap();
    (client, connections)
}

fn config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.timeouts = Timeouts::uniform(Duration::from_secs(5));
    config.first_contact_timeout = Duration::from_secs(5);
    config.max_response_bytes = 4096;
    config
}

fn read() -> Request {
    get_functions::v1::Request::new().into()
}

fn search() -> Request {
    patient_search::v1::Request::by_surname_and_birth_date(
        "Example",
        chrono::NaiveDate::from_ymd_opt(1970, 5, 14).unwrap(),
    )
    .into()
}

async fn expect_malformed(answer: Answer) -> String {
    let (client, connections) = scripted(vec![Answer::Proper, answer], config());
    client.call(read()).await.unwrap();
    let error = client.call(read()).await.unwrap_err();
    let ClientError::ReadFailed { cause, .. } = &error else {
        panic!("{error}")
    };
    assert_eq!(error.retry(), Retry::Safe);
    client.call(read()).await.unwrap();
    assert_eq!(
        *connections.lock().unwrap(),
        2,
        "the broken connection was replaced"
    );
    match cause {
        FailureCause::Malformed { detail } => detail.clone(),
        other => panic!("{other}"),
    }
}

#[tokio::test(start_paused = true)]
async fn garbage_line() {
    expect_malformed(Answer::Bytes(b"<not really>\n</xml>\n".to_vec())).await;
}

#[tokio::test(start_paused = true)]
async fn wrong_root() {
    let detail = expect_malformed(Answer::Bytes(
        b"<ClientIntegrationRequest><Function>GetFunctions</Function></ClientIntegrationRequest>\n"
            .to_vec(),
    ))
    .await;
    assert!(detail.contains("root"), "{detail}");
}

#[tokio::test(start_paused = true)]
async fn non_utf8() {
    expect_malformed(Answer::Bytes(
        b"<ClientIntegrationResponse><Function>\xff\xfe</Function></ClientIntegrationResponse>\n"
            .to_vec(),
    ))
    .await;
}

#[tokio::test(start_paused = true)]
async fn doctype_with_entities() {
    let hostile = b"<!DOCTYPE r [<!ENTITY x \"xx\">]><ClientIntegrationResponse><RequestUID>&x;</RequestUID></ClientIntegrationResponse>\n";
    expect_malformed(Answer::Bytes(hostile.to_vec())).await;
}

#[tokio::test(start_paused = true)]
async fn oversized() {
    let mut huge = b"<ClientIntegrationResponse><Response>".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 10_000));
    huge.extend_from_slice(b"</Response></ClientIntegrationResponse>\n");
    let detail = expect_malformed(Answer::Bytes(huge)).await;
    assert!(detail.contains("4096"), "{detail}");
}

#[tokio::test(start_paused = true)]
async fn request_uid_not_echoed() {
    let stale = b"<ClientIntegrationResponse><DeviceID>7c41d09e2b8a5f13</DeviceID><RequestUID>someone-else</RequestUID><Function>GetFunctions</Function><FunctionVersion>1.0</FunctionVersion><ResponseUID>X</ResponseUID><Response/></ClientIntegrationResponse>\n";
    let detail = expect_malformed(Answer::Bytes(stale.to_vec())).await;
    assert!(detail.contains("RequestUID"), "{detail}");
}

#[tokio::test(start_paused = true)]
async fn another_functions_response() {
    // The server answers the second request (GetFunctions, uid nhsi-2) with a PatientSearch
    // response carrying the right uid.
    let wrong = b"<ClientIntegrationResponse><DeviceID>7c41d09e2b8a5f13</DeviceID><RequestUID>nhsi-2</RequestUID><Function>PatientSearch</Function><FunctionVersion>1.0</FunctionVersion><ResponseUID>X</ResponseUID><Response/></ClientIntegrationResponse>\n";
    let detail = expect_malformed(Answer::Bytes(wrong.to_vec())).await;
    assert!(
        detail.contains("PatientSearch response answered a GetFunctions request"),
        "{detail}"
    );
}

#[tokio::test(start_paused = true)]
async fn truncated_then_closed() {
    let (client, _) = scripted(
        vec![
            Answer::Proper,
            Answer::BytesThenClose(b"<ClientIntegrationResponse><DeviceID>7c4".to_vec()),
        ],
        config(),
    );
    client.call(read()).await.unwrap();
    let error = client.call(search()).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::ReadFailed {
                cause: FailureCause::ConnectionLost { .. },
                ..
            }
        ),
        "{error}"
    );
    client.call(search()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn silence_times_out() {
    let (client, _) = scripted(vec![Answer::Bytes(Vec::new())], config());
    let error = client.call(read()).await.unwrap_err();
    assert!(
        matches!(error, ClientError::ReadFailed { cause: FailureCause::NoResponse { waited }, .. } if waited == Duration::from_secs(5)),
        "{error}"
    );
}

const LATE: &[u8] =
    b"<ClientIntegrationResponse><RequestUID>late</RequestUID></ClientIntegrationResponse>\n";

#[tokio::test(start_paused = true)]
async fn unsolicited_bytes_after_an_answer_are_not_taken_for_the_next_answer() {
    let (client, connections) = scripted(vec![Answer::ProperThen(LATE.to_vec())], config());
    client.call(read()).await.unwrap();
    client.call(search()).await.unwrap();
    assert_eq!(
        *connections.lock().unwrap(),
        2,
        "the connection holding stray bytes was replaced"
    );
}

#[tokio::test(start_paused = true)]
async fn unsolicited_bytes_on_an_idle_connection_are_not_taken_for_the_next_answer() {
    let (client, connections) = scripted(vec![Answer::ProperLater(LATE.to_vec())], config());
    client.call(read()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    client.call(search()).await.unwrap();
    assert_eq!(
        *connections.lock().unwrap(),
        2,
        "the connection holding stray bytes was replaced"
    );
}

#[tokio::test(start_paused = true)]
async fn a_write_that_gets_garbage_is_outcome_unknown() {
    let (client, _) = scripted(vec![Answer::Bytes(b"\x00\x01garbage\n".to_vec())], config());
    let note = systmone_api::update_patient_record::v1::Request::new(
        systmone_api::NhsNumber::fictitious(7),
    )
    .with_event(systmone_api::record::Event::new(vec![
        systmone_api::record::Narrative::new(["x"]).into(),
    ]));
    let error = client.call(note).await.unwrap_err();
    assert!(error.is_outcome_unknown(), "{error}");
    assert!(
        !error
            .to_string()
            .contains(&systmone_api::NhsNumber::fictitious(7).expose())
    );
}

/// A stream that never has anything to read. Unless `broken` from the start, its first write
/// takes all but the last `keep` bytes; every later write fails: the connection broke
/// part-way through a request (or, `broken`, before any of it).
struct BreaksMidWrite {
    keep: usize,
    broken: bool,
}

impl tokio::io::AsyncRead for BreaksMidWrite {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Pending
    }
}

impl tokio::io::AsyncWrite for BreaksMidWrite {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.broken {
            return std::task::Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
        }
        self.broken = true;
        std::task::Poll::Ready(Ok(buf.len().saturating_sub(self.keep)))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A client whose every connection is a fresh `BreaksMidWrite { keep, broken }`.
fn breaking_client(keep: usize, broken: bool) -> Client {
    let connector = FnConnector::new(move || {
        Box::pin(async move { Ok(Box::new(BreaksMidWrite { keep, broken }) as BoxStream) })
    });
    Client::builder("gw-x", ApiKey::new("0a1b2c3d4e5f6071"))
        .in_memory_device_id()
        .connector(Arc::new(connector))
        .config(config())
        .spawn()
        .unwrap()
}

fn a_note() -> Request {
    systmone_api::update_patient_record::v1::Request::new(systmone_api::NhsNumber::fictitious(7))
        .with_event(systmone_api::record::Event::new(vec![
            systmone_api::record::Narrative::new(["x"]).into(),
        ]))
        .into()
}

#[tokio::test(start_paused = true)]
async fn a_write_that_could_not_be_written_was_never_sent() {
    let client = breaking_client(0, true);
    let error = client.call(a_note()).await.unwrap_err();
    assert!(matches!(error, ClientError::WriteFailed { .. }), "{error}");
    assert!(error.never_sent() && !error.is_outcome_unknown());
    assert_eq!(client.status().sent, 0);
    assert!(!client.status().healthy);
}

/// The connection breaks with only the terminating newline unwritten: SystmOne may already
/// have read the whole document (its root element is closed), so the write's outcome is
/// unknown and the pool must not resend it elsewhere.
#[tokio::test(start_paused = true)]
async fn a_write_cut_off_before_only_its_newline_is_outcome_unknown() {
    let client = breaking_client(1, false);
    let error = client.call(a_note()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::OutcomeUnknown {
                cause: FailureCause::ConnectionLost { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.retry(), Retry::CheckFirst);
    assert!(!error.never_sent());
    assert_eq!(client.status().sent, 1);
    // A read cut off the same way is safe to repeat.
    let client = breaking_client(1, false);
    let error = client.call(search()).await.unwrap_err();
    assert!(matches!(&error, ClientError::ReadFailed { .. }), "{error}");
    assert_eq!(error.retry(), Retry::Safe);
}

/// The connection breaks inside the closing root tag: no whole document reached SystmOne.
#[tokio::test(start_paused = true)]
async fn a_write_cut_off_inside_its_closing_tag_was_never_sent() {
    let client = breaking_client("quest>\n".len(), false);
    let error = client.call(a_note()).await.unwrap_err();
    assert!(matches!(&error, ClientError::WriteFailed { .. }), "{error}");
    assert!(error.never_sent() && !error.is_outcome_unknown());
    assert_eq!(client.status().sent, 0);
}
