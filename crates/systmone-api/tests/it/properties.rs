#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property tests: codec round-trips, framer splitting, throttle spacing.
//!
//! The strategies for whole records are deep; each property runs on a thread with a large
//! stack so debug builds do not overflow.

use std::time::Duration;

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use systmone_api::clock::{Clock, FakeRelativeClock, Reference};
use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, EncodeOptions, Framer, FunctionName,
    NhsNumberSpelling, Request, Throttle, ThrottleClass, ThrottleConfig, get_patient_record,
};

use crate::strategies::{date, envelope, response_envelope};

/// Runs a property on a thread with a 64 MiB stack.
fn check<S, M, F>(cases: u32, make: M, test: F)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
    M: FnOnce() -> S + Send + 'static,
    F: Fn(S::Value) -> Result<(), TestCaseError> + Send + 'static,
{
    let handle = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let strategy = make();
            let mut runner = TestRunner::new(Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            });
            if let Err(e) = runner.run(&strategy, test) {
                panic!("{e}");
            }
        })
        .unwrap();
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
}

fn spelling() -> impl Strategy<Value = EncodeOptions> {
    (any::<bool>(), any::<bool>()).prop_map(|(upper, decl)| {
        EncodeOptions::default()
            .with_nhs_number_spelling(if upper {
                NhsNumberSpelling::NHSNumber
            } else {
                NhsNumberSpelling::NhsNumber
            })
            .with_xml_declaration(decl)
    })
}

#[test]
fn request_round_trips() {
    check(
        256,
        || (envelope(), spelling()),
        |(request, options)| {
            let bytes = request.encode(&options).unwrap();
            prop_assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
            prop_assert!(!bytes.contains(&b'\r'));
            prop_assert_eq!(bytes.last(), Some(&b'\n'));
            let decoded = ClientIntegrationRequest::decode(&bytes).unwrap();
            prop_assert_eq!(decoded, request);
            Ok(())
        },
    );
}

#[test]
fn response_round_trips() {
    check(
        256,
        || (response_envelope(), spelling()),
        |(response, options)| {
            let bytes = response.encode(&options).unwrap();
            prop_assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
            let decoded = ClientIntegrationResponse::decode(&bytes).unwrap();
            prop_assert_eq!(decoded, response);
            Ok(())
        },
    );
}

fn framed_stream() -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<u8>)> {
    prop::collection::vec((response_envelope(), any::<bool>(), any::<bool>()), 1..5).prop_map(
        |messages| {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for (response, raw_newlines, crlf) in messages {
                let mut bytes = response.encode(&EncodeOptions::server()).unwrap();
                bytes.pop();
                if raw_newlines {
                    // A peer that sends newlines in text raw instead of as &#10;.
                    let text = String::from_utf8(bytes).unwrap().replace("&#10;", "\n");
                    bytes = text.into_bytes();
                }
                stream.extend_from_slice(&bytes);
                stream.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
                expected.push(bytes);
            }
            (expected, stream)
        },
    )
}

#[test]
fn framer_yields_the_same_messages_however_split() {
    let strategy = || {
        (
            framed_stream(),
            prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        )
    };
    check(128, strategy, |((expected, stream), cuts)| {
        let mut positions: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        positions.push(0);
        positions.push(stream.len());
        positions.sort_unstable();
        positions.dedup();
        let mut framer = Framer::default();
        let mut got = Vec::new();
        for pair in positions.windows(2) {
            framer.push(&stream[pair[0]..pair[1]]);
            while let Some(message) = framer.next_message().unwrap() {
                got.push(message);
            }
        }
        prop_assert_eq!(&got, &expected);
        prop_assert!(!framer.has_partial_message());
        for message in got {
            ClientIntegrationResponse::decode(&message).unwrap();
        }
        Ok(())
    });
}

#[test]
fn framer_byte_by_byte() {
    check(64, framed_stream, |(expected, stream)| {
        let mut framer = Framer::default();
        let mut got = Vec::new();
        for byte in &stream {
            framer.push(std::slice::from_ref(byte));
            while let Some(message) = framer.next_message().unwrap() {
                got.push(message);
            }
        }
        prop_assert_eq!(got, expected);
        Ok(())
    });
}

#[derive(Clone, Debug)]
enum Kind {
    Other,
    FullRecord,
    DemographicsOnly,
    Today,
    Yesterday,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Other),
        Just(Kind::FullRecord),
        Just(Kind::DemographicsOnly),
        Just(Kind::Today),
        Just(Kind::Yesterday),
    ]
}

fn request_of(kind: &Kind, today: NaiveDate) -> Request {
    let patient = systmone_api::NhsNumber::fictitious(3);
    match kind {
        Kind::Other => systmone_api::get_functions::v1::Request::new().into(),
        Kind::FullRecord => get_patient_record::v1::Request::new(patient, None).into(),
        Kind::DemographicsOnly => get_patient_record::v1::Request::demographics(patient).into(),
        Kind::Today => get_patient_record::v1::Request::new(
            patient,
            Some(get_patient_record::v1::Filter::default().with_entry_date(today)),
        )
        .into(),
        Kind::Yesterday => get_patient_record::v1::Request::new(
            patient,
            Some(
                get_patient_record::v1::Filter::default()
                    .with_entry_date(today.pred_opt().unwrap()),
            ),
        )
        .into(),
    }
}

/// Under any schedule of attempts on a fake clock, no two admitted sends are closer than 1 s,
/// and no two throttled record reads closer than 30 s; a refused caller is always told a
/// positive wait of at most 30 s; and a caller that waits as told is soon admitted.
#[test]
fn sends_are_spaced() {
    let strategy = || {
        (
            date(),
            prop::collection::vec((kind(), 0u64..40_000, any::<bool>()), 1..60),
        )
    };
    check(256, strategy, |(today, steps)| {
        let clock = FakeRelativeClock::default();
        let throttle = Throttle::new(&ThrottleConfig::default(), clock.clone());
        let start = clock.now();
        let mut sends: Vec<u64> = Vec::new();
        let mut record_sends: Vec<u64> = Vec::new();
        for (kind, advance_ms, obey) in steps {
            clock.advance(Duration::from_millis(advance_ms));
            let request = request_of(&kind, today);
            let class = request.throttle_class(today);
            let limited = matches!(kind, Kind::FullRecord | Kind::Yesterday);
            prop_assert_eq!(
                class == ThrottleClass::Function(FunctionName::GetPatientRecord),
                limited
            );
            let mut attempts = 0;
            loop {
                match throttle.try_acquire(&class) {
                    Ok(()) => {
                        let now = u64::from(clock.now().duration_since(start));
                        sends.push(now);
                        if limited {
                            record_sends.push(now);
                        }
                        break;
                    }
                    Err(wait) => {
                        prop_assert!(wait > Duration::ZERO);
                        prop_assert!(wait <= Duration::from_secs(30));
                        attempts += 1;
                        prop_assert!(attempts < 4, "a caller that waits as told is admitted");
                        if !obey {
                            break;
                        }
                        clock.advance(wait);
                    }
                }
            }
        }
        for pair in sends.windows(2) {
            prop_assert!(
                pair[1] - pair[0] >= 1_000_000_000,
                "sends {:?} closer than 1 s",
                pair
            );
        }
        for pair in record_sends.windows(2) {
            prop_assert!(
                pair[1] - pair[0] >= 30_000_000_000,
                "record reads {:?} closer than 30 s",
                pair
            );
        }
        Ok(())
    });
}
