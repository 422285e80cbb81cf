//! A name longer than 63 bytes given to a table, column, index, constraint, sequence, view,
//! type or function.
//!
//! ## Why
//! PostgreSQL keeps at most 63 bytes of an identifier (`NAMEDATALEN - 1`) and silently cuts
//! the rest, with only a `NOTICE` most tools never show. The object then has a name the
//! migration does not spell: code, ORMs and later migrations that use the full name still
//! work (PostgreSQL cuts their spelling the same way), but tools that compare names — schema
//! diffs, ORMs reading the catalog, error messages naming a constraint — see a different
//! one. Two long names that differ only after byte 63 become the same name, and the second
//! `CREATE` fails (or, with `IF NOT EXISTS`, silently does nothing). Bytes, not characters:
//! a name in a non-ASCII script reaches the limit at about 30 characters.
//!
//! ## Example
//! ```sql
//! CREATE INDEX orders_customer_id_created_at_status_shipping_country_partial_idx
//!     ON orders (customer_id, created_at, status, shipping_country);
//! ```
//!
//! ## Instead
//! ```sql
//! CREATE INDEX orders_customer_created_status_country_idx
//!     ON orders (customer_id, created_at, status, shipping_country);
//! ```
//!
//! ## References
//! - PostgreSQL documentation, "Identifiers and Key Words" (4.1.1): identifiers longer than
//!   `NAMEDATALEN - 1` bytes are truncated.

use crate::migration::ast::{RelName, alter_cmds, cmd_type, column_constraints};
use crate::migration::{State, Statement};
use dbarch_model::quote_ident;
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, Node, Token};

/// The longest identifier PostgreSQL keeps, in bytes.
const MAX: usize = 63;

pub(crate) fn check(stmt: &Statement, _: &State, out: &mut Vec<Diagnostic>) {
    let defined = defined_names(stmt.node);
    // The parser has already cut the names: find the tokens they were cut from.
    if !defined.iter().any(|n| n.len() + 4 > MAX) {
        return;
    }
    let text = stmt.text();
    let Ok(scan) = pg_query::scan(text) else {
        return;
    };
    let mut seen: Vec<String> = Vec::new();
    for t in &scan.tokens {
        if t.token != Token::Ident as i32 {
            continue;
        }
        let (Ok(s), Ok(e)) = (usize::try_from(t.start), usize::try_from(t.end)) else {
            continue;
        };
        let Some(raw) = text.get(s..e) else { continue };
        let full = identifier_value(raw);
        if full.len() <= MAX {
            continue;
        }
        let cut = truncate(&full);
        if !defined.contains(&cut) || seen.contains(&full) {
            continue;
        }
        seen.push(full.clone());
        let fix = format!("{}{}{};", &text[..s], quote_ident(&cut), &text[e..]);
        out.push(
            stmt.diag(
                "M039",
                format!(
                    "identifier \"{full}\" is {} bytes; PostgreSQL silently cuts it to 63: \
                     \"{cut}\"",
                    full.len()
                ),
            )
            .with_object(cut.clone())
            .with_help(
                "Choose a name of at most 63 bytes, so that the object is called what the \
                 migration says.",
            )
            .with_fix(fix),
        );
    }
}

/// The identifier a token spells: quotes removed (`""` is `"`), or folded to lower case.
fn identifier_value(raw: &str) -> String {
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => raw.to_ascii_lowercase(),
    }
}

/// The first 63 bytes, not splitting a character (as `pg_mbcliplen` does).
fn truncate(s: &str) -> String {
    let mut end = MAX.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Names the statement gives to new objects (as the parser cut them).
fn defined_names(node: &NodeEnum) -> Vec<String> {
    let mut out = Vec::new();
    let column = |c: &pg_query::protobuf::ColumnDef, out: &mut Vec<String>| {
        out.push(c.colname.clone());
        out.extend(column_constraints(c).map(|k| k.conname.clone()));
    };
    let last = |names: &[Node]| RelName::from_names(names).map(|r| r.name);
    match node {
        NodeEnum::CreateStmt(c) => {
            out.extend(c.relation.as_ref().map(|r| r.relname.clone()));
            for elt in &c.table_elts {
                match elt.node.as_ref() {
                    Some(NodeEnum::ColumnDef(col)) => column(col, &mut out),
                    Some(NodeEnum::Constraint(k)) => out.push(k.conname.clone()),
                    _ => {}
                }
            }
        }
        NodeEnum::AlterTableStmt(a) => {
            for cmd in alter_cmds(a) {
                match (
                    cmd_type(cmd),
                    cmd.def.as_ref().and_then(|d| d.node.as_ref()),
                ) {
                    (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(col))) => {
                        column(col, &mut out)
                    }
                    (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(k))) => {
                        out.push(k.conname.clone())
                    }
                    _ => {}
                }
            }
        }
        NodeEnum::IndexStmt(ix) => out.push(ix.idxname.clone()),
        NodeEnum::CreateSeqStmt(s) => out.extend(s.sequence.as_ref().map(|r| r.relname.clone())),
        NodeEnum::CreateEnumStmt(e) => out.extend(last(&e.type_name)),
        NodeEnum::CompositeTypeStmt(c) => {
            out.extend(c.typevar.as_ref().map(|r| r.relname.clone()));
            for n in &c.coldeflist {
                if let Some(NodeEnum::ColumnDef(col)) = n.node.as_ref() {
                    out.push(col.colname.clone());
                }
            }
        }
        NodeEnum::CreateDomainStmt(d) => {
            out.extend(last(&d.domainname));
            for n in &d.constraints {
                if let Some(NodeEnum::Constraint(k)) = n.node.as_ref() {
                    out.push(k.conname.clone());
                }
            }
        }
        NodeEnum::CreateFunctionStmt(f) => out.extend(last(&f.funcname)),
        NodeEnum::RenameStmt(r) => out.push(r.newname.clone()),
        NodeEnum::ViewStmt(v) => {
            out.extend(v.view.as_ref().map(|r| r.relname.clone()));
            out.extend(
                v.aliases
                    .iter()
                    .filter_map(crate::migration::ast::string_value)
                    .map(str::to_string),
            );
        }
        NodeEnum::CreateTableAsStmt(c) => {
            if let Some(into) = &c.into {
                out.extend(into.rel.as_ref().map(|r| r.relname.clone()));
                out.extend(
                    into.col_names
                        .iter()
                        .filter_map(crate::migration::ast::string_value)
                        .map(str::to_string),
                );
            }
        }
        _ => {}
    }
    out.retain(|n| !n.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        let s = "é".repeat(40); // 80 bytes
        assert_eq!(truncate(&s).len(), 62);
        assert_eq!(identifier_value("\"A\"\"b\""), "A\"b");
        assert_eq!(identifier_value("AbC"), "abc");
    }
}
