//! The migration linter's entry point on arbitrary bytes: it must never panic, whatever the
//! file holds (binary, broken UTF-8, half statements, deep nesting). Run with
//! `cargo +nightly fuzz run lint_migration fuzz/corpus/lint_migration`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = dbarch_lint::Context {
        // Exercise the version-dependent paths too.
        server_version_num: Some(140002),
        server_major: Some(14),
        maintenance_work_mem: Some(64 << 20),
        ..Default::default()
    };
    for transactional in [None, Some(false)] {
        let _ = dbarch_lint::lint_migration_bytes("fuzz.sql", data, transactional, &ctx, None);
    }
});
