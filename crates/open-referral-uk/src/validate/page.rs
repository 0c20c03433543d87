//! A page of a list endpoint: the envelope, its consistency and every item.

use serde_json::Value;

use super::spec::{SERVICE, SERVICE_AT_LOCATION_ITEM, Spec, TAXONOMY, TAXONOMY_TERM};
use super::walker::{Walker, type_name};
use super::{PageKind, Report, Rule, Severity, ValidationContext};

/// Validates a page of a list endpoint: the envelope, its consistency and every item.
pub fn validate_page(document: &Value, kind: PageKind, context: &ValidationContext) -> Report {
    let mut walker = Walker::new(context);
    let item_spec: &Spec = match kind {
        PageKind::Services => &SERVICE,
        PageKind::ServiceAtLocations => &SERVICE_AT_LOCATION_ITEM,
        PageKind::Taxonomies => &TAXONOMY,
        PageKind::TaxonomyTerms => &TAXONOMY_TERM,
    };
    let Some(envelope) = document.as_object() else {
        walker.push(Severity::Error, Rule::Type, "$", "expected a page object");
        return walker.finish();
    };
    let integer = |name: &str, walker: &mut Walker<'_>| -> Option<u64> {
        let path = format!("$.{name}");
        match envelope.get(name) {
            None => {
                walker.push(
                    Severity::Error,
                    Rule::Required,
                    &path,
                    format!("page envelope field `{name}` is missing"),
                );
                None
            }
            Some(value) => match value.as_u64() {
                Some(n) => Some(n),
                None => {
                    walker.push(
                        Severity::Error,
                        Rule::Type,
                        &path,
                        format!(
                            "`{name}` must be a non-negative integer, found {}",
                            type_name(value)
                        ),
                    );
                    None
                }
            },
        }
    };
    let total_items = integer("total_items", &mut walker);
    let total_pages = integer("total_pages", &mut walker);
    let page_number = integer("page_number", &mut walker);
    let size = integer("size", &mut walker);
    let boolean = |name: &str, walker: &mut Walker<'_>| -> Option<bool> {
        let path = format!("$.{name}");
        match envelope.get(name) {
            None => {
                walker.push(
                    Severity::Error,
                    Rule::Required,
                    &path,
                    format!("page envelope field `{name}` is missing"),
                );
                None
            }
            Some(Value::Bool(b)) => Some(*b),
            Some(value) => {
                walker.push(
                    Severity::Error,
                    Rule::Type,
                    &path,
                    format!("`{name}` must be a boolean, found {}", type_name(value)),
                );
                None
            }
        }
    };
    let first_page = boolean("first_page", &mut walker);
    let last_page = boolean("last_page", &mut walker);
    let empty = boolean("empty", &mut walker);
    let contents = match envelope.get("contents") {
        None => {
            walker.push(
                Severity::Error,
                Rule::Required,
                "$.contents",
                "page envelope field `contents` is missing",
            );
            None
        }
        Some(Value::Array(items)) => Some(items),
        Some(value) => {
            walker.push(
                Severity::Error,
                Rule::Type,
                "$.contents",
                format!("`contents` must be an array, found {}", type_name(value)),
            );
            None
        }
    };
    for key in envelope.keys() {
        if !PAGE_FIELDS.contains(&key.as_str()) && context.report_additional_fields {
            walker.push(
                Severity::Info,
                Rule::AdditionalField,
                &format!("$.{key}"),
                format!("field `{key}` is not defined in the page envelope"),
            );
        }
    }
    if let Some(items) = contents {
        let len = items.len() as u64;
        if let Some(size) = size
            && size != len
        {
            walker.push(
                Severity::Warning,
                Rule::PageEnvelope,
                "$.size",
                format!("size is {size} but the page contains {len} items"),
            );
        }
        if let Some(total) = total_items
            && total < len
        {
            walker.push(
                Severity::Warning,
                Rule::PageEnvelope,
                "$.total_items",
                format!("total_items is {total} but this page alone contains {len} items"),
            );
        }
        if total_items == Some(0) && len == 0 {
            walker.push(
                Severity::Warning,
                Rule::EmptyFeed,
                "$.contents",
                "the feed returned no items",
            );
        }
        for (index, item) in items.iter().enumerate() {
            walker.object(item, item_spec, &format!("$.contents[{index}]"));
        }
    }
    if let (Some(total), Some(empty)) = (total_items, empty)
        && empty != (total == 0)
    {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.empty",
            format!("empty is {empty} but total_items is {total}"),
        );
    }
    if let (Some(page), Some(first)) = (page_number, first_page)
        && first != (page == 1)
    {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.first_page",
            format!("first_page is {first} on page {page}"),
        );
    }
    if page_number == Some(0) {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.page_number",
            "pages are numbered from 1",
        );
    }
    if let (Some(page), Some(pages), Some(last)) = (page_number, total_pages, last_page)
        && last != (page >= pages)
    {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.last_page",
            format!("last_page is {last} on page {page} of {pages}"),
        );
    }
    if let (Some(total), Some(pages)) = (total_items, total_pages)
        && ((total > 0 && pages == 0) || pages > total.max(1))
    {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.total_pages",
            format!("total_pages is {pages} for {total} items"),
        );
    }
    walker.finish()
}

const PAGE_FIELDS: &[&str] = &[
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
];
