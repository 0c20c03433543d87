#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bad input: truncated, malformed, non-UTF-8, oversized, DOCTYPE and entity tricks, wrong
//! root, error responses. Each gives a typed error and none panics. `check_invariants` is the
//! body of the `systmone_decode` fuzz target, run here over hostile inputs so CI exercises it.

use proptest::prelude::*;
use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, EncodeOptions, Error, Framer, MAX_DEPTH,
    update_patient_record,
};

use crate::common::{fixture, header, patient};

/// What the fuzz target asserts: decoding never panics, and whatever decodes re-encodes (when
/// its text is representable) and decodes to the same value.
pub fn check_invariants(data: &[u8]) {
    if let Ok(response) = ClientIntegrationResponse::decode(data)
        && let Ok(bytes) = response.encode(&EncodeOptions::server())
    {
        let again = ClientIntegrationResponse::decode(&bytes).unwrap();
        assert_eq!(again, response);
    }
    if let Ok(request) = ClientIntegrationRequest::decode(data)
        && let Ok(bytes) = request.encode(&EncodeOptions::default())
    {
        let again = ClientIntegrationRequest::decode(&bytes).unwrap();
        assert_eq!(again, request);
    }
    let _ = ClientIntegrationRequest::decode_header(data);
}

/// What the `systmone_framer` fuzz target asserts: the framer never panics, never yields a
/// message longer than its limit, and every byte is accounted for.
pub fn check_framer(data: &[u8]) {
    let mut framer = Framer::new(4096);
    for chunk in data.chunks(7) {
        framer.push(chunk);
        loop {
            match framer.next_message() {
                Ok(Some(message)) => {
                    assert!(message.len() <= 4096);
                    check_invariants(&message);
                }
                Ok(None) => break,
                Err(_) => break,
            }
        }
    }
}

fn response(body: &str) -> String {
    format!(
        "<ClientIntegrationResponse><DeviceID>7c41d09e2b8a5f13</DeviceID><RequestUID>1</RequestUID><Function>GetPatientRecord</Function><FunctionVersion>1.0</FunctionVersion><ResponseUID>A</ResponseUID><Response>{body}</Response></ClientIntegrationResponse>"
    )
}

fn decode(text: &str) -> Result<ClientIntegrationResponse, Error> {
    check_invariants(text.as_bytes());
    ClientIntegrationResponse::decode(text.as_bytes())
}

#[test]
fn every_truncation_of_every_fixture_is_a_typed_error() {
    for name in [
        "GetPatientRecord",
        "PatientSearch",
        "GetOrganisationMetaData",
    ] {
        let bytes = fixture(&format!("responses/{name}.xml"));
        let close = bytes
            .windows(b"</ClientIntegrationResponse>".len())
            .position(|w| w == b"</ClientIntegrationResponse>")
            .unwrap();
        for end in 0..close {
            let result = ClientIntegrationResponse::decode(&bytes[..end]);
            assert!(
                matches!(
                    result,
                    Err(Error::Truncated | Error::Malformed { .. } | Error::NotUtf8 { .. })
                ),
                "{name} cut at {end}: {result:?}"
            );
        }
    }
}

#[test]
fn malformed_xml_is_a_typed_error() {
    for text in [
        "<ClientIntegrationResponse><DeviceID></ClientIntegrationResponse>",
        "<ClientIntegrationResponse><a x=1/></ClientIntegrationResponse>",
        "<ClientIntegrationResponse><<a/></ClientIntegrationResponse>",
        "<ClientIntegrationResponse>&amp</ClientIntegrationResponse>",
        "<ClientIntegrationResponse a=\"1\" a=\"2\"/>",
        "<ClientIntegrationResponse><Event A=\"1\" B=\"2\" A=\"3\"/></ClientIntegrationResponse>",
        "<ClientIntegrationResponse/><ClientIntegrationResponse/>",
        "text<ClientIntegrationResponse/>",
        "</ClientIntegrationResponse>",
        "",
        "   ",
    ] {
        let result = decode(text);
        assert!(
            matches!(result, Err(Error::Malformed { .. } | Error::Truncated)),
            "{text:?}: {result:?}"
        );
    }
}

#[test]
fn non_utf8_is_rejected_with_its_offset() {
    let mut bytes = response("<RecordState>Closed</RecordState>").into_bytes();
    let at = bytes.len() - 40;
    bytes[at] = 0xff;
    check_invariants(&bytes);
    assert_eq!(
        ClientIntegrationResponse::decode(&bytes),
        Err(Error::NotUtf8 { valid_up_to: at })
    );
    // UTF-16 is not accepted either (the declared encoding is not trusted).
    let utf16: Vec<u8> = "<ClientIntegrationResponse/>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert!(ClientIntegrationResponse::decode(&utf16).is_err());
}

