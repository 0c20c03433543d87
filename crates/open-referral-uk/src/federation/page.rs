//! Reading one page of a peer's `GET /services` answer, without IO: the ORUK 3.0 envelope
//! (`total_pages`, `page_number`, `last_page`, `contents`) and, where a directory adds one, a
//! `next` link. A page that is not an ORUK 3.0 page, too large or with too many entries is
//! refused whole ([`PageError`]); an entry of the wrong shape is reported on its own
//! ([`PageEntry::Bad`], with its JSON path) and the others are kept.

use serde_json::Value;

use crate::formats;

/// Bounds on one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageLimits {
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
    /// Most entries accepted in one page (`per_page` is at most 1000 in ORUK 3.0 APIs).
    pub max_items: usize,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_items: crate::page::MAX_PER_PAGE as usize,
        }
    }
}

/// Why a page was refused whole. The text never repeats a received value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// The body is larger than [`PageLimits::max_bytes`].
    #[error("the page is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The body is not JSON.
    #[error("the page is not JSON")]
    NotJson,
    /// JSON, but not an ORUK 3.0 page (the message says what is missing).
    #[error("not an ORUK 3.0 page: {0}")]
    NotAPage(&'static str),
    /// More entries than [`PageLimits::max_items`].
    #[error("the page has {count} entries, more than {max}")]
    TooManyItems {
        /// Entries in the page.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// One entry of a page.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PageEntry {
    /// A service with a usable id.
    Item {
        /// Position in `contents`.
        index: usize,
        /// Its id (a UUID).
        id: String,
        /// Its `last_modified`, if given as text.
        last_modified: Option<String>,
    },
    /// An entry of the wrong shape.
    Bad {
        /// Position in `contents`.
        index: usize,
        /// JSON path of the problem (`$.contents[3].id`).
        path: String,
        /// What is wrong (never the received value).
        message: &'static str,
    },
}

/// A page as read.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ParsedPage {
    /// `page_number`, when given as a non-negative integer.
    pub page_number: Option<u64>,
    /// `total_pages`, when given as a non-negative integer.
    pub total_pages: Option<u64>,
    /// `last_page`, when given as a boolean.
    pub last_page: Option<bool>,
    /// A `next` link, when the directory gives one as text.
    pub next: Option<String>,
    /// The entries, in order.
    pub entries: Vec<PageEntry>,
}

impl ParsedPage {
    /// Whether this page says it is the last (or the listing is exhausted), for page `asked`.
    pub fn is_last(&self, asked: u64) -> bool {
        self.last_page == Some(true)
            || self.entries.is_empty()
            || self.total_pages.is_some_and(|total| asked >= total)
    }
}

/// Reads one page.
pub fn parse_page(bytes: &[u8], limits: &PageLimits) -> Result<ParsedPage, PageError> {
    if bytes.len() > limits.max_bytes {
        return Err(PageError::TooLarge {
            max: limits.max_bytes,
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|_| PageError::NotJson)?;
    let Value::Object(page) = value else {
        return Err(PageError::NotAPage("the body is not a JSON object"));
    };
    let contents = match page.get("contents") {
        Some(Value::Array(contents)) => contents,
        Some(_) => return Err(PageError::NotAPage("`contents` is not an array")),
        None => return Err(PageError::NotAPage("there is no `contents` array")),
    };
    if contents.len() > limits.max_items {
        return Err(PageError::TooManyItems {
            count: contents.len(),
            max: limits.max_items,
        });
    }
    let entries = contents
        .iter()
        .enumerate()
        .map(|(index, entry)| read_entry(index, entry))
        .collect();
    Ok(ParsedPage {
        page_number: page.get("page_number").and_then(Value::as_u64),
        total_pages: page.get("total_pages").and_then(Value::as_u64),
        last_page: page.get("last_page").and_then(Value::as_bool),
        next: page
            .get("next")
            .and_then(Value::as_str)
            .filter(|next| !next.is_empty())
            .map(str::to_owned),
        entries,
    })
}

fn read_entry(index: usize, entry: &Value) -> PageEntry {
    let bad = |field: &str, message| PageEntry::Bad {
        index,
        path: format!("$.contents[{index}]{field}"),
        message,
    };
    let Value::Object(service) = entry else {
        return bad("", "the entry is not a JSON object");
    };
    let id = match service.get("id") {
        Some(Value::String(id)) if formats::is_uuid(id) => id.clone(),
        Some(Value::String(_)) => return bad(".id", "`id` is not a UUID"),
        Some(_) => return bad(".id", "`id` is not a string"),
        None => return bad("", "the entry has no `id`"),
    };
    let last_modified = match service.get("last_modified") {
        Some(Value::String(text)) => Some(text.clone()),
        _ => None,
    };
    PageEntry::Item {
        index,
        id,
        last_modified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_envelope_and_reports_bad_entries_alone() {
        let body = br#"{"total_items":3,"total_pages":2,"page_number":1,"size":3,"first_page":true,
            "last_page":false,"empty":false,"contents":[
            {"id":"9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80","name":"A","last_modified":"2026-01-01T00:00:00Z"},
            {"id":"nope","name":"B"}, 7, {"name":"no id"}, {"id":12}]}"#;
        let page = parse_page(body, &PageLimits::default()).unwrap();
        assert_eq!(page.total_pages, Some(2));
        assert!(!page.is_last(1));
        assert!(page.is_last(2));
        insta::assert_debug_snapshot!(page.entries);
    }

    #[test]
    fn wrong_shapes_and_sizes_refuse_the_page() {
        let limits = PageLimits {
            max_bytes: 64,
            max_items: 2,
        };
        assert_eq!(
            parse_page(b"[1,2]", &limits),
            Err(PageError::NotAPage("the body is not a JSON object"))
        );
        assert_eq!(
            parse_page(b"{\"contents\":{}}", &limits),
            Err(PageError::NotAPage("`contents` is not an array"))
        );
        assert_eq!(
            parse_page(b"{\"content\":[]}", &limits),
            Err(PageError::NotAPage("there is no `contents` array"))
        );
        assert_eq!(
            parse_page(b"{\"contents\":[1,2,3]}", &limits),
            Err(PageError::TooManyItems { count: 3, max: 2 })
        );
        assert_eq!(
            parse_page(&[b' '; 65], &limits),
            Err(PageError::TooLarge { max: 64 })
        );
        assert_eq!(parse_page(b"\xff{", &limits), Err(PageError::NotJson));
        let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            parse_page(nested.as_bytes(), &PageLimits::default()),
            Err(PageError::NotJson)
        );
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_page(&bytes, &PageLimits::default());
        }
    }
}
