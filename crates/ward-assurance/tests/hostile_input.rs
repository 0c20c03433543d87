#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The parsing entry points (the same ones `fuzz/fuzz_targets/ward_webhook_json.rs` drives)
//! over hostile input: never a panic, always a typed error saying what and where, and whatever
//! parses re-encodes and re-parses equal.

use proptest::prelude::*;
use ward_assurance::*;

/// The fuzz target's invariant.
fn check(data: &[u8]) {
    // No error repeats an NHS number (or any received value the redactor knows how to find).
    if let Err(error) = parse_sync_body(data) {
        assert!(
            !nhs_identifiers::scan::contains_nhs_number(&error.to_string()),
            "{error}"
        );
    }
    if let Ok(request) = parse_sync_body(data) {
        let again = SyncRequest::from_json(request.to_json().as_bytes()).unwrap();
        assert_eq!(again, request);
        assert_eq!(again.to_json(), request.to_json());
    }
    if let Ok(hook) = DashboardWebhook::from_json(data) {
        let again = DashboardWebhook::from_json(hook.to_json().as_bytes()).unwrap();
        assert_eq!(again, hook);
    }
    let _ = TaskFile::from_json(data);
    check_sync_log_query(&String::from_utf8_lossy(data));
}

/// The sync-log query string (`GET /api/assurance/sync-log?ward=&since=&limit=`): a selection
/// within the documented ranges, or a 422 naming the parameter and never repeating a value.
fn check_sync_log_query(raw: &str) {
    match SyncLogQuery::from_query_string(raw) {
        Ok(selection) => assert!((1..=5000).contains(&selection.limit), "{raw}"),
        Err(error) => {
            assert_eq!(error.code(), "INVALID_FIELD", "{raw}: {error}");
            let AssuranceError::InvalidField { field, .. } = &error else {
                unreachable!()
            };
            assert!(
                ["ward", "since", "limit", "query"].contains(&field.as_str()),
                "{raw}: {error}"
            );
            let text = error.to_string();
            assert!(!nhs_identifiers::scan::contains_nhs_number(&text), "{text}");
            assert!(!text.contains("zq"), "{raw}: {text}");
        }
    }
}

