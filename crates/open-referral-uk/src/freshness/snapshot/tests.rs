use super::*;

fn page(body: &str) -> Snapshot {
    Snapshot::of_page(body.as_bytes())
}

const BEFORE: &str = "<h1>Riverside Walking Group</h1><p>Updated 30 November 2026. 1,204 visits.</p>\
    <p>Call 0118 496 0000 or e-mail walks@riverside.example</p>\
    <p>Riverside Hall, Reading RG1 1AA</p><p>Tuesdays 10am - 12pm</p>";

#[test]
fn cosmetic_changes_do_not_count() {
    let after = BEFORE
        .replace("30 November 2026", "1 December 2026")
        .replace("1,204", "1,377")
        .replace("<p>Call", "<p>\n   Call");
    let comparison = compare(&page(BEFORE), &page(&after));
    assert_eq!(comparison.verdict, Verdict::Cosmetic);
    assert!(comparison.changes.is_empty());
    assert_eq!(
        compare(&page(BEFORE), &page(BEFORE)).verdict,
        Verdict::Unchanged
    );
}

#[test]
fn contact_changes_are_meaningful_and_readable() {
    let after = BEFORE
        .replace("0118 496 0000", "0118 496 0999")
        .replace("10am - 12pm", "1pm - 3pm");
    let comparison = compare(&page(BEFORE), &page(&after));
    assert_eq!(comparison.verdict, Verdict::Meaningful);
    assert_eq!(
        comparison.readable(),
        "- phone number removed: 0118 496 0000\n\
         - phone number added: 0118 496 0999\n\
         - opening times removed: tue 10:00-12:00\n\
         - opening times added: tue 13:00-15:00"
    );
}

#[test]
fn gone_unresolved_and_elsewhere_are_meaningful() {
    let before = page(BEFORE);
    for (status, text) in [
        (
            PageStatus::Gone { code: 410 },
            "- the page is gone (HTTP 410)",
        ),
        (
            PageStatus::Unresolved,
            "- the website's domain no longer resolves",
        ),
        (
            PageStatus::RedirectedElsewhere {
                host: "parked.example".into(),
            },
            "- the website now redirects to another site: parked.example",
        ),
    ] {
        let comparison = compare(&before, &Snapshot::of_status(status));
        assert_eq!(comparison.verdict, Verdict::Meaningful);
        assert!(comparison.unreachable());
        assert_eq!(comparison.readable(), text);
    }
    let gone = Snapshot::of_status(PageStatus::Gone { code: 404 });
    assert_eq!(compare(&gone, &gone).verdict, Verdict::Unchanged);
    assert_eq!(compare(&gone, &before).changes, [Change::PageBack]);
}

#[test]
fn the_diff_shapes_stay_put() {
    let after = BEFORE
        .replace("0118 496 0000", "0118 496 0999")
        .replace("walks@riverside.example", "hello@riverside.example")
        .replace("RG1 1AA", "RG1 1AB")
        .replace("Tuesdays 10am - 12pm", "Tuesdays and Thursdays 10am - 12pm")
        .replace("Riverside Walking Group", "Riverside Rambles");
    let comparison = compare(&page(BEFORE), &page(&after));
    insta::assert_snapshot!("readable_diff", comparison.readable());
    insta::assert_json_snapshot!("comparison", comparison);
    insta::assert_json_snapshot!("snapshot", page(BEFORE));
}

#[test]
fn text_changes_are_content_not_meaningful() {
    let after = BEFORE.replace("Riverside Walking Group", "Riverside Walking Club");
    let comparison = compare(&page(BEFORE), &page(&after));
    assert_eq!(comparison.verdict, Verdict::ContentChanged);
    assert_eq!(comparison.changes.len(), 2);
}
