#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The SMTP notifier against a tiny SMTP sink written here (a tokio listener speaking EHLO,
//! MAIL FROM, RCPT TO, DATA, RSET, NOOP and QUIT): notifications arrive with the right
//! recipient and subject and without the referred person's data; a refused recipient or an
//! unknown one leaves the notification unsent in the outbox for the next dispatch.
#![cfg(feature = "smtp")]

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use nhs_identifiers::NhsNumber;
use open_referral_uk::live::core::{ListingInput, Notification, Principal};
use open_referral_uk::live::smtp::{
    AddressBook, SmtpConfig, SmtpNotifier, SmtpSecurity, StaticAddressBook, render,
};
use open_referral_uk::live::{Live, LiveOptions, ManualClock};
use open_referral_uk::search::Directory;
use open_referral_uk::store::MemoryStore;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message the sink accepted.
#[derive(Debug, Clone, Default)]
struct Received {
    from: String,
    to: Vec<String>,
    /// The DATA, unfolded (header continuation lines joined).
    data: String,
}

impl Received {
    fn subject(&self) -> &str {
        self.data
            .lines()
            .find_map(|line| line.strip_prefix("Subject: "))
            .unwrap_or("")
    }
}

#[derive(Clone, Default)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<HashSet<String>>>,
}

fn address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

impl Sink {
    /// Listens on a free loopback port; returns the port.
    async fn start(&self) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = self.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move { sink.session(socket).await });
            }
        });
        port
    }

    async fn session(&self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut read = BufReader::new(read);
        let mut line = String::new();
        let mut current = Received::default();
        if write.write_all(b"220 sink.test ESMTP\r\n").await.is_err() {
            return;
        }
        loop {
            line.clear();
            if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-sink.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                current = Received {
                    from: address(&command),
                    ..Received::default()
                };
                b"250 2.1.0 ok\r\n"
            } else if upper.starts_with("RCPT TO:") {
                let to = address(&command);
                if self.refused.lock().unwrap().contains(&to) {
                    b"550 5.1.1 mailbox unavailable\r\n"
                } else {
                    current.to.push(to);
                    b"250 2.1.5 ok\r\n"
                }
            } else if upper == "DATA" {
                write
                    .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                    .await
                    .unwrap();
                let mut data = String::new();
                loop {
                    line.clear();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(
                        line.strip_prefix('.')
                            .filter(|_| line.starts_with(".."))
                            .unwrap_or(&line),
                    );
                }
                current.data = data.replace("\r\n ", " ").replace("\r\n\t", " ");
                self.received
                    .lock()
                    .unwrap()
                    .push(std::mem::take(&mut current));
                b"250 2.0.0 queued\r\n"
            } else if upper == "RSET" || upper == "NOOP" {
                current = Received::default();
                b"250 2.0.0 ok\r\n"
            } else if upper == "QUIT" {
                let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
                return;
            } else {
                b"502 5.5.1 not implemented\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

fn service(n: usize) -> Value {
    let mut service =
        serde_json::to_value(&open_referral_uk::synthetic::services(n + 1, 9)[n]).unwrap();
    service["name"] = json!(format!("Harbourside kayaking club {n}"));
    service
}

fn input(service: &Value, owner: &str) -> ListingInput {
    serde_json::from_value(json!({
        "service": service,
        "owner": owner,
        "referral_route": {"form": {"fields": [
            {"name": "nhs_number", "label": "NHS number", "required": true},
            {"name": "name", "label": "Name"}
        ]}}
    }))
    .unwrap()
}

fn unsent(outbox: &[Notification]) -> usize {
    outbox.iter().filter(|n| n.sent_at.is_none()).count()
}

#[tokio::test]
async fn notifications_are_e_mailed_and_a_refused_recipient_stays_in_the_outbox() {
    let sink = Sink::default();
    let port = sink.start().await;
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
    ));
    let live = Live::open(
        Arc::new(MemoryStore::new()),
        clock,
        Directory::builder(),
        LiveOptions::default(),
    )
    .await
    .unwrap();
    let book: Arc<dyn AddressBook> = Arc::new(
        StaticAddressBook::new()
            .organisation("org-a", "team@org-a.example")
            .organisation("gp-surgery", "referrals@gp.example")
            .admin("admins@directory.example")
            .service_contacts_from(live.directory()),
    );
    let notifier = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", "Directory <noreply@directory.example>")
            .port(port)
            .security(SmtpSecurity::Plain)
            .hello_name("directory.test")
            .sign_in_url("https://directory.example/sign-in"),
        book,
    )
    .unwrap();

    // Approve a listing (ListingReviewed to org-a), then a referral carrying an NHS number
    // and a name in its answers (ReferralReceived to org-a).
    let first = service(0);
    let first_id = first["id"].as_str().unwrap().to_owned();
    live.create_listing(&Principal::Admin, input(&first, "org-a"))
        .await
        .unwrap();
    live.review(&Principal::Admin, &first_id, true)
        .await
        .unwrap();
    let nhs_number = NhsNumber::fictitious(42).expose_spaced();
    let answers = BTreeMap::from([
        ("nhs_number".to_owned(), nhs_number.clone()),
        ("name".to_owned(), "Robin Fictitious".to_owned()),
    ]);
    let (referral_id, _) = live
        .refer(
            &Principal::Professional("gp-surgery".into()),
            &first_id,
            answers,
        )
        .await
        .unwrap();

    let outbox = live.outbox().await;
    let waiting = unsent(&outbox);
    assert!(waiting >= 2, "{outbox:?}");
    assert_eq!(live.dispatch(&notifier).await.unwrap(), waiting);
    assert_eq!(unsent(&live.outbox().await), 0);
    let received = sink.take();
    assert_eq!(received.len(), waiting);
    for message in &received {
        assert_eq!(message.from, "noreply@directory.example");
        assert!(!message.data.contains(&nhs_number), "{}", message.data);
        assert!(!message.data.contains(&nhs_number.replace(' ', "")));
        assert!(!message.data.contains("Robin"), "{}", message.data);
    }
    let reviewed = received
        .iter()
        .find(|m| m.subject() == "[Directory] Your listing has been reviewed")
        .expect("the review notice arrived");
    assert_eq!(reviewed.to, ["team@org-a.example"]);
    assert!(reviewed.data.contains("To: team@org-a.example"));
    assert!(reviewed.data.contains(&format!("Service: {first_id}")));
    let referral = received
        .iter()
        .find(|m| m.subject() == "[Directory] New referral waiting for your answer")
        .expect("the referral notice arrived");
    assert_eq!(referral.to, ["team@org-a.example"]);
    assert!(referral.data.contains(&format!("Referral: {referral_id}")));
    assert!(
        referral
            .data
            .contains("Sign in: https://directory.example/sign-in")
    );

    // The relay refuses org-a's address: the next notice stays unsent, in the outbox.
    sink.refused
        .lock()
        .unwrap()
        .insert("team@org-a.example".into());
    let second = service(1);
    let second_id = second["id"].as_str().unwrap().to_owned();
    live.create_listing(&Principal::Admin, input(&second, "org-a"))
        .await
        .unwrap();
    live.review(&Principal::Admin, &second_id, true)
        .await
        .unwrap();
    // And a listing whose owner has no address: never sent, never lost.
    let third = service(2);
    let third_id = third["id"].as_str().unwrap().to_owned();
    live.create_listing(&Principal::Admin, input(&third, "org-unknown"))
        .await
        .unwrap();
    live.review(&Principal::Admin, &third_id, true)
        .await
        .unwrap();
    let before = unsent(&live.outbox().await);
    assert_eq!(before, 2);
    assert_eq!(live.dispatch(&notifier).await.unwrap(), 0);
    assert!(sink.take().is_empty());
    let outbox = live.outbox().await;
    let still = outbox
        .iter()
        .find(|n| n.service_id.as_deref() == Some(second_id.as_str()))
        .unwrap();
    assert!(
        still.sent_at.is_none(),
        "the refused notice stays in the outbox"
    );
    assert_eq!(unsent(&outbox), 2);

    // The relay accepts again: the next dispatch delivers it; the unknown owner's waits on.
    sink.refused.lock().unwrap().clear();
    assert_eq!(live.dispatch(&notifier).await.unwrap(), 1);
    let received = sink.take();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, ["team@org-a.example"]);
    assert!(received[0].data.contains(&format!("Service: {second_id}")));
    let outbox = live.outbox().await;
    assert_eq!(unsent(&outbox), 1);
    let waiting = outbox.iter().find(|n| n.sent_at.is_none()).unwrap();
    assert_eq!(waiting.service_id.as_deref(), Some(third_id.as_str()));
}