#[test]
fn doctype_and_entities_are_refused() {
    let billion_laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><ClientIntegrationResponse>&lol2;</ClientIntegrationResponse>"#;
    assert!(matches!(
        decode(billion_laughs),
        Err(Error::DoctypeNotAllowed { .. })
    ));
    let xxe = r#"<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><ClientIntegrationResponse>&xxe;</ClientIntegrationResponse>"#;
    assert!(matches!(decode(xxe), Err(Error::DoctypeNotAllowed { .. })));
    let external_dtd =
        r#"<!DOCTYPE r SYSTEM "http://127.0.0.1/evil.dtd"><ClientIntegrationResponse/>"#;
    assert!(matches!(
        decode(external_dtd),
        Err(Error::DoctypeNotAllowed { .. })
    ));
    // An undeclared entity, and a character reference to NUL.
    assert!(matches!(
        decode(&response("<RecordState>&xxe;</RecordState>")),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        decode(&response("<RecordState>&#0;</RecordState>")),
        Err(Error::Malformed { .. })
    ));
    // The five predefined entities and character references are fine.
    let ok = decode(&response(
        "<Clinical><Event DoneAt=\"a&amp;b&#10;c\"><Narrative><Line>&lt;&gt;&amp;&quot;&apos;&#x41;</Line></Narrative></Event></Clinical>",
    ))
    .unwrap();
    let record = ok
        .into_typed::<systmone_api::get_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(record.events[0].done_at.as_deref(), Some("a&b\nc"));
    assert_eq!(record.events[0].narrative_lines().next(), Some("<>&\"'A"));
}

