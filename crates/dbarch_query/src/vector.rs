//! pgvector: does an `ORDER BY embedding <op> ...` use its ANN index, and if not, why?
//! The query text says which operator, column, direction and LIMIT; the catalog says which
//! hnsw/ivfflat indexes exist and with which operator class.

use crate::exprs::quote_ident;
use crate::plan::Explain;
use dbarch_report::{Diagnostic, Severity};
use serde::Serialize;
use tokio_postgres::Client;

/// An hnsw or ivfflat index on a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VectorIndex {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `hnsw` or `ivfflat`.
    pub method: String,
    /// e.g. `vector_cosine_ops`.
    pub opclass: String,
    /// `None` for an expression index.
    pub column: Option<String>,
    /// `CREATE INDEX ...` as pg_get_indexdef prints it.
    pub definition: String,
}

/// pgvector's distance operators and the opclass suffix that serves each.
const OPERATORS: &[(&str, &str, &str)] = &[
    ("<->", "_l2_ops", "L2 distance"),
    ("<=>", "_cosine_ops", "cosine distance"),
    ("<#>", "_ip_ops", "negative inner product"),
    ("<+>", "_l1_ops", "L1 distance"),
    ("<~>", "_hamming_ops", "Hamming distance"),
    ("<%>", "_jaccard_ops", "Jaccard distance"),
];

pub fn uses_vector_operator(sql: &str) -> bool {
    OPERATORS.iter().any(|(op, ..)| sql.contains(op))
}

pub async fn indexes(client: &Client) -> Result<Vec<VectorIndex>, tokio_postgres::Error> {
    let rows = client
        .query(include_str!("sql/vector_indexes.sql"), &[])
        .await?;
    Ok(rows
        .iter()
        .map(|r| VectorIndex {
            schema: r.get(0),
            table: r.get(1),
            name: r.get(2),
            method: r.get(3),
            opclass: r.get(4),
            column: r.get(5),
            definition: r.get(6),
        })
        .collect())
}

/// The ORDER BY of a nearest-neighbour query, read from its text.
#[derive(Debug, PartialEq, Eq)]
struct VectorOrder {
    column: String,
    operator: &'static str,
    desc: bool,
    limit: bool,
}

fn vector_order(sql: &str) -> Option<VectorOrder> {
    let lower = sql.to_ascii_lowercase();
    let at = lower.rfind("order by")?;
    let tail = &sql[at + "order by".len()..];
    let (pos, operator) = OPERATORS
        .iter()
        .filter_map(|(op, ..)| tail.find(op).map(|p| (p, *op)))
        .min_by_key(|(p, _)| *p)?;
    let before = tail[..pos].trim_end();
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '"'))
        .map_or(0, |i| i + 1);
    let operand = &before[start..];
    let column = operand.rsplit('.').next()?.trim_matches('"').to_owned();
    if column.is_empty() {
        return None;
    }
    let rest = lower[at + "order by".len() + pos..].to_owned();
    let words: Vec<&str> = rest
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .collect();
    let limit = words.contains(&"limit") || words.contains(&"fetch");
    let until_limit = rest.split("limit").next().unwrap_or_default();
    let desc = until_limit
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "desc");
    Some(VectorOrder {
        column,
        operator,
        desc,
        limit,
    })
}

