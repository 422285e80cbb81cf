//! What a workload's queries do to columns, for the schema rules that depend on how the
//! schema is used: which operators are applied to which columns (`payload @> $1`,
//! `embedding <=> $1`), read from the parse tree of each query.

use crate::migration::ast::{RelName, string_value};
use dbarch_model::{Column, Database, Table};
use pg_query::{NodeEnum, NodeRef};
use std::collections::HashMap;

/// One operator applied to a column in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorUse {
    pub schema: String,
    pub table: String,
    pub column: String,
    pub operator: String,
    /// The query, as written (first line), for messages.
    pub query: String,
}

/// The operator uses of every query of the workload that parses, resolved to the model's
/// columns (an unqualified column belongs to the one table of the query that has it).
pub fn operator_uses(db: &Database, queries: &[String]) -> Vec<OperatorUse> {
    let mut out = Vec::new();
    for q in queries {
        let Ok(parsed) = pg_query::parse(q, pg_query::ParserOptions::DEFAULT) else {
            continue;
        };
        let nodes = parsed.protobuf.nodes();
        // Relations of the query by the name it uses for them (alias or name).
        let mut rels: HashMap<String, RelName> = HashMap::new();
        for (n, ..) in &nodes {
            if let NodeRef::RangeVar(r) = n {
                let rel = RelName::of(r);
                let key = r
                    .alias
                    .as_ref()
                    .map_or_else(|| r.relname.clone(), |a| a.aliasname.clone());
                rels.insert(key, rel);
            }
        }
        let tables: Vec<&Table> = rels.values().filter_map(|r| find_table(db, r)).collect();
        let label = q
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        for (n, ..) in &nodes {
            let NodeRef::AExpr(e) = n else { continue };
            let Some(op) = e.name.iter().filter_map(string_value).next_back() else {
                continue;
            };
            for side in [e.lexpr.as_deref(), e.rexpr.as_deref()]
                .into_iter()
                .flatten()
            {
                let Some(NodeEnum::ColumnRef(c)) = side.node.as_ref() else {
                    continue;
                };
                let fields: Vec<&str> = c.fields.iter().filter_map(string_value).collect();
                let (qualifier, column) = match fields.as_slice() {
                    [col] => (None, *col),
                    [.., q, col] => (Some(*q), *col),
                    [] => continue,
                };
                let table = match qualifier {
                    Some(q) => rels.get(q).and_then(|r| find_table(db, r)),
                    None => {
                        let mut having = tables.iter().filter(|t| column_of(t, column).is_some());
                        match (having.next(), having.next()) {
                            (Some(t), None) => Some(*t),
                            _ => None,
                        }
                    }
                };
                if let Some(t) = table
                    && column_of(t, column).is_some()
                {
                    out.push(OperatorUse {
                        schema: t.schema.clone(),
                        table: t.name.clone(),
                        column: column.to_string(),
                        operator: op.to_string(),
                        query: label.to_string(),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.schema, &a.table, &a.column, &a.operator).cmp(&(
            &b.schema,
            &b.table,
            &b.column,
            &b.operator,
        ))
    });
    out.dedup_by(|a, b| {
        (&a.schema, &a.table, &a.column, &a.operator)
            == (&b.schema, &b.table, &b.column, &b.operator)
    });
    out
}

fn find_table<'a>(db: &'a Database, r: &RelName) -> Option<&'a Table> {
    db.tables
        .iter()
        .find(|t| t.name == r.name && t.schema == r.schema_or_public())
}

pub(crate) fn column_of<'a>(t: &'a Table, name: &str) -> Option<&'a Column> {
    t.columns.iter().find(|c| c.name == name)
}

/// Statements of a workload file (`;`-separated; comments kept out).
pub fn split_workload(text: &str) -> Vec<String> {
    let parts = pg_query::split_with_parser(text).or_else(|_| pg_query::split_with_scanner(text));
    parts
        .map(|ps| {
            ps.into_iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default()
}