#[test]
fn deep_nesting_is_capped() {
    let deep = format!(
        "<ClientIntegrationResponse>{}{}</ClientIntegrationResponse>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    assert_eq!(decode(&deep), Err(Error::TooDeep { limit: MAX_DEPTH }));
}

#[test]
fn wrong_root_unknown_function_and_version() {
    assert!(matches!(
        decode("<Foo/>"),
        Err(Error::WrongRoot {
            expected: "ClientIntegrationResponse",
            ..
        })
    ));
    let request =
        ClientIntegrationRequest::new(header(), systmone_api::get_functions::v1::Request::new())
            .encode(&EncodeOptions::default())
            .unwrap();
    assert!(matches!(
        ClientIntegrationResponse::decode(&request),
        Err(Error::WrongRoot { .. })
    ));
    let text = response("").replace("GetPatientRecord", "GetOrganisationMetadata");
    assert!(matches!(decode(&text), Err(Error::UnknownFunction { .. })));
    let text = response("").replace("<FunctionVersion>1.0", "<FunctionVersion>2.0");
    assert!(matches!(
        decode(&text),
        Err(Error::UnsupportedVersion { .. })
    ));
    let no_function = "<ClientIntegrationResponse><Response/></ClientIntegrationResponse>";
    assert!(matches!(
        decode(no_function),
        Err(Error::MissingElement {
            element: "Function",
            ..
        })
    ));
    // A server reading a request for an unknown function can still echo its header.
    let unknown = String::from_utf8(request)
        .unwrap()
        .replace("GetFunctions", "NoSuchFunction");
    assert!(matches!(
        ClientIntegrationRequest::decode(unknown.as_bytes()),
        Err(Error::UnknownFunction { .. })
    ));
    let header = ClientIntegrationRequest::decode_header(unknown.as_bytes()).unwrap();
    assert_eq!(header.header.request_uid.as_str(), "1");
}

#[test]
fn error_responses_say_whether_to_retry() {
    let permanent = decode(&response(
        "<ErrorMessage>No patient record is open</ErrorMessage><PermanentError>true</PermanentError>",
    ))
    .unwrap();
    assert!(!permanent.into_result().unwrap_err().is_retryable());
    let temporary = decode(&response(
        "<ErrorMessage>The record is in use</ErrorMessage><PermanentError>false</PermanentError>",
    ))
    .unwrap();
    assert!(temporary.clone().into_result().unwrap_err().is_retryable());
    assert!(temporary.outcome.unwrap_err().is_retryable());
    let unsaid = decode(&response("<ErrorMessage>Blocked</ErrorMessage>")).unwrap();
    assert!(!unsaid.into_result().unwrap_err().is_retryable());
    assert!(matches!(
        decode(&response(
            "<ErrorMessage>x</ErrorMessage><PermanentError>maybe</PermanentError>"
        )),
        Err(Error::InvalidValue { .. })
    ));
    // Errors for unknown functions are still readable.
    let text = response(
        "<ErrorMessage>Unknown function</ErrorMessage><PermanentError>true</PermanentError>",
    )
    .replace("GetPatientRecord", "NoSuchFunction");
    assert!(decode(&text).unwrap().into_result().is_err());
}

#[test]
fn invalid_values_name_the_element_not_the_value() {
    let bad_nhs = decode(&response(
        "<Identity><NHSNumber>9990001112</NHSNumber></Identity>",
    ))
    .unwrap_err();
    assert!(matches!(&bad_nhs, Error::InvalidValue { element, .. } if element == "NHSNumber"));
    assert!(!bad_nhs.to_string().contains("9990001112"));
    let bad_date = decode(&response(
        "<Demographics><DateOfBirth>1970-13-45</DateOfBirth></Demographics>",
    ))
    .unwrap_err();
    assert!(matches!(&bad_date, Error::InvalidValue { element, .. } if element == "DateOfBirth"));
    assert!(!bad_date.to_string().contains("1970"));
    let bad_time = decode(&response(
        "<Clinical><Event DateTime=\"yesterday\"/></Clinical>",
    ))
    .unwrap_err();
    assert!(
        matches!(&bad_time, Error::InvalidValue { element, .. } if element == "Event@DateTime")
    );
    let bad_minutes = decode(&response(
        "<NonClinical><Visit><Duration>10.5</Duration></Visit></NonClinical>",
    ))
    .unwrap_err();
    assert!(matches!(bad_minutes, Error::InvalidValue { .. }));
}

#[test]
fn unknown_elements_and_attributes_are_ignored() {
    let text = response(
        "<Future a=\"1\"><Nested/></Future><Identity x=\"y\"><NHSNumber>9990001111</NHSNumber><Extra/></Identity><!-- comment --><?pi data?><RecordState>Open</RecordState>",
    );
    let record = decode(&text)
        .unwrap()
        .into_typed::<systmone_api::get_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(record.identity.unwrap().nhs_number(), Some(&patient()));
    assert_eq!(record.record_state, Some(systmone_api::RecordState::Open));
}

#[test]
fn unencodable_text_is_refused_before_sending() {
    let request = update_patient_record::v1::Request::new(patient()).with_event(
        systmone_api::record::Event::new(vec![
            systmone_api::record::Narrative::new(["bell \u{7}"]).into(),
        ]),
    );
    let result = ClientIntegrationRequest::new(header(), request).encode(&EncodeOptions::default());
    assert_eq!(
        result,
        Err(Error::UnencodableText {
            element: "Line".into()
        })
    );
}

#[test]
fn framer_refuses_oversized_and_garbage_and_recovers() {
    let mut framer = Framer::new(64);
    framer.push(b"<a/>\n<b>");
    framer.push(&[b'x'; 100]);
    assert_eq!(framer.next_message().unwrap(), Some(b"<a/>".to_vec()));
    assert_eq!(
        framer.next_message(),
        Err(Error::MessageTooLarge { limit: 64 })
    );
    framer.push(b"</b>\n");
    // After the error the framer was reset; the rest of the broken message is garbage.
    assert!(framer.next_message().is_err());
    framer.push(b"<c/>\n");
    assert_eq!(framer.next_message().unwrap(), Some(b"<c/>".to_vec()));
    let mut framer = Framer::default();
    framer.push(b"</x>\n");
    assert!(matches!(
        framer.next_message(),
        Err(Error::Malformed { .. })
    ));
}

#[test]
fn hostile_corpus_through_the_fuzz_bodies() {
    let mut corpus: Vec<Vec<u8>> = vec![
        b"<ClientIntegrationResponse>".to_vec(),
        b"<!DOCTYPE x [<!ENTITY a \"b\">]>".to_vec(),
        b"<![CDATA[".to_vec(),
        b"<!--".to_vec(),
        b"<?xml".to_vec(),
        vec![0xff, 0xfe, b'<'],
        b"<ClientIntegrationRequest><APIKey>k</APIKey><Function>UpdatePatientRecord</Function><FunctionParameters><Identity><NhsNumber>9990001111</NhsNumber></Identity><Clinical><Event><Unknown a=\"&#9;\">x<y/>z</Unknown></Event></Clinical></FunctionParameters></ClientIntegrationRequest>".to_vec(),
    ];
    for entry in std::fs::read_dir(crate::common::fixture_path("responses")).unwrap() {
        corpus.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    for input in &corpus {
        check_invariants(input);
        check_framer(input);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let name = ["GetPatientRecord", "UpdatePatientRecord", "GetDiary"][which];
        let mut bytes = fixture(&format!("responses/{name}.xml"));
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        check_invariants(&bytes);
        check_framer(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_invariants(&bytes);
        check_framer(&bytes);
    }
}