/// Q011: a vector ORDER BY that no ANN index serves. `saving` is the share of the plan's
/// time or cost spent outside an index (the work an ANN index scan would avoid).
pub fn check(sql: &str, explain: &Explain, indexes: &[VectorIndex]) -> Option<Diagnostic> {
    let order = vector_order(sql)?;
    let used = explain.nodes().into_iter().any(|(_, n)| {
        n.index_name
            .as_deref()
            .is_some_and(|i| indexes.iter().any(|x| x.name == i))
    });
    if used {
        return None;
    }
    let (_, ops_suffix, op_name) = OPERATORS
        .iter()
        .find(|(op, ..)| *op == order.operator)
        .copied()?;
    let relations: Vec<&str> = explain
        .nodes()
        .into_iter()
        .filter_map(|(_, n)| n.relation_name.as_deref())
        .collect();
    let candidates: Vec<&VectorIndex> = indexes
        .iter()
        .filter(|x| x.column.as_deref() == Some(order.column.as_str()))
        .filter(|x| relations.is_empty() || relations.contains(&x.table.as_str()))
        .collect();
    let col = quote_ident(&order.column);
    let op = order.operator;
    let table = candidates
        .first()
        .map(|x| format!("{}.{}", quote_ident(&x.schema), quote_ident(&x.table)))
        .or_else(|| relations.first().map(|r| quote_ident(r)));
    let create = |t: &str| {
        format!("CREATE INDEX CONCURRENTLY ON {t} USING hnsw ({col} vector{ops_suffix});")
    };
    let d =
        |sev, msg: String| Diagnostic::new("Q011", "vector-order-by-without-ann-index", sev, msg);
    // An expression index (e.g. on `(e::halfvec(3))`) on a scanned table serves only an
    // ORDER BY written with the same expression.
    let expression_index = indexes
        .iter()
        .find(|x| x.column.is_none() && relations.contains(&x.table.as_str()));
    let diag = if let (true, Some(x)) = (candidates.is_empty(), expression_index) {
        d(
            Severity::Warning,
            format!(
                "ORDER BY {col} {op} cannot use index {}: it is built on an expression, \
                 not on the column",
                x.name
            ),
        )
        .with_help(format!(
            "the ORDER BY must repeat the index's expression exactly: {}",
            x.definition
        ))
        .with_fix(format!(
            "ORDER BY the index's expression {op} the query vector cast the same way, LIMIT k"
        ))
        .with_object(format!("{}.{}", x.schema, x.name))
    } else if candidates.is_empty() {
        let t = table.clone().unwrap_or_else(|| "<table>".to_owned());
        d(
            Severity::Warning,
            format!(
                "ORDER BY {col} {op} is computed for every row: no hnsw or ivfflat index on {col}"
            ),
        )
        .with_help("an ANN index returns the nearest rows without reading the whole table")
        .with_fix(create(&t))
    } else if let Some(x) = candidates.iter().find(|x| !x.opclass.ends_with(ops_suffix)) {
        let served = OPERATORS
            .iter()
            .find(|(_, s, _)| x.opclass.ends_with(s))
            .map_or("another operator".to_owned(), |(o, _, n)| {
                format!("{o} ({n})")
            });
        let t = format!("{}.{}", quote_ident(&x.schema), quote_ident(&x.table));
        d(
            Severity::Warning,
            format!(
                "ORDER BY {col} {op} ({op_name}) cannot use index {}: its operator class {} \
                 serves {served}",
                x.name, x.opclass
            ),
        )
        .with_help(
            "an ANN index only serves the distance operator of its operator class; the \
             ordering is computed for every row instead",
        )
        .with_fix(format!(
            "use the index's operator ({served}) if that distance is what you mean; \
             otherwise: {}",
            create(&t)
        ))
    } else if order.desc {
        d(
            Severity::Warning,
            format!("ORDER BY {col} {op} DESC cannot use an ANN index (it returns nearest first)"),
        )
        .with_fix(format!("ORDER BY {col} {op} ... ASC (the default) LIMIT k"))
    } else if !order.limit {
        d(
            Severity::Warning,
            format!("ORDER BY {col} {op} without LIMIT cannot use an ANN index"),
        )
        .with_help("PostgreSQL uses an ANN index scan only for ORDER BY distance LIMIT k")
        .with_fix(format!("ORDER BY {col} {op} ... LIMIT k"))
    } else {
        d(
            Severity::Note,
            format!(
                "the planner did not use the ANN index on {col} for ORDER BY {col} {op}: \
                 it estimated an exact scan cheaper (small table or stale statistics)"
            ),
        )
        .with_fix(format!(
            "ANALYZE {}; then compare with SET enable_seqscan = off",
            table.unwrap_or_else(|| "<table>".to_owned())
        ))
    };
    Some(match candidates.first() {
        Some(x) => diag.with_object(format!("{}.{}", x.schema, x.name)),
        None => diag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_order_by() {
        assert_eq!(
            vector_order("select id from t order by t.embedding <-> '[1,2,3]' limit 5"),
            Some(VectorOrder {
                column: "embedding".into(),
                operator: "<->",
                desc: false,
                limit: true
            })
        );
        let o = vector_order("SELECT * FROM t ORDER BY e <=> $1 DESC").unwrap();
        assert!(o.desc && !o.limit);
        assert_eq!(vector_order("select 1 order by a"), None);
    }
}
