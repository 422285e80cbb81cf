//! A floating-point column (`real`, `double precision`) that holds money, judging by its name
//! (price, cost, amount, balance, total, fee, salary, revenue, payment, tax).
//!
//! ## Why
//! Binary floating point cannot represent most decimal fractions: 0.1 + 0.2 is not 0.3, sums
//! drift, and equality comparisons fail. Money needs exact decimal arithmetic.
//!
//! ## Example
//! ```sql
//! CREATE TABLE invoices (id bigint PRIMARY KEY, amount double precision);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE invoices (id bigint PRIMARY KEY, amount numeric(12, 2));
//! ```
//! Or store integer minor units (`amount_cents bigint`). Avoid the `money` type too: its
//! output depends on `lc_monetary`.
//!
//! ## References
//! - PostgreSQL documentation, "Floating-Point Types" (8.1.3) and "Arbitrary Precision Numbers" (8.1.2).

use crate::util::{own_tables, table_label, table_sql};
use crate::{Context, registry::diag};
use dbarch_model::{Database, quote_ident};
use dbarch_report::Diagnostic;

const MONEY_WORDS: &[&str] = &[
    "price", "cost", "amount", "balance", "total", "fee", "salary", "revenue", "payment", "tax",
];

fn is_money_name(name: &str) -> bool {
    name.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| {
            MONEY_WORDS
                .iter()
                .any(|w| part == *w || part == format!("{w}s"))
        })
}

pub(crate) fn check(db: &Database, _: &Context, out: &mut Vec<Diagnostic>) {
    for t in own_tables(db) {
        for c in t.columns.iter().filter(|c| c.is_local) {
            if !matches!(c.data_type.as_str(), "real" | "double precision")
                || !is_money_name(&c.name)
            {
                continue;
            }
            out.push(
                diag(
                    "S006",
                    format!(
                        "column {}.{} stores money as {}",
                        table_label(t),
                        c.name,
                        c.data_type
                    ),
                )
                .with_object(format!("{}.{}", table_label(t), c.name))
                .with_help("Use numeric (exact decimal) or integer minor units.")
                .with_fix(format!(
                    "ALTER TABLE {} ALTER COLUMN {} TYPE numeric(12, 2);",
                    table_sql(t),
                    quote_ident(&c.name)
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_names() {
        assert!(super::is_money_name("unit_price"));
        assert!(super::is_money_name("total"));
        assert!(super::is_money_name("Fees"));
        assert!(!super::is_money_name("latency"));
        assert!(!super::is_money_name("costume"));
    }
}