#[test]
fn sync_log_queries_are_read_into_their_ranges() {
    let long_ward = format!("ward=zq{}", "W".repeat(200));
    // An undecodable value is refused even under a name that is ignored.
    let error = SyncLogQuery::from_query_string("ward=Byron+Ward&limit=5000&x=%FF").unwrap_err();
    assert_eq!(
        error.to_string(),
        "field `query` is invalid: is not a valid query string"
    );
    let selection = SyncLogQuery::from_query_string(
        "ward=Byron%20Ward&since=2026-01-27T08:00:00Z&limit=5000&other=1",
    )
    .unwrap();
    assert_eq!(selection.ward, Some(Ward::new("Byron Ward").unwrap()));
    assert_eq!(selection.limit, 5000);
    assert_eq!(
        selection.since.unwrap().to_rfc3339(),
        "2026-01-27T08:00:00+00:00"
    );
    assert_eq!(
        SyncLogQuery::from_query_string("ward=&since=").unwrap(),
        SyncLogQuery::default()
    );
    for (raw, field) in [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=5001", "limit"),
        ("limit=1e308", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("limit=9990000018", "limit"),
        ("since=9990000018", "since"),
        ("since=zqSarah%20Johnson", "since"),
        ("ward=zq%00x", "ward"),
        ("ward=%E2%82", "query"),
        ("ward=%zq", "query"),
        ("%FF=1", "query"),
        (&long_ward, "ward"),
    ] {
        check_sync_log_query(raw);
        let error = SyncLogQuery::from_query_string(raw).unwrap_err();
        let AssuranceError::InvalidField { field: got, .. } = &error else {
            panic!("{raw}: {error}")
        };
        assert_eq!(got, field, "{raw}");
        assert!(!error.to_string().contains("999"), "{error}");
    }
    assert!(SyncLogQuery::from_query_string(&"a=1&".repeat(40)).is_err());
    assert!(SyncLogQuery::from_query_string(&"a".repeat(5000)).is_err());
}

const GOOD: &str = r#"{"eventType":"AUDIT_COMPLETED","audit":{"id":"AUD-1","type":"Fridge Temperature","ward":"Ward 7","completedBy":{"name":"Alex Example","email":"alex.example@nhs.test","staffId":"S1"},"completedAt":"2026-06-15T00:30:00+01:00","values":{"t":4.2,"n":[1,2,{"x":null}],"big":18446744073709551615,"neg":-9223372036854775808,"f":1.0000000000000002e-300},"notes":"ok","dashboardUrl":"https://assurance.example.nhs.test/a/1"}}"#;

#[test]
fn hostile_inputs_give_typed_errors() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_values = GOOD.replace(
        r#""t":4.2"#,
        &format!(r#""t":{}1{}"#, "[".repeat(5000), "]".repeat(5000)),
    );
    let long_ward = GOOD.replace("Ward 7", &"W".repeat(1_000_000));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "MALFORMED_JSON"),
        (b"null".to_vec(), "MALFORMED_JSON"),
        (b"\xff\xfe{}".to_vec(), "MALFORMED_JSON"),
        (b"\xef\xbb\xbf{}".to_vec(), "MALFORMED_JSON"),
        (deep.into_bytes(), "MALFORMED_JSON"),
        (deep_values.into_bytes(), "MALFORMED_JSON"),
        (
            GOOD.replace("Ward 7", "Ward\\u00007").into_bytes(),
            "INVALID_FIELD",
        ),
        (
            GOOD.replace("Ward 7", "\\ud800").into_bytes(),
            "MALFORMED_JSON",
        ),
        (long_ward.into_bytes(), "INVALID_FIELD"),
        (
            GOOD.replace("\"AUD-1\"", "null").into_bytes(),
            "INVALID_FIELD",
        ),
        (
            GOOD.replace("\"AUD-1\"", "1").into_bytes(),
            "MALFORMED_JSON",
        ),
        (GOOD.replace("4.2", "1e400").into_bytes(), "MALFORMED_JSON"),
        (
            GOOD.replace("\"Ward 7\"", "9990000018").into_bytes(),
            "MALFORMED_JSON",
        ),
        (
            GOOD.replace("\"ward\"", "\"type\"").into_bytes(),
            "MALFORMED_JSON",
        ),
        (
            GOOD.replace("Fridge Temperature", "").into_bytes(),
            "UNKNOWN_AUDIT_TYPE",
        ),
        (GOOD.replace("+01:00", "").into_bytes(), "INVALID_FIELD"),
        (
            GOOD.replace("2026-06-15", "2026-02-30").into_bytes(),
            "INVALID_FIELD",
        ),
        (
            GOOD.replace("https://", "javascript:").into_bytes(),
            "INVALID_FIELD",
        ),
        (
            GOOD.replace(r#"{"t":4.2"#, r#"[{"t":4.2"#)
                .replace(r#""f":1.0000000000000002e-300}"#, r#""f":1}]"#)
                .into_bytes(),
            "INVALID_FIELD",
        ),
        (GOOD.as_bytes()[..GOOD.len() / 2].to_vec(), "MALFORMED_JSON"),
        (
            GOOD.replace("AUDIT_COMPLETED", "AUDIT_DELETED")
                .into_bytes(),
            "UNSUPPORTED_EVENT",
        ),
    ];
    for (i, (body, code)) in cases.iter().enumerate() {
        check(body);
        let err = parse_sync_body(body).unwrap_err();
        assert_eq!(err.code(), *code, "case {i}: {err}");
        assert!(
            err.to_string().len() < 600,
            "case {i}: error text is bounded"
        );
    }
    check(GOOD.as_bytes());
    assert!(parse_sync_body(GOOD.as_bytes()).is_ok());
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, kind, byte) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = at % bytes.len();
        match kind % 3 {
            0 => bytes[at] = byte,
            1 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, byte),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&data);
    }

    /// The sync-log query entry point over structured hostile query strings.
    #[test]
    fn hostile_sync_log_queries(pairs in prop::collection::vec((
        prop::sample::select(vec!["ward", "since", "limit", "zqother", "%FF"]),
        prop_oneof![
            Just("0".to_owned()),
            Just("-1".to_owned()),
            Just("1e308".to_owned()),
            Just("18446744073709551616".to_owned()),
            Just("9990000018".to_owned()),
            Just("%FF%FE".to_owned()),
            Just("%4".to_owned()),
            Just("2026-01-27".to_owned()),
            Just("2026-02-30".to_owned()),
            (0usize..10_000).prop_map(|n| n.to_string()),
            "[a-zA-Z +%0-9]{0,120}".prop_map(|text| format!("zq{text}")),
        ],
    ), 0..6)) {
        let raw: Vec<String> = pairs.iter().map(|(name, value)| format!("{name}={value}")).collect();
        check_sync_log_query(&raw.join("&"));
    }

    #[test]
    fn mutated_webhooks_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>(), prop::sample::select(b"{}[]\":,\\0123456789aeE.-+ tfn\x00\xff".to_vec())), 1..6)) {
        check(&mutate(GOOD.as_bytes().to_vec(), &edits));
    }
}
