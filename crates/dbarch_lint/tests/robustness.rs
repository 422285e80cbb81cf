//! Bad input never panics and always gets a clear finding: the fuzz corpus
//! (`fuzz/corpus/lint_migration`, grown by `cargo +nightly fuzz run lint_migration`) and
//! seeded mutations of it are replayed here on every test run, plus the awkward files the
//! issue names (empty, binary, huge, psql meta-commands, broken UTF-8, deep nesting).

use dbarch_lint::{Context, lint_migration_bytes};

fn lint(bytes: &[u8]) -> Vec<dbarch_report::Diagnostic> {
    let ctx = Context {
        server_version_num: Some(140002),
        server_major: Some(14),
        maintenance_work_mem: Some(64 << 20),
        ..Default::default()
    };
    let mut out = lint_migration_bytes("f.sql", bytes, None, &ctx, None);
    out.extend(lint_migration_bytes(
        "f.sql",
        bytes,
        Some(false),
        &ctx,
        None,
    ));
    out
}

fn corpus() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        root.join("../../fuzz/corpus/lint_migration"),
        root.join("tests/suite"),
    ] {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            files.push(std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
    for entry in std::fs::read_dir(root.join("resources")).unwrap() {
        for f in std::fs::read_dir(entry.unwrap().path()).unwrap() {
            files.push(std::fs::read(f.unwrap().path()).unwrap());
        }
    }
    files
}

#[test]
fn corpus_and_mutations_never_panic() {
    let corpus = corpus();
    assert!(corpus.len() >= 20, "corpus too small: {}", corpus.len());
    let mut rng = fastrand::Rng::with_seed(20261125);
    for input in &corpus {
        lint(input);
        for _ in 0..20 {
            let mut m = input.clone();
            match rng.u8(0..4) {
                // Flip bytes.
                0 => {
                    for _ in 0..rng.usize(1..8) {
                        if !m.is_empty() {
                            let i = rng.usize(0..m.len());
                            m[i] = rng.u8(..);
                        }
                    }
                }
                // Truncate anywhere (mid-token, mid-quote, mid-UTF-8 sequence).
                1 => m.truncate(rng.usize(0..=m.len())),
                // Splice in a piece of another input.
                2 => {
                    let other = &corpus[rng.usize(0..corpus.len())];
                    let at = rng.usize(0..=m.len());
                    let from = rng.usize(0..=other.len());
                    let to = rng.usize(from..=other.len());
                    m.splice(at..at, other[from..to].iter().copied());
                }
                // Insert SQL punctuation that changes structure.
                _ => {
                    let tokens: [&[u8]; 8] =
                        [b";", b"'", b"$$", b"/*", b"--", b"(", b"\\", b"\xe9"];
                    let at = rng.usize(0..=m.len());
                    let t = tokens[rng.usize(0..tokens.len())];
                    m.splice(at..at, t.iter().copied());
                }
            }
            lint(&m);
        }
    }
}

#[test]
fn awkward_files_get_one_clear_finding() {
    let has = |bytes: &[u8], needle: &str| {
        let found = lint(bytes);
        assert!(
            found
                .iter()
                .any(|d| d.code == "M001" && d.message.contains(needle)),
            "{needle:?} not in {found:#?}"
        );
    };
    has(b"", "empty migration");
    has(
        b"  -- only a comment\n/* and another */\n",
        "empty migration",
    );
    has(b"\x00\x01binary", "binary file");
    has(b"SELECT 'caf\xe9';", "not valid UTF-8");
    has(b"\\i other.sql\nSELECT 1;\n", "meta-command \\i");
    has(b"\\set x 1\n", "meta-command \\set");
    has(b"SELECT 'unterminated;\n", "unterminated");
    // Deep nesting: the parser's stack limit is an error, not a crash.
    let deep = format!("SELECT {}1{};", "(".repeat(100_000), ")".repeat(100_000));
    assert!(!lint(deep.as_bytes()).is_empty());
}

#[test]
fn a_large_file_is_linted_and_a_huge_one_refused() {
    // ~50 MB: a schema change and a data load of multi-row INSERTs (what large migration
    // files hold), linted in bounded memory with the DDL's finding.
    let mut big = String::from("CREATE INDEX t_x_idx ON t (x);\n");
    let row = "(1, 'some text of a row', 3.25, true), ";
    let insert = format!(
        "INSERT INTO t (a, b, c, d) VALUES {}(0, '', 0, false);\n",
        row.repeat(1000)
    );
    while big.len() < 50_000_000 {
        big.push_str(&insert);
    }
    let found = lint_migration_bytes("big.sql", big.as_bytes(), None, &Context::default(), None);
    assert_eq!(
        found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
        ["M002"]
    );

    let huge = vec![b' '; dbarch_lint::migration::MAX_FILE_BYTES + 1];
    let found = lint_migration_bytes("huge.sql", &huge, None, &Context::default(), None);
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("MiB"), "{}", found[0].message);
}
