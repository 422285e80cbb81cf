//! Every supported directory layout, parsed from a tempdir.

use dbarch_migrate::{Error, Format, load};
use std::path::Path;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn versions(dir: &Path) -> Vec<String> {
    load(dir).unwrap().into_iter().map(|m| m.version).collect()
}

#[test]
fn native_and_sqlx_simple() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            (
                "20250102000000_b.sql",
                "-- dbarch:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (x);",
            ),
            ("20250102000000_b.down.sql", "DROP INDEX i;"),
            ("20250101000000_a.sql", "CREATE TABLE a (x int);"),
            ("20250101000000_a.down.sql", "DROP TABLE a;"),
            ("3_sqlx.sql", "-- no-transaction\nVACUUM a;"),
            ("README.md", "not a migration"),
        ],
    );
    let ms = load(d.path()).unwrap();
    let v: Vec<_> = ms.iter().map(|m| m.version.as_str()).collect();
    assert_eq!(v, ["3", "20250101000000", "20250102000000"]);
    assert!(!ms[0].up.transactional, "sqlx -- no-transaction");
    assert!(ms[1].up.transactional);
    assert_eq!(ms[1].name, "a");
    assert_eq!(ms[1].format, Format::Native);
    assert_eq!(ms[1].down.as_ref().unwrap().sql, "DROP TABLE a;");
    assert!(!ms[2].up.transactional, "dbarch:no-transaction");
    assert!(ms[0].down.is_none());
    assert_eq!(ms[1].checksum.len(), 64);
    assert_eq!(
        ms[1].checksum,
        dbarch_migrate::checksum("CREATE TABLE a (x int);")
    );
}

#[test]
fn golang_migrate_and_sqlx_reversible() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("10_ten.up.sql", "CREATE TABLE t10 ();"),
            ("10_ten.down.sql", "DROP TABLE t10;"),
            ("9_nine.up.sql", "BEGIN;\nCREATE TABLE t9 ();\nCOMMIT;"),
            ("9_nine.down.sql", "DROP TABLE t9;"),
        ],
    );
    let ms = load(d.path()).unwrap();
    assert_eq!(versions(d.path()), ["9", "10"], "numeric order");
    assert_eq!(ms[0].format, Format::UpDown);
    assert!(!ms[0].up.transactional, "its own BEGIN/COMMIT");
    assert!(ms[1].up.transactional);
    assert!(ms[1].down.is_some());
}

#[test]
fn dbmate_sections() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            (
                "20240101000000_users.sql",
                "-- migrate:up\nCREATE TABLE users ();\n\n-- migrate:down\nDROP TABLE users;\n",
            ),
            (
                "20240102000000_idx.sql",
                "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON users ((1));\n-- migrate:down\nDROP INDEX i;\n",
            ),
        ],
    );
    let ms = load(d.path()).unwrap();
    assert_eq!(ms[0].format, Format::Dbmate);
    assert_eq!(ms[0].up.sql.trim(), "CREATE TABLE users ();");
    assert_eq!(ms[0].down.as_ref().unwrap().sql.trim(), "DROP TABLE users;");
    assert!(!ms[1].up.transactional);
    assert!(ms[1].down.as_ref().unwrap().transactional);
}

#[test]
fn flyway_numeric_versions_and_undo() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("V1_10__later.sql", "SELECT 3;"),
            ("V1.9__earlier.sql", "SELECT 2;"),
            ("V1__first.sql", "SELECT 1;"),
            ("U1__first.sql", "SELECT -1;"),
        ],
    );
    let ms = load(d.path()).unwrap();
    assert_eq!(versions(d.path()), ["1", "1.9", "1.10"]);
    assert_eq!(ms[0].format, Format::Flyway);
    assert_eq!(ms[0].name, "first");
    assert_eq!(ms[0].down.as_ref().unwrap().sql, "SELECT -1;");
    assert!(ms[1].down.is_none());
}

#[test]
fn diesel_directories() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            (
                "2024-01-02-000000_second/up.sql",
                "CREATE INDEX CONCURRENTLY i ON t (a);",
            ),
            ("2024-01-02-000000_second/down.sql", "DROP INDEX i;"),
            (
                "2024-01-02-000000_second/metadata.toml",
                "run_in_transaction = false\n",
            ),
            ("2024-01-01-000000_first/up.sql", "CREATE TABLE t (a int);"),
            ("2024-01-01-000000_first/down.sql", "DROP TABLE t;"),
        ],
    );
    let ms = load(d.path()).unwrap();
    assert_eq!(versions(d.path()), ["20240101000000", "20240102000000"]);
    assert_eq!(ms[0].format, Format::Diesel);
    assert_eq!(ms[0].name, "first");
    assert!(ms[0].up.transactional);
    assert!(!ms[1].up.transactional);
    assert!(!ms[1].down.as_ref().unwrap().transactional);
}

#[test]
fn bad_directories_name_the_file() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[("1_a.sql", "SELECT 1;"), ("01_b.sql", "SELECT 2;")],
    );
    let e = load(d.path()).unwrap_err();
    assert!(matches!(e, Error::Input { .. }));
    let msg = e.to_string();
    assert!(msg.contains("duplicate migration version"), "{msg}");
    assert!(msg.contains("1_a.sql") && msg.contains("01_b.sql"), "{msg}");

    let d = tempfile::tempdir().unwrap();
    write(d.path(), &[("create_users.sql", "SELECT 1;")]);
    let msg = load(d.path()).unwrap_err().to_string();
    assert!(
        msg.contains("create_users.sql") && msg.contains("not a migration file name"),
        "{msg}"
    );

    let d = tempfile::tempdir().unwrap();
    write(d.path(), &[("2_x.down.sql", "SELECT 1;")]);
    let msg = load(d.path()).unwrap_err().to_string();
    assert!(
        msg.contains("2_x.down.sql") && msg.contains("without its up"),
        "{msg}"
    );

    assert!(load(&d.path().join("missing")).unwrap().is_empty());
}