#[tokio::test]
async fn a_relay_that_is_down_leaves_everything_unsent() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let notifier = SmtpNotifier::new(
        SmtpConfig::new("localhost", "noreply@directory.example")
            .port(port)
            .security(SmtpSecurity::Plain)
            .timeout(std::time::Duration::from_secs(5)),
        Arc::new(StaticAddressBook::new().admin("admins@directory.example")),
    )
    .unwrap();
    let notification: Notification = serde_json::from_value(json!({
        "id": "5b6f0c1e-0000-4000-8000-000000000001",
        "to": {"type": "admins"},
        "kind": "review_overdue",
        "service_id": null,
        "referral_id": null,
        "detail": "9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80",
        "created_at": "2026-11-02T09:00:00Z",
        "sent_at": null
    }))
    .unwrap();
    use open_referral_uk::live::Notifier;
    let error = notifier.send(&notification).await.unwrap_err();
    assert!(!error.contains("admins@"), "{error}");
}

fn notification(kind: &str, to: Value, detail: Option<&str>) -> Notification {
    serde_json::from_value(json!({
        "id": "5b6f0c1e-0000-4000-8000-000000000001",
        "to": to,
        "kind": kind,
        "service_id": "9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80",
        "referral_id": if kind.starts_with("referral") { json!("0c4e7a51-0000-4000-8000-0000000000aa") } else { Value::Null },
        "detail": detail,
        "created_at": "2026-11-02T09:00:00Z",
        "sent_at": null
    }))
    .unwrap()
}

#[test]
fn message_texts() {
    let nhs_number = NhsNumber::fictitious(7).expose_spaced();
    let report = format!("Closed since June; my NHS number is {nhs_number}");
    for (name, notification) in [
        (
            "referral_received",
            notification(
                "referral_received",
                json!({"type": "provider", "id": "org-a"}),
                None,
            ),
        ),
        (
            "listing_suspended",
            notification(
                "listing_suspended",
                json!({"type": "provider", "id": "org-a"}),
                None,
            ),
        ),
        (
            "claim_link",
            notification(
                "claim_link",
                json!({"type": "service_contact", "id": "9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80"}),
                Some("https://directory.example/claim/4f1d2c"),
            ),
        ),
        (
            "reported_out_of_date",
            notification(
                "reported_out_of_date",
                json!({"type": "provider", "id": "org-a"}),
                Some(&report),
            ),
        ),
    ] {
        let (subject, body) = render(&notification, Some("https://directory.example/sign-in"));
        assert!(!body.contains(&nhs_number));
        assert!(!body.contains(&nhs_number.replace(' ', "")));
        insta::assert_snapshot!(
            format!("smtp_{name}"),
            format!("Subject: {subject}\n\n{}", body.replace("\r\n", "\n"))
        );
    }
}
