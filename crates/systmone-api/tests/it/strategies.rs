#![allow(clippy::unwrap_used, clippy::expect_used)]
//! proptest strategies for every request and response (fictitious data only).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use nhs_identifiers::strategies::test_nhs_number;
use proptest::option::of;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use systmone_api::record::*;
use systmone_api::*;

/// Text as it may appear in any value: printable Unicode, markup characters, CR/LF/tab.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof!["\\PC{0,10}", "[a-z <>&\"'\n\r\t;#]{0,10}"]
}

/// A token without whitespace (UIDs, codes, values read trimmed).
pub fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.]{1,12}"
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..3)
}

pub fn date() -> impl Strategy<Value = NaiveDate> {
    (1900i32..2100, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

pub fn date_time() -> impl Strategy<Value = NaiveDateTime> {
    (date(), 0u32..24, 0u32..60, 0u32..60)
        .prop_map(|(d, h, m, s)| d.and_time(NaiveTime::from_hms_opt(h, m, s).unwrap()))
}

macro_rules! wire {
    ($ty:ty) => {
        prop_oneof![
            4 => select(<$ty>::KNOWN.to_vec()),
            1 => token().prop_map(|t| <$ty>::from_wire(&format!("Zz{t}"))),
        ]
    };
}

fn patient_id() -> impl Strategy<Value = PatientId> {
    prop_oneof![
        4 => test_nhs_number().prop_map(PatientId::NhsNumber),
        1 => token().prop_map(PatientId::PseudoNumber),
        1 => token().prop_map(PatientId::ClientId),
    ]
}

fn identity() -> impl Strategy<Value = Identity> {
    (of(patient_id()), of(text())).prop_map(|(p, sr)| {
        let mut i = Identity::default();
        i.patient = p;
        i.strategic_reporting_identifier = sr;
        i
    })
}

fn code() -> impl Strategy<Value = Code> {
    (wire!(CodeScheme), token(), of(text())).prop_map(|(s, c, t)| {
        let mut code = Code::new(s, c);
        code.term = t;
        code
    })
}

fn drug() -> impl Strategy<Value = Drug> {
    (wire!(DrugScheme), token(), of(text()), of(text())).prop_map(|(s, p, pack, name)| {
        let mut d = Drug::new(s, p);
        d.pack_id = pack;
        d.name = name;
        d
    })
}

fn address() -> impl Strategy<Value = Address> {
    (
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
    )
        .prop_map(|(a, b, c, d, e, f, g)| {
            let mut x = Address::default();
            x.house_name = a;
            x.house_number = b;
            x.road = c;
            x.locality = d;
            x.town = e;
            x.county = f;
            x.postcode = g;
            x
        })
}

fn person_name() -> impl Strategy<Value = PersonName> {
    (of(text()), of(text()), of(text()), of(text())).prop_map(|(a, b, c, d)| {
        let mut n = PersonName::default();
        n.title = a;
        n.first_name = b;
        n.middle_names = c;
        n.surname = d;
        n
    })
}

pub fn demographics() -> impl Strategy<Value = Demographics> {
    (
        (
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(date()),
            of(wire!(Sex)),
        ),
        (
            of(code()),
            of(code()),
            of(code()),
            of(wire!(YesNo)),
            of(address()),
        ),
        (
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(wire!(YesNo)),
        ),
        (of(text()), of(date()), of(text())),
    )
        .prop_map(
            |((a, b, c, d, e, f, g), (h, i, j, k, l), (m, n, o, p, q, r), (s, t, u))| {
                let mut x = Demographics::default();
                x.title = a;
                x.first_name = b;
                x.middle_names = c;
                x.surname = d;
                x.known_as = e;
                x.date_of_birth = f;
                x.sex = g;
                x.marital_status = h;
                x.ethnicity = i;
                x.main_language = j;
                x.english_speaker = k;
                x.address = l;
                x.home_telephone = m;
                x.work_telephone = n;
                x.mobile_telephone = o;
                x.alternate_telephone = p;
                x.email_address = q;
                x.sms_consent = r;
                x.usual_gp_user_name = s;
                x.care_start_date = t;
                x.registration_type = u;
                x
            },
        )
}

fn clinical_code() -> impl Strategy<Value = ClinicalCode> {
    (
        code(),
        of(text()),
        of(wire!(Episodicity)),
        of(token()),
        of(wire!(ProblemSeverity)),
        of(date()),
        of(token()),
        of(text()),
        of(wire!(Comparator)),
        prop::collection::vec(token(), 0..2),
    )
        .prop_map(|(c, ft, ep, pu, ps, pe, v, u, cmp, linked)| {
            let mut x = ClinicalCode::new(c);
            x.free_text = ft;
            x.episodicity = ep;
            x.problem_uid = pu.map(ProblemUid::new);
            x.problem_severity = ps;
            x.problem_end_date = pe;
            x.value = v;
            x.units = u;
            x.comparator = cmp;
            x.linked_problem_uids = linked.into_iter().map(ProblemUid::new).collect();
            x
        })
}

fn data_item() -> impl Strategy<Value = DataItem> {
    let medication = (
        of(text()),
        of(drug()),
        of(text()),
        of(text()),
        of(date()),
        of(date()),
        of(text()),
        of(text()),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| {
            let mut m = Medication::default();
            m.medication_type = a;
            m.drug = b;
            m.dose = c;
            m.quantity = d;
            m.start_date = e;
            m.end_date = f;
            m.end_reason = g;
            m.repeat_issue = h;
            DataItem::Medication(m)
        });
    let repeat = (
        of(drug()),
        of(text()),
        of(text()),
        of(date()),
        of(text()),
        of(date()),
        of(text()),
        of(text()),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| {
            let mut m = RepeatMedication::default();
            m.drug = a;
            m.dose = b;
            m.quantity = c;
            m.start_date = d;
            m.max_issues = e;
            m.review_date = f;
            m.issue_duration_days = g;
            m.medication_type = h;
            DataItem::RepeatMedication(m)
        });
    let sensitivity = (
        of(text()),
        of(drug()),
        of(text()),
        of(date()),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, e)| {
            let mut s = DrugSensitivity::default();
            s.sensitivity_type = a;
            s.drug = b;
            s.free_text = c;
            s.end_date = d;
            s.ended_with_unknown_date = e;
            DataItem::DrugSensitivity(s)
        });
    let vaccination =
        (of(text()), of(text()), of(text()), of(text()), of(text())).prop_map(|(a, b, c, d, e)| {
            let mut v = Vaccination::default();
            v.name = a;
            v.batch_number = b;
            v.notes = c;
            v.part_type = d;
            v.dosage = e;
            DataItem::Vaccination(v)
        });
    let recall =
        (of(date()), of(text()), of(text()), of(text()), of(text())).prop_map(|(a, b, c, d, e)| {
            let mut r = Recall::default();
            r.recall_date = a;
            r.recall_type = b;
            r.free_text = c;
            r.comments = d;
            r.status = e;
            DataItem::Recall(r)
        });
    let reminder = (of(text()), of(wire!(ReminderSeverity)), of(date())).prop_map(|(a, b, c)| {
        let mut r = Reminder::default();
        r.free_text = a;
        r.severity = b;
        r.expiry_date = c;
        DataItem::Reminder(r)
    });
    let report = (
        of(date()),
        of(text()),
        of(text()),
        of(text()),
        of(date()),
        of(text()),
        prop::collection::vec((of(text()), of(text())), 0..2),
    )
        .prop_map(|(a, b, c, d, e, f, g)| {
            let mut r = Report::default();
            r.issue_date = a;
            r.result = b;
            r.comments = c;
            r.patient_to_be_informed = d;
            r.collection_date = e;
            r.report_type = f;
            r.follow_up_actions = g
                .into_iter()
                .map(|(action, comments)| {
                    let mut f = FollowUpAction::default();
                    f.action = action;
                    f.comments = comments;
                    f
                })
                .collect();
            DataItem::Report(r)
        });
    let letter = (
        (
            of(person_name()),
            of(text()),
            of(address()),
            of(person_name()),
            of(text()),
            of(address()),
        ),
        (
            of(text()),
            of(text()),
            of(wire!(LetterDirection)),
            of(date()),
            of(token()),
        ),
    )
        .prop_map(|((a, b, c, d, e, f), (g, h, i, j, k))| {
            let mut l = Letter::default();
            l.recipient_name = a;
            l.recipient_organisation = b;
            l.recipient_address = c;
            l.sender_name = d;
            l.sender_organisation = e;
            l.sender_address = f;
            l.document_path = g;
            l.letter_type = h;
            l.direction = i;
            l.date_sent_received = j;
            l.document_uid = k.map(DocumentUid::new);
            DataItem::Letter(l)
        });
    let attachment = (
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(token()),
        of(text()),
    )
        .prop_map(|(a, b, c, d, e, f)| {
            let mut x = Attachment::default();
            x.document_path = a;
            x.url = b;
            x.file_name = c;
            x.file_size = d;
            x.document_uid = e.map(DocumentUid::new);
            x.comments = f;
            DataItem::Attachment(x)
        });
    let activity = (of(text()), of(text()), of(text()), of(0u32..600)).prop_map(|(a, b, c, d)| {
        let mut x = Activity::default();
        x.performed = a;
        x.with = b;
        x.method = c;
        x.duration = d;
        DataItem::Activity(x)
    });
    Union::new(vec![
        texts()
            .prop_map(|l| DataItem::Narrative(Narrative::new(l)))
            .boxed(),
        clinical_code().prop_map(DataItem::ClinicalCode).boxed(),
        medication.boxed(),
        repeat.boxed(),
        sensitivity.boxed(),
        vaccination.boxed(),
        recall.boxed(),
        reminder.boxed(),
        report.boxed(),
        letter.boxed(),
        attachment.boxed(),
        activity.boxed(),
    ])
}

pub fn event() -> impl Strategy<Value = Event> {
    (
        (
            of(date_time()),
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(token()),
            of(token()),
        ),
        prop::collection::vec(token(), 0..2),
        prop::collection::vec(data_item(), 0..4),
    )
        .prop_map(|((dt, un, db, da, me, sw, lr, eu), problems, items)| {
            let mut e = Event::new(items);
            e.date_time = dt;
            e.user_name = un;
            e.done_by = db;
            e.done_at = da;
            e.method = me;
            e.software = sw;
            e.linked_referral_uid = lr.map(ReferralUid::new);
            e.event_uid = eu.map(EventUid::new);
            e.linked_problem_uids = problems.into_iter().map(ProblemUid::new).collect();
            e
        })
}

fn slot() -> impl Strategy<Value = Slot> {
    (of(text()), of(date_time()), of(0u32..600)).prop_map(|(a, b, c)| {
        let mut s = Slot::default();
        s.slot_type = a;
        s.date_time_start = b;
        s.duration = c;
        s
    })
}

fn clinic() -> impl Strategy<Value = Clinic> {
    (
        of(text()),
        of(text()),
        of(text()),
        prop::collection::vec(slot(), 0..3),
    )
        .prop_map(|(a, b, c, d)| {
            let mut x = Clinic::default();
            x.user_name = a;
            x.site_name = b;
            x.clinic_type = c;
            x.slots = d;
            x
        })
}

fn appointment() -> impl Strategy<Value = Appointment> {
    (
        (
            of(token()),
            of(date_time()),
            of(0u32..600),
            of(text()),
            of(text()),
            of(text()),
            of(text()),
        ),
        (
            of(clinic()),
            of(wire!(AppointmentStatus)),
            of(text()),
            of(token()),
            of(text()),
        ),
    )
        .prop_map(|((a, b, c, d, e, f, g), (h, i, j, k, l))| {
            let mut x = Appointment::default();
            x.appointment_uid = a.map(AppointmentUid::new);
            x.date_time = b;
            x.duration = c;
            x.clinician = d;
            x.user_name = e;
            x.site = f;
            x.clinic_type = g;
            x.clinic = h;
            x.status = i;
            x.comments = j;
            x.linked_referral_uid = k.map(ReferralUid::new);
            x.flag = l;
            x
        })
}

fn task() -> impl Strategy<Value = Task> {
    (
        of(token()),
        of(date_time()),
        of(text()),
        of(text()),
        of(date()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i)| {
            let mut t = Task::default();
            t.task_uid = a.map(TaskUid::new);
            t.date_time = b;
            t.task_type = c;
            t.status = d;
            t.due = e;
            t.content = f;
            t.user_name_assigned = g;
            t.group_name_assigned = h;
            t.team_name_assigned = i;
            t
        })
}

fn visit() -> impl Strategy<Value = Visit> {
    (
        of(token()),
        of(date_time()),
        of(0u32..600),
        of(text()),
        of(text()),
        of(token()),
        of(text()),
    )
        .prop_map(|(a, b, c, d, e, f, g)| {
            let mut v = Visit::default();
            v.visit_uid = a.map(VisitUid::new);
            v.date_time = b;
            v.duration = c;
            v.comments = d;
            v.user_name = e;
            v.linked_referral_uid = f.map(ReferralUid::new);
            v.status = g;
            v
        })
}

fn non_clinical() -> impl Strategy<Value = NonClinicalItem> {
    prop_oneof![
        appointment().prop_map(NonClinicalItem::Appointment),
        task().prop_map(NonClinicalItem::Task),
        visit().prop_map(NonClinicalItem::Visit),
    ]
}

fn filter() -> impl Strategy<Value = get_patient_record::v1::Filter> {
    use get_patient_record::v1::{Filter, RecordSection};
    (
        (of(date()), of(date()), of(date()), of(date())),
        prop::collection::btree_set(select(RecordSection::ALL.to_vec()), 0..5),
        texts(),
        texts(),
        texts(),
    )
        .prop_map(|((a, b, c, d), sections, codes, numeric, users)| {
            let mut f = Filter::sections(sections);
            f.min_effective_date = a;
            f.max_effective_date = b;
            f.min_entry_date = c;
            f.max_entry_date = d;
            f.clinical_codes = codes;
            f.numeric = numeric;
            f.user_names_done_by = users;
            f
        })
}

fn uids<T: From<String> + std::fmt::Debug>() -> impl Strategy<Value = Vec<T>> {
    prop::collection::vec(token().prop_map(T::from), 0..3)
}

/// Any valid request of any function.
pub fn request() -> impl Strategy<Value = Request> {
    let search = (
        of(text()),
        of(text()),
        of(date()),
        of(text()),
        of(text()),
        of(wire!(Sex)),
    )
        .prop_map(|(a, b, c, d, e, f)| {
            let mut s = patient_search::v1::Request::new();
            s.first_name = a;
            s.surname = b;
            s.date_of_birth = c;
            s.post_code = d;
            s.telephone = e;
            s.gender = f;
            s
        })
        .prop_filter("two criteria", |s| s.criteria().len() >= 2)
        .prop_map(Request::from);
    let record = (of(patient_id()), any::<bool>(), of(filter())).prop_map(|(id, open, f)| {
        let mut r = get_patient_record::v1::Request::default();
        r.identity = id;
        r.leave_record_open = open;
        r.filter = f;
        Request::from(r)
    });
    let update = (
        patient_id(),
        of(demographics()),
        prop::collection::vec(event(), 0..3),
        prop::collection::vec(non_clinical(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(id, d, events, nc, open)| {
            let mut r = update_patient_record::v1::Request::new(id);
            r.demographics = d;
            r.events = events;
            r.non_clinical = nc;
            r.leave_record_open = open;
            r
        })
        .prop_filter("something to write", |r| {
            r.demographics.is_some() || !r.events.is_empty() || !r.non_clinical.is_empty()
        })
        .prop_map(Request::from);
    let delete = (
        patient_id(),
        "[a-z]{1,5}[a-z ]{0,10}",
        uids(),
        uids(),
        uids(),
        uids(),
        any::<bool>(),
    )
        .prop_map(|(id, reason, e, a, t, v, open)| {
            let mut r = delete_patient_record::v1::Request::new(id, reason);
            r.event_uids = e;
            r.appointment_uids = a;
            r.task_uids = t;
            r.visit_uids = v;
            r.leave_record_open = open;
            r
        })
        .prop_filter("a uid", |r| {
            !(r.event_uids.is_empty()
                && r.appointment_uids.is_empty()
                && r.task_uids.is_empty()
                && r.visit_uids.is_empty())
        })
        .prop_map(Request::from);
    let document = (
        patient_id(),
        token(),
        "[A-Za-z:\\\\ ]{0,5}[A-Za-z]",
        any::<bool>(),
    )
        .prop_map(|(id, uid, dir, open)| {
            let mut r = get_document::v1::Request::new(id, DocumentUid::new(uid), dir);
            r.leave_record_open = open;
            Request::from(r)
        });
    let slots = (
        of(date_time()),
        of(date_time()),
        texts(),
        texts(),
        texts(),
        texts(),
    )
        .prop_map(|(a, b, c, d, e, f)| {
            let mut r = get_appointment_slots::v1::Request::default();
            r.min_date_time = a;
            r.max_date_time = b;
            r.user_names = c;
            r.site_names = d;
            r.clinic_types = e;
            r.slot_types = f;
            Request::from(r)
        });
    let diary = (
        of(date_time()),
        of(date_time()),
        texts(),
        texts(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, e, f)| {
            let mut r = get_diary::v1::Request::default();
            r.min_date_time = a;
            r.max_date_time = b;
            r.user_names = c;
            r.site_names = d;
            r.appointments = e;
            r.visits = f;
            Request::from(r)
        });
    let extract = ("[A-Za-z]{1,8}", "[A-Za-z]{1,8}", of(token())).prop_map(|(d, n, c)| {
        let mut r = data_extract::v1::Request::new(d, n);
        r.sr_manifest_crc = c;
        Request::from(r)
    });
    let launch = (
        patient_id(),
        prop_oneof![
            Just(None),
            (code(), of(wire!(ProblemSeverity))).prop_map(|(code, problem_severity)| Some(
                launch_functionality::v1::LaunchAction::ClinicalCode {
                    code,
                    problem_severity
                }
            )),
            (drug(), of(text()), of(text())).prop_map(|(drug, dose, quantity)| Some(
                launch_functionality::v1::LaunchAction::Medication {
                    drug,
                    dose,
                    quantity
                }
            )),
            text().prop_map(|document_path| Some(
                launch_functionality::v1::LaunchAction::Attachment { document_path }
            )),
        ],
    )
        .prop_map(|(id, action)| Request::from(launch_functionality::v1::Request::new(id, action)));
    Union::new(vec![
        Just(Request::from(get_functions::v1::Request::new())).boxed(),
        any::<bool>()
            .prop_map(|only| {
                let mut r = get_organisation_meta_data::v1::Request::new();
                r.logged_on_user_only = only;
                Request::from(r)
            })
            .boxed(),
        Just(Request::from(get_current_activity::v1::Request::new())).boxed(),
        Just(Request::from(get_current_selection::v1::Request::new())).boxed(),
        search.boxed(),
        record.boxed(),
        update.boxed(),
        document.boxed(),
        delete.boxed(),
        slots.boxed(),
        diary.boxed(),
        any::<bool>()
            .prop_map(|restart| {
                let mut r = exit_client::v1::Request::new();
                r.restart = restart;
                Request::from(r)
            })
            .boxed(),
        extract.boxed(),
        launch.boxed(),
        of(text())
            .prop_map(|path| {
                let mut r = get_xsd_files::v1::Request::new();
                r.path = path;
                Request::from(r)
            })
            .boxed(),
        Just(Request::from(get_reference_data::v1::Request::new())).boxed(),
        Just(Request::from(is_patient_retrieved::v1::Request::new())).boxed(),
    ])
}

/// A request header.
pub fn request_header() -> impl Strategy<Value = RequestHeader> {
    (
        "[0-9a-f]{16}",
        prop_oneof![Just(String::new()), "[0-9a-f]{16}"],
        text(),
        text(),
    )
        .prop_map(|(k, d, v, u)| {
            RequestHeader::new(ApiKey::new(k), DeviceId::new(d), v, RequestUid::new(u))
        })
}

/// A whole request document.
pub fn envelope() -> impl Strategy<Value = ClientIntegrationRequest> {
    (
        request_header(),
        request(),
        of((of(wire!(DrugScheme)), of(wire!(CodeScheme)))),
    )
        .prop_map(|(h, r, scheme)| {
            let mut e = ClientIntegrationRequest::new(h, r);
            e.output_scheme = scheme.map(|(d, c)| OutputScheme::new(d, c));
            e
        })
}

fn site() -> impl Strategy<Value = get_organisation_meta_data::v1::Site> {
    (
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(address()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| {
            let mut s = get_organisation_meta_data::v1::Site::default();
            s.name = a;
            s.id = b;
            s.telephone = c;
            s.fax = d;
            s.email = e;
            s.address = f;
            s.primary_site = g;
            s.current_site = h;
            s
        })
}

fn user() -> impl Strategy<Value = get_organisation_meta_data::v1::User> {
    (
        (
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(text()),
            of(text()),
        ),
        (
            of(text()),
            of(text()),
            of(text()),
            texts(),
            texts(),
            texts(),
            any::<bool>(),
        ),
    )
        .prop_map(|((a, b, c, d, e, f, g), (h, i, j, k, l, m, n))| {
            let mut u = get_organisation_meta_data::v1::User::default();
            u.title = a;
            u.first_name = b;
            u.middle_names = c;
            u.surname = d;
            u.user_name = e;
            u.gender = f;
            u.role = g;
            u.role_code = h;
            u.national_id = i;
            u.national_id_type = j;
            u.access_rights = k;
            u.user_groups = l;
            u.teams = m;
            u.current_user = n;
            u
        })
}

fn selection() -> impl Strategy<Value = get_current_selection::v1::CurrentSelection> {
    (
        prop::collection::vec(drug(), 0..3),
        prop::collection::vec(code(), 0..3),
    )
        .prop_map(|(d, c)| {
            let mut s = get_current_selection::v1::CurrentSelection::default();
            s.drugs = d;
            s.codes = c;
            s
        })
}

/// Any successful response of any function.
pub fn response() -> impl Strategy<Value = Response> {
    let functions = prop::collection::vec(
        (
            select(all_functions().map(|m| m.name()).collect::<Vec<_>>()),
            prop::collection::vec(token(), 0..3),
        ),
        0..4,
    )
    .prop_map(|fs| {
        let mut r = get_functions::v1::Response::default();
        r.functions = fs
            .into_iter()
            .map(|(f, v)| get_functions::v1::SupportedFunction::new(f, v))
            .collect();
        Response::from(r)
    });
    let org = (
        prop::collection::vec(site(), 0..3),
        prop::collection::vec(user(), 0..3),
        texts(),
        texts(),
    )
        .prop_map(|(s, u, st, ct)| {
            let mut r = get_organisation_meta_data::v1::Response::default();
            r.sites = s;
            r.users = u;
            r.slot_types = st;
            r.clinic_types = ct;
            Response::from(r)
        });
    let activity = (of(identity()), texts(), of(selection())).prop_map(|(i, a, s)| {
        let mut r = get_current_activity::v1::Response::default();
        r.identity = i;
        r.activities = a;
        r.current_selection = s;
        Response::from(r)
    });
    let current_selection = (of(identity()), selection()).prop_map(|(i, s)| {
        let mut r = get_current_selection::v1::Response::default();
        r.identity = i;
        r.current_selection = s;
        Response::from(r)
    });
    let search = prop::collection::vec(
        (
            identity(),
            of(text()),
            of(text()),
            of(date()),
            of(wire!(Sex)),
            of(text()),
            of(address()),
        ),
        0..3,
    )
    .prop_map(|rs| {
        let mut r = patient_search::v1::Response::default();
        r.results = rs
            .into_iter()
            .map(|(i, f, s, d, x, t, a)| {
                let mut m = patient_search::v1::SearchResult::default();
                m.identity = i;
                m.first_name = f;
                m.surname = s;
                m.date_of_birth = d;
                m.sex = x;
                m.telephone = t;
                m.address = a;
                m
            })
            .collect();
        Response::from(r)
    });
    let record = (
        of(identity()),
        of(demographics()),
        prop::collection::vec(event(), 0..3),
        prop::collection::vec(non_clinical(), 0..3),
        of(wire!(RecordState)),
    )
        .prop_map(|(i, d, e, n, s)| {
            let mut r = get_patient_record::v1::Response::default();
            r.identity = i;
            r.demographics = d;
            r.events = e;
            r.non_clinical = n;
            r.record_state = s;
            Response::from(r)
        });
    let update = (
        of(identity()),
        uids(),
        uids(),
        uids(),
        uids(),
        of(wire!(RecordState)),
    )
        .prop_map(|(i, e, a, v, t, s)| {
            let mut r = update_patient_record::v1::Response::default();
            r.identity = i;
            r.event_uids = e;
            r.appointment_uids = a;
            r.visit_uids = v;
            r.task_uids = t;
            r.record_state = s;
            Response::from(r)
        });
    let document = (texts(), of(wire!(RecordState))).prop_map(|(f, s)| {
        let mut r = get_document::v1::Response::default();
        r.document_files = f;
        r.record_state = s;
        Response::from(r)
    });
    let delete = (of(identity()), of(wire!(RecordState))).prop_map(|(i, s)| {
        let mut r = delete_patient_record::v1::Response::default();
        r.identity = i;
        r.record_state = s;
        Response::from(r)
    });
    let slots = prop::collection::vec(clinic(), 0..3).prop_map(|c| {
        let mut r = get_appointment_slots::v1::Response::default();
        r.clinics = c;
        Response::from(r)
    });
    let diary = prop::collection::vec(
        (
            of(identity()),
            of(demographics()),
            prop::collection::vec(
                prop_oneof![
                    appointment().prop_map(NonClinicalItem::Appointment),
                    visit().prop_map(NonClinicalItem::Visit)
                ],
                0..3,
            ),
        ),
        0..3,
    )
    .prop_map(|rs| {
        let mut r = get_diary::v1::Response::default();
        r.results = rs
            .into_iter()
            .map(|(i, d, items)| {
                let mut e = get_diary::v1::DiaryEntry::default();
                e.identity = i;
                e.demographics = d;
                e.items = items;
                e
            })
            .collect();
        Response::from(r)
    });
    let extract = of(text()).prop_map(|c| {
        let mut r = data_extract::v1::Response::default();
        r.sr_manifest_crc = c;
        Response::from(r)
    });
    let launch = of(identity()).prop_map(|i| {
        let mut r = launch_functionality::v1::Response::default();
        r.identity = i;
        Response::from(r)
    });
    let xsd = prop::collection::vec((of(text()), of(text()), of(text())), 0..3).prop_map(|fs| {
        let mut r = get_xsd_files::v1::Response::default();
        r.files = fs
            .into_iter()
            .map(|(f, v, res)| {
                let mut x = get_xsd_files::v1::XsdFile::default();
                x.function = f;
                x.version = v;
                x.result = res;
                x
            })
            .collect();
        Response::from(r)
    });
    let reference =
        prop::collection::vec((of(text()), of(text()), of(date())), 0..3).prop_map(|us| {
            let mut r = get_reference_data::v1::Response::default();
            r.units = us
                .into_iter()
                .map(|(c, u, d)| {
                    let mut x = get_reference_data::v1::NumericReadCodeUnits::default();
                    x.code = c;
                    x.units = u;
                    x.created_date = d;
                    x
                })
                .collect();
            Response::from(r)
        });
    Union::new(vec![
        functions.boxed(),
        org.boxed(),
        activity.boxed(),
        current_selection.boxed(),
        search.boxed(),
        record.boxed(),
        update.boxed(),
        document.boxed(),
        delete.boxed(),
        slots.boxed(),
        diary.boxed(),
        Just(Response::from(exit_client::v1::Response::default())).boxed(),
        extract.boxed(),
        launch.boxed(),
        xsd.boxed(),
        reference.boxed(),
        any::<bool>()
            .prop_map(|b| Response::from(is_patient_retrieved::v1::Response::new(b)))
            .boxed(),
    ])
}

/// A whole response document: a result or an error.
pub fn response_envelope() -> impl Strategy<Value = ClientIntegrationResponse> {
    (
        prop_oneof![Just(String::new()), "[0-9a-f]{16}"],
        text(),
        "[0-9A-F-]{8,36}",
        prop_oneof![
            4 => response().prop_map(Ok),
            1 => (
                select(all_functions().map(|m| m.name()).collect::<Vec<_>>()),
                text(),
                any::<bool>(),
            )
                .prop_map(|(f, m, p)| Err((f, RemoteError::new(m, p)))),
        ],
    )
        .prop_map(|(device, request_uid, response_uid, outcome)| {
            let function = match &outcome {
                Ok(r) => r.function(),
                Err((f, _)) => f.clone(),
            };
            let header = ResponseHeader::new(
                DeviceId::new(device),
                RequestUid::new(request_uid),
                function,
                "1.0",
                ResponseUid::new(response_uid),
            );
            match outcome {
                Ok(r) => ClientIntegrationResponse::success(header, r),
                Err((_, e)) => ClientIntegrationResponse::error(header, e),
            }
        })
}
