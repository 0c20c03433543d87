//! The subject and text of each notification kind.

use crate::live::core::{Notification, NotificationKind};

/// The wire name of a kind (`referral_received`), or `notification`.
fn kind_name(kind: &NotificationKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "notification".into())
}

/// Subject and body of each kind, and whether `detail` is for the recipient.
const TEXTS: &[(&str, &str, &str, bool)] = &[
    (
        "referral_received",
        "New referral waiting for your answer",
        "A new referral has been made to your service. Sign in to the marketplace to read it and to accept or decline it. A referral left unanswered for 30 days is declined automatically.",
        false,
    ),
    (
        "referral_reminder",
        "Reminder: a referral is waiting for your answer",
        "A referral to your service is still waiting for an answer. Sign in to the marketplace to accept or decline it. A referral left unanswered for 30 days is declined automatically.",
        false,
    ),
    (
        "referral_auto_declined",
        "A referral was declined automatically",
        "A referral had no answer for 30 days and has been declined automatically. Sign in to the marketplace for details.",
        false,
    ),
    (
        "referral_answered",
        "Your referral has been answered",
        "The service has answered your referral. Sign in to the marketplace to see whether it was accepted or declined.",
        false,
    ),
    (
        "listing_paused",
        "Your listing is paused",
        "Five referrals in a row were declined, so your listing is paused and takes no referrals. Sign in to the marketplace to check it and publish it again when you are ready.",
        false,
    ),
    (
        "listing_suspended",
        "Your listing is suspended: please confirm it still operates",
        "Several referrals in a row were not answered, so your listing is suspended. Sign in to the marketplace and confirm that the service still operates to restore it.",
        false,
    ),
    (
        "attendance_follow_up",
        "Did the referred person attend?",
        "A referral you accepted is due for follow-up. Sign in to the marketplace to record whether the person attended.",
        false,
    ),
    (
        "listing_reviewed",
        "Your listing has been reviewed",
        "An administrator has reviewed your listing. Sign in to the marketplace to see whether it was approved.",
        false,
    ),
    (
        "review_overdue",
        "Listings waiting more than 48 hours for review",
        "These listings have waited more than 48 hours for an administrator's review:",
        true,
    ),
    (
        "claim_link",
        "Claim your service's entry in the directory",
        "Your service was added to the directory from a bulk upload. Use this link to claim the entry and keep it up to date:",
        true,
    ),
    (
        "website_changed",
        "Your service's website changed: please check your listing",
        "Your service's website changed in a way that may affect your listing, which is suspended until you confirm or edit it.",
        true,
    ),
    (
        "review_due",
        "Listing due for review",
        "A listing is due for its regular review. Sign in to the marketplace to confirm or edit it.",
        true,
    ),
    (
        "reported_out_of_date",
        "Listing reported out of date",
        "A listing was reported out of date and is suspended until its provider confirms or edits it.",
        true,
    ),
];

/// Masks every run of exactly ten digits, allowing the 3-3-4 spacing of an NHS number
/// (`943 476 5919`, `943-476-5919`): nothing of that shape leaves in an e-mail.
fn mask_ten_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            // Read digits, allowing single spaces or hyphens between them.
            let (mut j, mut digits, mut end) = (i, 0, i);
            while j < chars.len() {
                if chars[j].is_ascii_digit() {
                    digits += 1;
                    end = j + 1;
                    j += 1;
                } else if matches!(chars[j], ' ' | '-')
                    && chars.get(j + 1).is_some_and(char::is_ascii_digit)
                    && digits > 0
                {
                    j += 1;
                } else {
                    break;
                }
            }
            if digits == 10 {
                out.push_str(nhs_identifiers::redact::REDACTED);
                i = end;
                continue;
            }
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The subject and plain-text body of a notification's e-mail: the kind's text, the
/// recipient-facing `detail` (ten-digit runs masked), the service and referral ids and the
/// sign-in link. Nothing about the referred person.
pub fn render(notification: &Notification, sign_in_url: Option<&str>) -> (String, String) {
    let name = kind_name(&notification.kind);
    let (subject, text, with_detail) = TEXTS
        .iter()
        .find(|(kind, ..)| *kind == name)
        .map_or(
            (
                "Marketplace notification",
                "There is an update about your marketplace listing or referral. Sign in to the marketplace to see it.",
                false,
            ),
            |(_, subject, text, detail)| (*subject, *text, *detail),
        );
    let mut body = String::new();
    body.push_str(text);
    body.push_str("\r\n");
    if with_detail && let Some(detail) = &notification.detail {
        body.push_str("\r\n");
        body.push_str(&mask_ten_digit_runs(detail));
        body.push_str("\r\n");
    }
    body.push_str("\r\n");
    if let Some(service_id) = &notification.service_id {
        body.push_str(&format!("Service: {service_id}\r\n"));
    }
    if let Some(referral_id) = &notification.referral_id {
        body.push_str(&format!("Referral: {referral_id}\r\n"));
    }
    if let Some(url) = sign_in_url {
        body.push_str(&format!("Sign in: {url}\r\n"));
    }
    body.push_str(&format!(
        "\r\nThis message was sent by the service directory's marketplace (notification {}, {name}).\r\n",
        notification.id
    ));
    (format!("[Directory] {subject}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_digit_runs_are_masked() {
        assert_eq!(
            mask_ten_digit_runs("NHS 943 476 5919, ref 9434765919 and 943-476-5919."),
            "NHS <redacted>, ref <redacted> and <redacted>."
        );
        assert_eq!(
            mask_ten_digit_runs("call 01234 567890 or 12345, 12345678901"),
            "call 01234 567890 or 12345, 12345678901"
        );
    }
}
