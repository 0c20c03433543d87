//! The ORUK 3.0 page envelope (`total_items` … `contents`) and pagination arithmetic.

use serde::{Deserialize, Serialize};

use crate::error::OrukError;
use crate::model::Extra;

/// Default `per_page` when a request gives none (ORUK 1.0 guidance: 50).
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Largest `per_page` accepted, to bound response size.
pub const MAX_PER_PAGE: u32 = 1000;

/// One page of results in the ORUK 3.0 envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// Total matching entities.
    pub total_items: u64,
    /// Number of pages.
    pub total_pages: u64,
    /// This page's number (1-based).
    pub page_number: u64,
    /// Number of entities in this page.
    pub size: u64,
    /// Whether this is the first page.
    pub first_page: bool,
    /// Whether this is the last page.
    pub last_page: bool,
    /// Whether the whole result set is empty.
    pub empty: bool,
    /// The entities.
    pub contents: Vec<T>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A validated page request: `page` ≥ 1, 1 ≤ `per_page` ≤ [`MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    /// Validates a page number and size.
    pub fn new(page: u32, per_page: u32) -> Result<Self, OrukError> {
        if page == 0 {
            return Err(OrukError::bad_parameter(
                "page",
                "pages are numbered from 1",
            ));
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(OrukError::bad_parameter(
                "per_page",
                format!("must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Self { page, per_page })
    }

    /// The page number (1-based).
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Items per page.
    pub fn per_page(&self) -> u32 {
        self.per_page
    }

    /// Cuts one page out of the full, ordered result list. A page past the end is empty but
    /// still reports the true totals.
    pub fn paginate<T>(&self, items: Vec<T>) -> Page<T> {
        let total_items = items.len() as u64;
        let per_page = u64::from(self.per_page);
        let total_pages = total_items.div_ceil(per_page);
        let page_number = u64::from(self.page);
        let start = (page_number - 1).saturating_mul(per_page);
        let contents: Vec<T> = items
            .into_iter()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(self.per_page as usize)
            .collect();
        Page {
            total_items,
            total_pages,
            page_number,
            size: contents.len() as u64,
            first_page: page_number == 1,
            last_page: page_number >= total_pages,
            empty: total_items == 0,
            contents,
            extra: Extra::new(),
        }
    }
}

impl<T> Page<T> {
    /// Maps the contents, keeping the envelope.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            total_items: self.total_items,
            total_pages: self.total_pages,
            page_number: self.page_number,
            size: self.size,
            first_page: self.first_page,
            last_page: self.last_page,
            empty: self.empty,
            contents: self.contents.into_iter().map(f).collect(),
            extra: self.extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_page_zero_and_oversized_pages() {
        assert!(PageRequest::new(0, 10).is_err());
        assert!(PageRequest::new(1, 0).is_err());
        assert!(PageRequest::new(1, MAX_PER_PAGE + 1).is_err());
    }

    #[test]
    fn empty_result_is_first_and_last() {
        let page = PageRequest::default().paginate(Vec::<u8>::new());
        assert!(page.empty && page.first_page && page.last_page);
        assert_eq!((page.total_items, page.total_pages, page.size), (0, 0, 0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn pages_partition_the_results(total in 0usize..300, per_page in 1u32..40) {
            let items: Vec<usize> = (0..total).collect();
            let first = PageRequest::new(1, per_page).unwrap().paginate(items.clone());
            let mut seen = Vec::new();
            for page in 1..=first.total_pages.max(1) {
                let request = PageRequest::new(u32::try_from(page).unwrap(), per_page).unwrap();
                let p = request.paginate(items.clone());
                prop_assert_eq!(p.size as usize, p.contents.len());
                prop_assert_eq!(p.total_items as usize, total);
                prop_assert_eq!(p.first_page, page == 1);
                prop_assert_eq!(p.last_page, page >= p.total_pages);
                if !p.last_page { prop_assert_eq!(p.size, u64::from(per_page)); }
                seen.extend(p.contents);
            }
            prop_assert_eq!(seen, items);
        }
    }
}
