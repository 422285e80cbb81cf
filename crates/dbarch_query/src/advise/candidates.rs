//! Index candidates from each query's predicates, join keys, ORDER BY and GROUP BY: single
//! and multi-column (equality columns first, then a range or the sort), partial when a
//! predicate compares to a constant, INCLUDE for an index-only scan when the other columns are
//! narrow, HNSW for a pgvector `ORDER BY` without an ANN index. Deduplicated; a candidate an
//! existing index already covers (as a prefix) is left out.

use super::ast::{Analysis, Col, PredKind, quote};
use super::catalog::TableInfo;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    /// Index into the advisor's table list.
    pub table: usize,
    /// `btree` or `hnsw`.
    pub method: String,
    pub keys: Vec<String>,
    /// HNSW's operator class.
    pub opclass: Option<String>,
    pub include: Vec<String>,
    pub predicate: Option<String>,
    /// The workload queries it was derived from.
    pub queries: BTreeSet<usize>,
}

impl Candidate {
    /// `CREATE INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON t USING m (keys) INCLUDE (...) WHERE ...`.
    pub fn create_sql(&self, name: Option<&str>, table: &TableInfo, concurrently: bool) -> String {
        let mut s = String::from("CREATE INDEX ");
        if concurrently {
            s.push_str("CONCURRENTLY ");
        }
        if let Some(n) = name {
            s.push_str(&quote(n));
            s.push(' ');
        }
        s.push_str("ON ");
        s.push_str(&table.qualified());
        if self.method != "btree" {
            s.push_str(" USING ");
            s.push_str(&self.method);
        }
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| match &self.opclass {
                Some(o) => format!("{} {o}", quote(k)),
                None => quote(k),
            })
            .collect();
        s.push_str(&format!(" ({})", keys.join(", ")));
        if !self.include.is_empty() {
            let inc: Vec<String> = self.include.iter().map(|c| quote(c)).collect();
            s.push_str(&format!(" INCLUDE ({})", inc.join(", ")));
        }
        if let Some(p) = &self.predicate {
            s.push_str(" WHERE ");
            s.push_str(p);
        }
        s
    }

    /// `table_key1_key2_idx` (with `_incl` / `_part`), at most 63 bytes.
    pub fn name(&self, table: &TableInfo) -> String {
        let mut n = format!("{}_{}", table.name, self.keys.join("_"));
        match (self.method.as_str(), self.opclass.as_deref()) {
            ("btree", _) => {}
            (_, Some("gin_trgm_ops")) => n.push_str("_trgm"),
            (m, _) => {
                n.push('_');
                n.push_str(m);
            }
        }
        if !self.include.is_empty() {
            n.push_str("_incl");
        }
        if self.predicate.is_some() {
            n.push_str("_part");
        }
        n.push_str("_idx");
        let mut cut = n.len().min(63);
        while !n.is_char_boundary(cut) {
            cut -= 1;
        }
        n.truncate(cut);
        n
    }

    fn same_index(&self, o: &Candidate) -> bool {
        self.table == o.table
            && self.method == o.method
            && self.keys == o.keys
            && self.opclass == o.opclass
            && self.include == o.include
            && self.predicate == o.predicate
    }
}

/// Resolves a column of a query to one of its tables: `tables[i]` is the advisor's table of
/// the query's i-th FROM item (None: not a user table).
pub fn resolve(
    a: &Analysis,
    col: &Col,
    tables: &[Option<usize>],
    all: &[TableInfo],
) -> Option<usize> {
    match &col.qualifier {
        Some(q) => a
            .tables
            .iter()
            .zip(tables)
            .find(|(t, _)| &t.alias == q || &t.name == q)
            .and_then(|(_, i)| *i),
        None => {
            let mut found: Vec<usize> = tables
                .iter()
                .flatten()
                .copied()
                .filter(|&i| all[i].column(&col.name).is_some())
                .collect();
            found.sort();
            found.dedup();
            if found.len() == 1 {
                Some(found[0])
            } else {
                None
            }
        }
    }
}

