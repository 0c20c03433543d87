//! Hostile input: the simulator answers every complete line with a response (an error for
//! garbage), never panics, closes only on oversized input, and loses nothing it accepted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Answer, Conn, nhs, request};
use proptest::prelude::*;
use systmone_api::record::{Event, Narrative};
use systmone_api::{ClientIntegrationResponse, get_functions, update_patient_record};
use systmone_sim::{GatewayConfig, Organisation, Simulator, ThrottleConfig};

fn relaxed(org: &Organisation) -> Simulator {
    Simulator::new(
        org.clone(),
        GatewayConfig::default()
            .with_throttle(ThrottleConfig::relaxed())
            .with_max_request_bytes(64 * 1024),
    )
    .unwrap()
}

#[tokio::test]
async fn hostile_documents_get_permanent_errors() {
    let org = Organisation::builtin_default();
    let sim = relaxed(&org);
    let mut conn = Conn::new(sim.connect_in_memory().unwrap());
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    let bomb = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]><ClientIntegrationRequest><APIKey>&b;</APIKey></ClientIntegrationRequest>";
    let cases: Vec<Vec<u8>> = vec![
        b"not xml at all".to_vec(),
        b"<ClientIntegrationRequest>".to_vec(),
        b"<ClientIntegrationRequest></ClientIntegrationRequest>".to_vec(),
        vec![0xff, 0xfe, 0x00, b'<'],
        deep.into_bytes(),
        bomb.as_bytes().to_vec(),
        b"<ClientIntegrationRequest><APIKey>k</APIKey><Function>UpdatePatientRecord</Function><FunctionParameters><Identity><NhsNumber>123</NhsNumber></Identity></FunctionParameters></ClientIntegrationRequest>".to_vec(),
        b"<ClientIntegrationRequest><APIKey>k</APIKey><Function>GetFunctions</Function><FunctionVersion>9.9</FunctionVersion></ClientIntegrationRequest>".to_vec(),
    ];
    for case in cases {
        let mut line = case.clone();
        line.push(b'\n');
        let answer = conn.raw(&line).await.line();
        let response = ClientIntegrationResponse::decode(answer.as_bytes()).unwrap();
        let error = response.into_result().unwrap_err();
        assert!(!error.is_retryable(), "{error}");
        // Error text never repeats the offending input wholesale.
        assert!(answer.len() < 2_000, "{}", answer.len());
    }
    assert!(sim.request_log().iter().all(|r| r.answered()));
}

#[tokio::test]
async fn oversized_requests_close_the_connection_and_lose_nothing_accepted() {
    let org = Organisation::builtin_default();
    let sim = relaxed(&org);
    let mut conn = Conn::new(sim.connect_in_memory().unwrap());
    let patient = nhs("9990001014");
    conn.call(&request(
        "d",
        "1",
        update_patient_record::v1::Request::new(patient).with_event(
            Event::new(vec![Narrative::new(["Accepted before the flood."]).into()])
                .with_user_name("jbloggs1234"),
        ),
    ))
    .await
    .into_result()
    .unwrap();
    let flood = vec![b'x'; 200 * 1024];
    let _ = conn.try_send_raw(&flood).await;
    assert!(matches!(conn.read_answer().await, Answer::Closed));
    assert_eq!(org.journal(&patient).len(), 1);
    // The gateway itself is fine.
    let mut fresh = Conn::new(sim.connect_in_memory().unwrap());
    fresh
        .call(&request("d", "2", get_functions::v1::Request::new()))
        .await
        .into_result()
        .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any sequence of non-blank lines gets exactly one well-formed response per line.
    #[test]
    fn every_line_gets_one_response(lines in proptest::collection::vec(
        proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 1..200),
        1..6,
    )) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let org = Organisation::builtin_default();
            let sim = relaxed(&org);
            let mut conn = Conn::new(sim.connect_in_memory().unwrap());
            conn.wait = Duration::from_secs(2);
            let mut expected = 0;
            for line in &lines {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                expected += 1;
                let mut bytes = line.clone();
                bytes.push(b'\n');
                let answer = conn.raw(&bytes).await.line();
                prop_assert!(ClientIntegrationResponse::decode(answer.as_bytes()).is_ok());
            }
            prop_assert_eq!(sim.request_log().len(), expected);
            Ok(())
        })?;
    }
}
