use chrono::NaiveDate;
use nhs_identifiers::NhsNumber;

use super::*;
use crate::model::{AddedBy, JournalItem};
use crate::organisation::{Organisation, RecordHolder};

fn nhs(s: &str) -> NhsNumber {
    s.parse().unwrap()
}

fn ctx(gateway: u64, device: &str, leave_open: bool) -> WriteContext {
    WriteContext {
        gateway,
        gateway_user: "gateway0001".to_owned(),
        device: AddedBy {
            device_id: device.to_owned(),
            device_version: "test 1.0".to_owned(),
        },
        software: "Example Integration".to_owned(),
        now: NaiveDate::from_ymd_opt(2026, 3, 3)
            .unwrap()
            .and_hms_opt(10, 15, 2)
            .unwrap(),
        leave_open,
    }
}

fn note(user: &str) -> Update {
    Update {
        events: vec![NewEvent {
            user_name: Some(user.to_owned()),
            items: vec![JournalItem::Narrative {
                lines: vec!["Seen.".to_owned()],
            }],
            ..NewEvent::default()
        }],
        ..Update::default()
    }
}

#[test]
fn search_needs_two_criteria_and_matches_prefixes_and_outward_codes() {
    let org = Organisation::builtin_default();
    let state = org.lock();
    let one = SearchCriteria {
        surname: Some("Example".into()),
        ..SearchCriteria::default()
    };
    let err = search(&state, &one).unwrap_err();
    assert!(err.permanent);
    assert_eq!(
        err.message,
        "At least two search parameters must be specified"
    );
    let two = SearchCriteria {
        surname: Some("ex".into()),
        postcode: Some("LS1".into()),
        ..SearchCriteria::default()
    };
    assert_eq!(search(&state, &two).unwrap().len(), 2);
    let three = SearchCriteria {
        surname: Some("Example".into()),
        postcode: Some("ls1 1aa".into()),
        gender: Some("M".into()),
        ..SearchCriteria::default()
    };
    let found = search(&state, &three).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].first_name, "Sam");
    let phone = SearchCriteria {
        telephone: Some("07700 900123".into()),
        date_of_birth: NaiveDate::from_ymd_opt(1970, 5, 14),
        ..SearchCriteria::default()
    };
    assert_eq!(search(&state, &phone).unwrap().len(), 1);
    let nobody = SearchCriteria {
        surname: Some("Nobody".into()),
        first_name: Some("X".into()),
        ..SearchCriteria::default()
    };
    assert!(search(&state, &nobody).unwrap().is_empty());
}

#[test]
fn unknown_or_wrongly_cased_authors_change_nothing() {
    let org = Organisation::builtin_default();
    let mut state = org.lock();
    let patient = nhs("9990001014");
    let err = apply_update(
        &mut state,
        &ctx(1, "d1", false),
        &patient,
        note("JBloggs1234"),
    )
    .unwrap_err();
    assert!(err.permanent);
    assert!(state.patient(&patient).unwrap().journal.is_empty());
    let ok = apply_update(
        &mut state,
        &ctx(1, "d1", false),
        &patient,
        note("jbloggs1234"),
    )
    .unwrap();
    assert_eq!(ok.event_uids.len(), 1);
    let event = &state.patient(&patient).unwrap().journal[0];
    assert_eq!(event.author, "jbloggs1234");
    assert_eq!(event.entered_by, "gateway0001");
    assert_eq!(event.software.as_deref(), Some("Example Integration"));
    assert!(event.committed);
}

#[test]
fn records_open_elsewhere_refuse_writes_but_not_reads() {
    let org = Organisation::builtin_default();
    let patient = nhs("9990001014");
    org.open_record_elsewhere(&patient);
    let mut state = org.lock();
    assert_eq!(
        access_record(&mut state, 1, &patient, false, false),
        Ok(RecordState::Open)
    );
    let err = apply_update(
        &mut state,
        &ctx(1, "d1", false),
        &patient,
        note("jbloggs1234"),
    )
    .unwrap_err();
    assert!(!err.permanent);
    let err = access_record(&mut state, 1, &patient, true, false).unwrap_err();
    assert!(!err.permanent);
}

#[test]
fn leave_record_open_keeps_changes_pending_until_saved() {
    let org = Organisation::builtin_default();
    let patient = nhs("9990001014");
    {
        let mut state = org.lock();
        let result = apply_update(
            &mut state,
            &ctx(1, "d1", true),
            &patient,
            note("jbloggs1234"),
        )
        .unwrap();
        assert_eq!(result.state, Some(RecordState::Open));
        // The same gateway may keep working on it; another may not.
        assert!(access_record(&mut state, 1, &patient, true, true).is_ok());
        assert!(access_record(&mut state, 2, &patient, false, true).is_err());
    }
    assert!(!org.journal(&patient)[0].committed);
    org.close_record(&patient);
    assert!(org.journal(&patient)[0].committed);
    assert_eq!(org.record_holder(&patient), None);
}