/// Candidates of one query. `notes` collects why some were left out.
pub fn of_query(
    q: usize,
    a: &Analysis,
    tables: &[Option<usize>],
    all: &[TableInfo],
    server_major: u32,
    notes: &mut Vec<String>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut used: Vec<usize> = tables.iter().flatten().copied().collect();
    used.sort();
    used.dedup();
    let on = |c: &Col, t: usize| resolve(a, c, tables, all) == Some(t);
    for t in used {
        let info = &all[t];
        let mut eq: Vec<String> = Vec::new();
        let mut consts: Vec<String> = Vec::new();
        let mut range: Vec<String> = Vec::new();
        for p in a.preds.iter().filter(|p| on(&p.col, t)) {
            match (p.kind, &p.constant) {
                (PredKind::Eq, Some(c)) => consts.push(c.clone()),
                (PredKind::Eq, None) => push(&mut eq, &p.col.name),
                (PredKind::Range, _) => push(&mut range, &p.col.name),
            }
        }
        range.retain(|c| !eq.contains(c));
        let mut join: Vec<String> = Vec::new();
        for (l, r) in &a.joins {
            for c in [l, r] {
                if on(c, t) {
                    push(&mut join, &c.name);
                }
            }
        }
        let order: Vec<String> = if !a.order.is_empty() && a.order.iter().all(|(c, _)| on(c, t)) {
            let desc: BTreeSet<bool> = a.order.iter().map(|(_, d)| *d).collect();
            if desc.len() == 1 {
                a.order.iter().map(|(c, _)| c.name.clone()).collect()
            } else {
                Vec::new()
            }
        } else {
            Vec::new()
        };
        let group: Vec<String> = if !a.group.is_empty() && a.group.iter().all(|c| on(c, t)) {
            a.group.iter().map(|c| c.name.clone()).collect()
        } else {
            Vec::new()
        };
        let mut keysets: Vec<Vec<String>> = Vec::new();
        for c in eq.iter().chain(&range).chain(&join) {
            keysets.push(vec![c.clone()]);
        }
        if eq.len() > 1 {
            keysets.push(eq.clone());
        }
        // A join on several columns of this table (`l_partkey = ps_partkey AND l_suppkey =
        // ps_suppkey`) is served by one index on all of them, after the equality columns.
        if join.len() > 1 {
            let mut k: Vec<String> = eq.clone();
            for c in join.iter().take(3) {
                push(&mut k, c);
            }
            keysets.push(k);
        }
        if let Some(r) = range.first()
            && !eq.is_empty()
        {
            keysets.push(eq.iter().chain([r]).cloned().collect());
        }
        if !order.is_empty() {
            let with_eq: Vec<String> = eq.iter().chain(&order).cloned().collect();
            let mut dedup = Vec::new();
            for k in with_eq {
                push(&mut dedup, &k);
            }
            keysets.push(dedup);
        }
        if !group.is_empty() {
            let mut g: Vec<String> = eq.clone();
            for k in &group {
                push(&mut g, k);
            }
            keysets.push(g);
        }
        let base = |keys: Vec<String>| Candidate {
            table: t,
            method: "btree".into(),
            keys,
            opclass: None,
            include: Vec::new(),
            predicate: None,
            queries: BTreeSet::from([q]),
        };
        let mut mine: Vec<Candidate> = keysets
            .iter()
            .filter(|k| k.iter().all(|c| btree_able(info, c)))
            .map(|k| base(k.clone()))
            .collect();
        // Partial: the constant predicates become the index's WHERE.
        if !consts.is_empty() {
            let pred = consts.join(" AND ");
            let mut partial: Vec<Candidate> = mine
                .iter()
                .map(|c| Candidate {
                    predicate: Some(pred.clone()),
                    ..c.clone()
                })
                .collect();
            if !order.is_empty() && eq.is_empty() {
                partial.push(Candidate {
                    predicate: Some(pred.clone()),
                    ..base(order.clone())
                });
            }
            // Without other keys the constant columns themselves.
            if mine.is_empty() {
                let cols: Vec<String> = a
                    .preds
                    .iter()
                    .filter(|p| on(&p.col, t) && p.constant.is_some())
                    .map(|p| p.col.name.clone())
                    .collect();
                if cols.iter().all(|c| btree_able(info, c)) && !cols.is_empty() {
                    mine.push(base(cols));
                }
            }
            mine.extend(partial);
        }
        // INCLUDE: the widest keyset plus the query's other columns of this table, when few
        // and narrow, for an index-only scan.
        if !a.star
            && let Some(widest) = mine
                .iter()
                .filter(|c| c.predicate.is_none())
                .max_by_key(|c| c.keys.len())
                .cloned()
        {
            let others: Vec<String> = a
                .columns
                .iter()
                .filter(|c| on(c, t) && !widest.keys.contains(&c.name))
                .map(|c| c.name.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let narrow = others.iter().all(|c| {
                info.column(c).is_some_and(|ci| {
                    ci.avg_width.unwrap_or(64) <= 32
                        && !["vector", "halfvec", "sparsevec", "jsonb", "json"]
                            .contains(&ci.type_name.as_str())
                })
            });
            if !others.is_empty() && others.len() <= 3 && narrow {
                mine.push(Candidate {
                    include: others,
                    ..widest
                });
            }
        }
        // pgvector ORDER BY distance without an ANN index on the column.
        if let Some((c, op)) = &a.vector_order
            && on(c, t)
            && let Some(ci) = info.column(&c.name)
        {
            let has_ann = info.indexes.iter().any(|i| {
                i.valid
                    && (i.method == "hnsw" || i.method == "ivfflat")
                    && i.keys == [c.name.clone()]
            });
            let prefix = match ci.type_name.as_str() {
                "halfvec" => Some("halfvec"),
                "sparsevec" => Some("sparsevec"),
                "vector" => Some("vector"),
                _ => None,
            };
            let ops = match op.as_str() {
                "<->" => Some("l2_ops"),
                "<=>" => Some("cosine_ops"),
                "<#>" => Some("ip_ops"),
                "<+>" => Some("l1_ops"),
                _ => None,
            };
            if let (false, Some(p), Some(o)) = (has_ann, prefix, ops) {
                mine.push(Candidate {
                    method: "hnsw".into(),
                    opclass: Some(format!("{p}_{o}")),
                    ..base(vec![c.name.clone()])
                });
            }
        }
        // GIN: containment operators (jsonb, arrays, tsvector) and substring searches
        // (pg_trgm), evaluated by real builds only.
        for (c, op) in a.containment.iter().filter(|(c, _)| on(c, t)) {
            let Some(ci) = info.column(&c.name) else {
                continue;
            };
            let opclass = match (ci.type_name.as_str(), op.as_str()) {
                ("jsonb", "@>" | "@?" | "@@") => Some("jsonb_path_ops".to_owned()),
                ("jsonb", _) | ("tsvector", _) => None,
                (t, "@>" | "&&") if t.starts_with('_') => None,
                _ => continue,
            };
            mine.push(Candidate {
                method: "gin".into(),
                opclass,
                ..base(vec![c.name.clone()])
            });
        }
        for c in a.substring.iter().filter(|c| on(c, t)) {
            let Some(ci) = info.column(&c.name) else {
                continue;
            };
            if ["text", "varchar", "bpchar"].contains(&ci.type_name.as_str()) {
                mine.push(Candidate {
                    method: "gin".into(),
                    opclass: Some("gin_trgm_ops".into()),
                    ..base(vec![c.name.clone()])
                });
            }
        }
        for c in mine {
            if let Some(by) = covered_by(&c, info) {
                tracing::debug!("candidate on {} {:?} is covered by {by}", info.name, c.keys);
                continue;
            }
            if let Some(note) = skip_scan(&c, info, server_major) {
                notes.push(note);
                continue;
            }
            out.push(c);
        }
    }
    out
}

fn push(v: &mut Vec<String>, c: &str) {
    if !v.iter().any(|x| x == c) {
        v.push(c.to_owned());
    }
}

/// Types without a btree operator class are no btree keys.
fn btree_able(t: &TableInfo, col: &str) -> bool {
    t.column(col).is_some_and(|c| {
        ![
            "vector",
            "halfvec",
            "sparsevec",
            "json",
            "xml",
            "point",
            "polygon",
            "box",
            "circle",
            "line",
            "lseg",
            "path",
        ]
        .contains(&c.type_name.as_str())
    })
}

/// The existing index that makes the candidate useless: same method, no (or the same)
/// predicate, the candidate's keys as its leading keys and its INCLUDE columns inside.
pub fn covered_by(c: &Candidate, t: &TableInfo) -> Option<String> {
    t.indexes
        .iter()
        .filter(|i| i.valid && i.method == c.method)
        .filter(|i| i.predicate.is_none() || i.predicate == c.predicate)
        .find(|i| {
            i.keys.len() >= c.keys.len()
                && i.keys[..c.keys.len()] == c.keys[..]
                && c.include
                    .iter()
                    .all(|x| i.keys.contains(x) || i.include.contains(x))
                && (c.method == "btree" || c.opclass.is_none() || i.keys == c.keys)
        })
        .map(|i| i.name.clone())
}

/// On PostgreSQL 18 a btree can skip-scan its leading column: a single-column candidate on
/// the second key of an existing index whose first key has few distinct values is served.
fn skip_scan(c: &Candidate, t: &TableInfo, major: u32) -> Option<String> {
    if major < 18 || c.method != "btree" || c.keys.len() != 1 || c.predicate.is_some() {
        return None;
    }
    t.indexes
        .iter()
        .filter(|i| i.valid && i.method == "btree" && i.predicate.is_none() && i.keys.len() >= 2)
        .find(|i| {
            i.keys[1] == c.keys[0]
                && t.column(&i.keys[0])
                    .and_then(|col| col.n_distinct)
                    .is_some_and(|n| n > 0.0 && n <= 50.0)
        })
        .map(|i| {
            format!(
                "no index on {}.{} ({}): PostgreSQL 18's skip scan uses {} (its leading column has few distinct values)",
                t.schema, t.name, c.keys[0], i.name
            )
        })
}

/// Merges equal candidates (their queries united), in a stable order.
pub fn dedup(all: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for c in all {
        match out.iter_mut().find(|o| o.same_index(&c)) {
            Some(o) => o.queries.extend(c.queries),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advise::ast::analyze;
    use crate::advise::catalog::ColumnInfo;

    fn table(name: &str, cols: &[&str]) -> TableInfo {
        TableInfo {
            oid: 0,
            schema: "public".into(),
            name: name.into(),
            rows: 1000.0,
            writes: 0,
            reads: 0,
            columns: cols
                .iter()
                .map(|c| ColumnInfo {
                    name: (*c).into(),
                    type_sql: "bigint".into(),
                    type_name: "int8".into(),
                    avg_width: Some(8),
                    n_distinct: None,
                    copyable: true,
                })
                .collect(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            primary_key: Vec::new(),
        }
    }

    /// TPC-H Q20's correlated join on two columns gets one index on both.
    #[test]
    fn a_join_on_several_columns_gets_a_composite_candidate() {
        let all = vec![
            table("lineitem", &["l_partkey", "l_suppkey", "l_quantity"]),
            table("partsupp", &["ps_partkey", "ps_suppkey", "ps_availqty"]),
        ];
        let a = analyze(
            "SELECT ps_suppkey FROM partsupp WHERE ps_availqty > (SELECT 0.5 * sum(l_quantity) \
             FROM lineitem WHERE l_partkey = ps_partkey AND l_suppkey = ps_suppkey)",
        )
        .unwrap();
        let tables: Vec<Option<usize>> = a
            .tables
            .iter()
            .map(|t| all.iter().position(|i| i.name == t.name))
            .collect();
        let mut notes = Vec::new();
        let found = of_query(0, &a, &tables, &all, 18, &mut notes);
        assert!(
            found
                .iter()
                .any(|c| c.table == 0 && c.keys == ["l_partkey", "l_suppkey"]),
            "{:?}",
            found.iter().map(|c| (c.table, &c.keys)).collect::<Vec<_>>()
        );
    }
}
