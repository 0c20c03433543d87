#![no_main]
// ORUK federation: one page of a peer's `GET /services` answer. Never panics; a refused page
// is refused whole; every entry is either a service id that is a UUID or a problem whose JSON
// path points into `contents`; at most `max_items` entries.
use libfuzzer_sys::fuzz_target;
use open_referral_uk::federation::page::{PageEntry, PageLimits, parse_page};
use open_referral_uk::formats::is_uuid;

fuzz_target!(|data: &[u8]| {
    let limits = PageLimits::default();
    if let Ok(page) = parse_page(data, &limits) {
        assert!(page.entries.len() <= limits.max_items);
        for entry in &page.entries {
            match entry {
                PageEntry::Item { id, .. } => assert!(is_uuid(id)),
                PageEntry::Bad { index, path, .. } => {
                    assert!(path.starts_with(&format!("$.contents[{index}]")));
                }
                _ => {}
            }
        }
        let _ = page.is_last(1);
    }
});
