//! Shared readers for the operation, lock and transaction rules (not a rule itself).

use crate::migration::State;
use crate::migration::ast::RelName;
use dbarch_model::{Index, QualifiedName, Table, View, quote_ident};
use pg_query::NodeEnum;
use pg_query::protobuf::{Node, ObjectType, Token};

/// The kind of object a `DROP` statement removes.
pub(crate) fn object_type(t: i32) -> ObjectType {
    ObjectType::try_from(t).unwrap_or(ObjectType::Undefined)
}

/// The relation names of a `DROP TABLE/INDEX/...` object list (each object is a list of name
/// parts).
pub(crate) fn drop_names(objects: &[Node]) -> Vec<RelName> {
    objects
        .iter()
        .filter_map(|o| match o.node.as_ref()? {
            NodeEnum::List(l) => RelName::from_names(&l.items),
            NodeEnum::TypeName(t) => RelName::from_names(&t.names),
            NodeEnum::String(s) => Some(RelName {
                schema: None,
                name: s.sval.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// The relations of a list of `RangeVar` nodes (`TRUNCATE a, b`, `LOCK a, b`).
pub(crate) fn range_vars(nodes: &[Node]) -> Vec<RelName> {
    nodes
        .iter()
        .filter_map(|n| match n.node.as_ref()? {
            NodeEnum::RangeVar(r) => Some(RelName::of(r)),
            _ => None,
        })
        .collect()
}

/// Whether a utility option list (`REINDEX (CONCURRENTLY) ...`, `VACUUM (FULL) ...`) turns
/// `name` on. A bare option is on; `false`, `off`, `no` and `0` turn it off.
pub(crate) fn option_on(params: &[Node], name: &str) -> bool {
    params.iter().any(|p| {
        let Some(NodeEnum::DefElem(d)) = p.node.as_ref() else {
            return false;
        };
        if !d.defname.eq_ignore_ascii_case(name) {
            return false;
        }
        match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
            None => true,
            Some(NodeEnum::Boolean(b)) => b.boolval,
            Some(NodeEnum::Integer(i)) => i.ival != 0,
            Some(NodeEnum::String(s)) => !matches!(
                s.sval.to_ascii_lowercase().as_str(),
                "false" | "off" | "no" | "0"
            ),
            Some(_) => true,
        }
    })
}

/// A relation name quoted for SQL.
pub(crate) fn sql_name(rel: &RelName) -> String {
    match &rel.schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&rel.name)),
        None => quote_ident(&rel.name),
    }
}

/// The catalog's table and index of that index name.
pub(crate) fn catalog_index<'a>(
    state: &State<'a>,
    name: &RelName,
) -> Option<(&'a Table, &'a Index)> {
    let db = state.catalog?;
    let schema = name.schema_or_public();
    db.tables
        .iter()
        .filter(|t| t.schema == schema)
        .find_map(|t| {
            t.indexes
                .iter()
                .find(|i| i.name == name.name)
                .map(|i| (t, i))
        })
}

/// The catalog's table as a `RelName` (for `State::scale`).
pub(crate) fn table_rel(t: &Table) -> RelName {
    RelName {
        schema: Some(t.schema.clone()),
        name: t.name.clone(),
    }
}

/// The catalog's materialized view of that name.
pub(crate) fn catalog_matview<'a>(state: &State<'a>, rel: &RelName) -> Option<&'a View> {
    state
        .catalog?
        .view(&QualifiedName {
            schema: rel.schema_or_public().to_string(),
            name: rel.name.clone(),
        })
        .filter(|v| v.materialized)
}

/// The catalog says the table is partitioned.
pub(crate) fn is_partitioned(state: &State, rel: &RelName) -> bool {
    state.table(rel).is_some_and(|t| t.partition_key.is_some())
}

/// Where to say a statement must go when `CONCURRENTLY` cannot run where it is.
pub(crate) fn no_transaction_fix(state: &State, stmt: &str) -> String {
    if state.in_explicit_transaction() {
        format!("-- after the COMMIT of the open transaction:\n{stmt}")
    } else if state.in_transaction() {
        format!("-- dbarch:no-transaction (a migration of its own)\n{stmt}")
    } else {
        stmt.to_string()
    }
}

/// `text` with `insert` placed after the first token spelled `keyword` (case-insensitive),
/// and after a `CONCURRENTLY` that follows it. `None` when the keyword is not there.
pub(crate) fn insert_after_keyword(text: &str, keyword: &str, insert: &str) -> Option<String> {
    let scan = pg_query::scan(text).ok()?;
    let tokens: Vec<_> = scan
        .tokens
        .iter()
        .filter(|t| t.token != Token::SqlComment as i32 && t.token != Token::CComment as i32)
        .filter_map(|t| Some((usize::try_from(t.start).ok()?, usize::try_from(t.end).ok()?)))
        .collect();
    let word = |&(s, e): &(usize, usize)| text.get(s..e).unwrap_or_default();
    let i = tokens
        .iter()
        .position(|t| word(t).eq_ignore_ascii_case(keyword))?;
    let mut at = tokens[i].1;
    if let Some(next) = tokens.get(i + 1)
        && word(next).eq_ignore_ascii_case("CONCURRENTLY")
    {
        at = next.1;
    }
    Some(format!("{} {}{}", &text[..at], insert, &text[at..]))
}