#[test]
fn deletes_only_own_items_all_or_nothing() {
    let org = Organisation::builtin_default();
    let patient = nhs("9990001006");
    let mut state = org.lock();
    let mine = apply_update(
        &mut state,
        &ctx(1, "d1", false),
        &patient,
        note("jbloggs1234"),
    )
    .unwrap()
    .event_uids[0]
        .clone();
    let theirs = "a000000100000000".to_owned();
    let both = Deletion {
        reason: "Filed against wrong patient".into(),
        event_uids: vec![mine.clone(), theirs],
        ..Deletion::default()
    };
    assert!(apply_delete(&mut state, &ctx(1, "d1", false), &patient, &both).is_err());
    assert_eq!(state.patient(&patient).unwrap().journal.len(), 2);
    let other_device = Deletion {
        reason: "x".into(),
        event_uids: vec![mine.clone()],
        ..Deletion::default()
    };
    assert!(apply_delete(&mut state, &ctx(1, "d2", false), &patient, &other_device).is_err());
    let no_reason = Deletion {
        reason: " ".into(),
        event_uids: vec![mine.clone()],
        ..Deletion::default()
    };
    assert!(apply_delete(&mut state, &ctx(1, "d1", false), &patient, &no_reason).is_err());
    apply_delete(&mut state, &ctx(1, "d1", false), &patient, &other_device).unwrap();
    assert_eq!(state.patient(&patient).unwrap().journal.len(), 1);
    assert_eq!(state.deleted.len(), 1);
}

#[test]
fn filters_select_sections_and_entry_dates() {
    let org = Organisation::builtin_default();
    let state = org.lock();
    let patient = state.patient(&nhs("9990001006")).unwrap();
    let all = RecordSelection::default().normalised();
    assert_eq!(all.events(patient)[0].items.len(), 2);
    let narrative = RecordSelection {
        filtered: true,
        narrative: true,
        ..RecordSelection::default()
    }
    .normalised();
    assert_eq!(narrative.events(patient)[0].items.len(), 1);
    assert!(!narrative.include_demographics());
    let day = NaiveDate::from_ymd_opt(2025, 11, 3);
    let dated = RecordSelection {
        filtered: true,
        min_entry: day,
        max_entry: day,
        ..RecordSelection::default()
    }
    .normalised();
    assert_eq!(dated.events(patient).len(), 1);
    let later = RecordSelection {
        filtered: true,
        min_entry: NaiveDate::from_ymd_opt(2025, 11, 4),
        ..RecordSelection::default()
    }
    .normalised();
    assert!(later.events(patient).is_empty());
    let demographics_only = RecordSelection {
        filtered: true,
        demographics: true,
        ..RecordSelection::default()
    }
    .normalised();
    assert!(demographics_only.events(patient).is_empty());
    assert!(demographics_only.include_demographics());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Op {
        Write {
            device: u8,
            user: &'static str,
            leave_open: bool,
        },
        Delete {
            device: u8,
            pick: usize,
        },
        OpenElsewhere,
        Save,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..3, prop::sample::select(vec!["jbloggs1234", "JBLOGGS1234", "nobody", "lworker0042"]), any::<bool>())
                .prop_map(|(device, user, leave_open)| Op::Write { device, user, leave_open }),
            3 => (0u8..3, 0usize..8).prop_map(|(device, pick)| Op::Delete { device, pick }),
            1 => Just(Op::OpenElsewhere),
            1 => Just(Op::Save),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Writes and deletes are all or nothing: the journal always equals the model of
        /// what succeeded; every added event names a real author, the gateway user and its
        /// device; only the adding device ever deletes.
        #[test]
        fn journal_matches_successful_operations(ops in prop::collection::vec(op(), 1..40)) {
            let org = Organisation::builtin_default();
            let patient = nhs("9990001022");
            let mut expected: Vec<(String, String)> = Vec::new(); // (uid, device)
            for op in ops {
                let mut state = org.lock();
                match op {
                    Op::Write { device, user, leave_open } => {
                        let device = format!("d{device}");
                        let result = apply_update(&mut state, &ctx(1, &device, leave_open), &patient, note(user));
                        if let Ok(result) = result {
                            prop_assert!(state.user(user).is_some());
                            expected.push((result.event_uids[0].clone(), device));
                        }
                    }
                    Op::Delete { device, pick } => {
                        let device = format!("d{device}");
                        let Some((uid, owner)) = expected.get(pick).cloned() else { continue };
                        let deletion = Deletion {
                            reason: "Wrong patient".into(),
                            event_uids: vec![uid.clone()],
                            ..Deletion::default()
                        };
                        if apply_delete(&mut state, &ctx(1, &device, false), &patient, &deletion).is_ok() {
                            prop_assert_eq!(&owner, &device);
                            expected.retain(|(u, _)| u != &uid);
                        }
                    }
                    Op::OpenElsewhere => {
                        state.open_records.insert(patient, RecordHolder::AnotherUser);
                    }
                    Op::Save => state.save_and_close(&patient),
                }
                let journal = &state.patient(&patient).unwrap().journal;
                let actual: Vec<(String, String)> = journal
                    .iter()
                    .map(|e| (e.event_uid.clone(), e.added_by.as_ref().unwrap().device_id.clone()))
                    .collect();
                prop_assert_eq!(&actual, &expected);
                for event in journal {
                    prop_assert!(state.user(&event.author).is_some());
                    prop_assert_eq!(&event.entered_by, "gateway0001");
                }
            }
        }
    }
}
