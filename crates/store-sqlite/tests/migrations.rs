//! Both stores carry the same migrations: the same number is the same logical change.

// Test code: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("migrations directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|name| name.ends_with(".sql"))
        .collect()
}

#[test]
fn both_migration_directories_hold_the_same_file_names() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sqlite = names(&here.join("migrations"));
    let postgres = names(&here.join("../store-postgres/migrations"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

#[test]
fn migration_numbers_are_unique_and_follow_one_another() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let numbers: Vec<u32> = names(&here.join("migrations"))
        .iter()
        .map(|name| {
            name.split('_')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("NNNN_verb_object.sql")
        })
        .collect();
    let expected: Vec<u32> = (1..=u32::try_from(numbers.len()).unwrap()).collect();
    assert_eq!(numbers, expected);
}
