//! HAZARDS.md names, for every control, the tests that prove it. This test fails when a named
//! test no longer exists (renamed, moved or deleted), or when a hazard the log must cover has
//! lost its section or its tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

/// Each `path/file.rs::test_name` reference in the text, in order.
fn test_references(text: &str) -> Vec<(String, String)> {
    let mut refs = Vec::new();
    for chunk in text.split('`').skip(1).step_by(2) {
        let Some((path, name)) = chunk.split_once("::") else {
            continue;
        };
        if path.ends_with(".rs")
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            refs.push((path.to_owned(), name.to_owned()));
        }
    }
    refs
}

/// True when `source` defines a function called `name` (`fn name(`, `fn name<`, async too).
fn defines_fn(source: &str, name: &str) -> bool {
    source.match_indices("fn ").any(|(i, _)| {
        let rest = &source[i + 3..];
        rest.strip_prefix(name)
            .and_then(|after| after.chars().next())
            .is_some_and(|c| c == '(' || c == '<')
    })
}

#[test]
fn every_named_test_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let log = std::fs::read_to_string(root.join("HAZARDS.md")).unwrap();
    let refs = test_references(&log);
    assert!(
        refs.len() >= 20,
        "HAZARDS.md names too few tests: {}",
        refs.len()
    );
    let mut missing = Vec::new();
    for (path, name) in &refs {
        match std::fs::read_to_string(root.join(path)) {
            Ok(source) if defines_fn(&source, name) => {}
            Ok(_) => missing.push(format!("{path}::{name} (no such function in the file)")),
            Err(_) => missing.push(format!("{path}::{name} (no such file)")),
        }
    }
    assert!(
        missing.is_empty(),
        "HAZARDS.md names tests that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_required_hazard_has_a_section_with_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let log = std::fs::read_to_string(root.join("HAZARDS.md")).unwrap();
    let required = [
        "Gateway user's name",
        "wrong patient",
        "lost when a gateway fails",
        "filed twice after a time-out",
        "wrong ward's or day's task",
        "non-clinical places",
        "silently dropped by SystmOne",
        "delivered twice or never acknowledged",
        "closed service",
    ];
    let sections: Vec<&str> = log.split("\n## ").skip(1).collect();
    for hazard in required {
        let section = sections
            .iter()
            .find(|s| s.lines().next().is_some_and(|title| title.contains(hazard)))
            .unwrap_or_else(|| panic!("no section for the hazard {hazard:?}"));
        for field in [
            "**Cause**",
            "**Effect**",
            "**Before**",
            "**After**",
            "**Controls and their tests**",
        ] {
            assert!(section.contains(field), "{hazard:?} lacks {field}");
        }
        assert!(
            !test_references(section).is_empty(),
            "{hazard:?} names no test"
        );
    }
}

#[test]
fn the_reference_parser_finds_what_it_should() {
    let text =
        "a `crates/x/src/a.rs::one_test` b `not a ref` `tests/b.rs::two` `c.rs::` `d.rs::a b`";
    assert_eq!(
        test_references(text),
        vec![
            ("crates/x/src/a.rs".to_owned(), "one_test".to_owned()),
            ("tests/b.rs".to_owned(), "two".to_owned()),
        ]
    );
    assert!(defines_fn("async fn two() {}", "two"));
    assert!(!defines_fn("fn two_more() {}", "two"));
}
