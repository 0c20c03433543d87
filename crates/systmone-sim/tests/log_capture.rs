#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Log capture: whatever a client sends (NHS numbers, names, free text, in valid places or
//! not), no simulator log line and no error response repeats it. Alone in its own test binary
//! because it installs the global tracing subscriber.

mod common;

use std::time::Duration;

use common::Conn;
use nhs_identifiers::NhsNumber;
use systmone_sim::{GatewayConfig, Organisation, Simulator, ThrottleConfig};

#[tokio::test]
async fn no_identifier_name_or_received_text_in_logs_or_error_responses() {
    let capture = nhs_test_support::logs::LogCapture::global("trace");

    let org = Organisation::builtin_default();
    let sim = Simulator::new(
        org,
        GatewayConfig::for_user("gateway0001")
            .with_throttle(ThrottleConfig::relaxed())
            .with_max_request_bytes(4096),
    )
    .unwrap();
    let number = NhsNumber::fictitious(7).expose().to_owned();
    let name = "Zebedee Quartermaine";
    let text = "fell down the stairs at home";
    // The response header echoes DeviceID, RequestUID and Function by protocol; the rest
    // carries the caller's values.
    let envelope = |function: &str, body: &str| {
        format!(
            "<ClientIntegrationRequest><APIKey>{}</APIKey><DeviceID>dev</DeviceID><DeviceVersion>{text}</DeviceVersion><RequestUID>1</RequestUID><Function>{function}</Function><FunctionVersion>1.0</FunctionVersion>{body}</ClientIntegrationRequest>\n",
            common::API_KEY
        )
    };
    let lines = [
        format!("{number} {name} {text}\n"),
        format!("<{name}>{number}</{name}>\n"),
        format!(
            "<ClientIntegrationRequest><Function>{number}</Function></ClientIntegrationRequest>\n"
        ),
        envelope(&format!("{name}{number}"), "").replace(common::API_KEY, &number),
        envelope("GetFunctions", "").replace(
            "<FunctionVersion>1.0",
            &format!("<FunctionVersion>{number}"),
        ),
        envelope("GetFunctions", &format!("<Other>{text}{number}</Other>")),
        envelope(
            "PatientSearch",
            &format!(
                "<FunctionParameters><NHSNumber>{number}X</NHSNumber><Surname>{name}</Surname><DateOfBirth>{text}</DateOfBirth><Sex>{text}</Sex></FunctionParameters>"
            ),
        ),
        envelope(
            "PatientSearch",
            &format!(
                "<FunctionParameters><NHSNumber>{}</NHSNumber><Surname>{name}</Surname></FunctionParameters>",
                NhsNumber::fictitious(99_999).expose()
            ),
        ),
        envelope(
            "GetPatientRecord",
            &format!(
                "<FunctionParameters><Identity>{number}{number}</Identity><Filter>{text}</Filter></FunctionParameters>"
            ),
        ),
        envelope(
            "GetPatientRecord",
            &format!(
                "<FunctionParameters><Identity>{}</Identity></FunctionParameters>",
                NhsNumber::fictitious(99_998).expose()
            ),
        ),
        envelope(
            "UpdatePatientRecord",
            &format!(
                "<FunctionParameters><Identity>{number}</Identity><Events><Event><Date>{text}</Date><Narrative>{text} {name}</Narrative></Event></Events></FunctionParameters>"
            ),
        ),
    ];
    let mut responses = String::new();
    let mut conn = Conn::new(sim.connect_in_memory().unwrap());
    conn.wait = Duration::from_secs(2);
    for line in &lines {
        let answer = conn.raw(line.as_bytes()).await.line();
        // What a client reads as the error: the ErrorMessage text.
        let message = answer
            .split_once("<ErrorMessage>")
            .and_then(|(_, rest)| rest.split_once("</ErrorMessage>"))
            .map_or("", |(message, _)| message);
        responses.push_str(message);
        responses.push('\n');
    }
    // Too long: the connection is closed and the reason logged.
    let oversized = format!("<a>{}</a>\n", format!("{number} {name} ").repeat(400));
    let mut closing = Conn::new(sim.connect_in_memory().unwrap());
    closing.wait = Duration::from_secs(2);
    let _ = closing.try_send_raw(oversized.as_bytes()).await;
    let _ = closing.read_answer().await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let logs = capture.text();
    assert!(logs.contains("closing connection"), "{logs}");
    for (what, text_seen) in [("logs", &logs), ("error responses", &responses)] {
        assert!(
            !nhs_identifiers::scan::contains_nhs_number(text_seen),
            "an NHS number in the {what}: {text_seen}"
        );
        for forbidden in [number.as_str(), "Zebedee", "Quartermaine", "stairs"] {
            assert!(
                !text_seen.contains(forbidden),
                "{forbidden:?} in the {what}: {text_seen}"
            );
        }
    }
}
