//! sqlx: `-- no-transaction` on the first line turns off the wrapping transaction.

pub(super) fn has_no_transaction_marker(sql: &str) -> bool {
    sql.lines()
        .next()
        .is_some_and(|l| l.trim().eq_ignore_ascii_case("-- no-transaction"))
}
