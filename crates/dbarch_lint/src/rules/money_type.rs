//! A `money` column.
//!
//! ## Why
//! `money` formats and parses values according to the server's `lc_monetary` setting: a dump
//! restored on a server with another locale reads different amounts, and input such as
//! `'1,000'` depends on it too. It has a fixed number of fractional digits (2 in most
//! locales), so sub-cent prices and currencies with 0 or 3 decimals do not fit, and it holds
//! no currency: amounts in several currencies cannot be told apart.
//!
//! ## Example
//! ```sql
//! CREATE TABLE invoices (id bigint PRIMARY KEY, total money NOT NULL);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE TABLE invoices (
//!     id bigint PRIMARY KEY,
//!     total numeric(12,2) NOT NULL,
//!     currency char(3) NOT NULL DEFAULT 'EUR'
//! );
//! ```
//! (or an integer count of the currency's minor unit).
//!
//! ## References
//! - PostgreSQL documentation, "Monetary Types" (8.2).
//! - PostgreSQL wiki, "Don't Do This": "Don't use money". See also `S006` for
//!   floating-point amounts.

use super::table_changes::flag_column_types;
use crate::migration::{State, Statement};
use dbarch_report::Diagnostic;

pub(crate) fn check(stmt: &Statement, state: &State, out: &mut Vec<Diagnostic>) {
    flag_column_types(
        stmt,
        state,
        out,
        "M034",
        |t| t.canonical() == "money",
        |_| "numeric(12,2)".to_string(),
        |object, _| format!("{object} is money: locale-dependent, fixed decimals, no currency"),
        "Store amounts as numeric(p,s) (or integer minor units) with a currency column.",
    );
}
