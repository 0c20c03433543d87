use super::*;

#[test]
fn uk_phone_numbers_in_their_usual_spellings() {
    let line = "Call 0118 496 0000, +44 (0)118 496 0001, 0118-496-0002 or 020 7946 0018; \
                mobile 07700 900123; freephone 0800 123 456";
    assert_eq!(
        phones(line),
        [
            "0118 496 0000",
            "0118 496 0001",
            "0118 496 0002",
            "020 7946 0018",
            "07700 900123",
            "0800 123 456",
        ]
    );
    assert!(phones("Registered charity 1234567, on 30/11/2026, ref ABC0118496000").is_empty());
    assert!(phones("Opened in 2024-11-30 with 12345678901234 visitors").is_empty());
}

#[test]
fn emails_and_postcodes() {
    assert_eq!(
        emails("Write to Hello.Team@Riverside.example. Or x@y, or a@b.c1"),
        ["hello.team@riverside.example"]
    );
    assert_eq!(
        postcodes("Riverside Hall, Reading RG1 1AA (parking at RG11AB); not rg1 1aa or ABC DEF"),
        ["RG1 1AA", "RG1 1AB"]
    );
}

#[test]
fn opening_times_normalise() {
    assert_eq!(
        opening_times("Monday to Friday 9am - 5pm").as_deref(),
        Some("mon-fri 09:00-17:00")
    );
    assert_eq!(
        opening_times("Mon–Fri: 09:00–17:00, Sat 10.00 until 14.00").as_deref(),
        Some("mon-fri 09:00-17:00 sat 10:00-14:00")
    );
    assert_eq!(
        opening_times("Tuesdays 1-3pm").as_deref(),
        Some("tue 13:00-15:00")
    );
    assert_eq!(opening_times("Last updated 12:34 on 3 March"), None);
    assert_eq!(opening_times("Ages 9 - 16"), None);
}

#[test]
fn links_count() {
    let details = extract(
        &[],
        &[
            "mailto:Info@Riverside.example?subject=hi".into(),
            "tel:+441184960000".into(),
        ],
    );
    assert_eq!(
        details.emails.iter().collect::<Vec<_>>(),
        ["info@riverside.example"]
    );
    assert_eq!(details.phones.iter().collect::<Vec<_>>(), ["0118 496 0000"]);
}
