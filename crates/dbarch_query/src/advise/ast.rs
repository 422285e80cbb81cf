//! What the advisor needs to know about one statement, read from libpg_query's parse tree:
//! the tables it reads (with their aliases), its equality and range predicates, join keys,
//! ORDER BY and GROUP BY columns, the columns it touches, constant predicates (partial index
//! candidates) and which column each `$n` is compared to (to sample representative values).

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AExprKind, BoolExprType, SortByDir, a_const};

/// A column as the query writes it: an optional qualifier (table name or alias) and the name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Col {
    pub qualifier: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredKind {
    Eq,
    Range,
}

/// `col op value`, where value is a parameter, a constant or another expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Pred {
    pub col: Col,
    pub kind: PredKind,
    /// `col = <constant>` as SQL (for a partial index), when the value is a literal.
    pub constant: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StmtKind {
    Select,
    Insert,
    Update,
    Delete,
    Other,
}

impl StmtKind {
    pub fn writes(self) -> bool {
        matches!(self, StmtKind::Insert | StmtKind::Update | StmtKind::Delete)
    }
}

/// A table in FROM (or the target of UPDATE/DELETE/INSERT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub schema: Option<String>,
    pub name: String,
    /// The alias, else the name: what columns are qualified with.
    pub alias: String,
}

#[derive(Debug, Clone)]
pub struct Analysis {
    pub kind: StmtKind,
    pub tables: Vec<TableRef>,
    pub preds: Vec<Pred>,
    pub joins: Vec<(Col, Col)>,
    /// ORDER BY plain columns, with DESC.
    pub order: Vec<(Col, bool)>,
    /// `ORDER BY col <op> value` with a pgvector distance operator.
    pub vector_order: Option<(Col, String)>,
    pub group: Vec<Col>,
    /// Every column reference.
    pub columns: Vec<Col>,
    /// `SELECT *` or `t.*`.
    pub star: bool,
    /// `$n` → the column it is compared to.
    pub params: Vec<(i32, Col)>,
    /// `col @> value` and the other GIN operators (jsonb, arrays, tsvector), with the operator.
    pub containment: Vec<(Col, String)>,
    /// `col LIKE/ILIKE pattern` whose pattern may start with a wildcard (trigram candidates).
    pub substring: Vec<Col>,
    /// `$n` used as LIMIT / OFFSET.
    pub limit_params: Vec<(i32, &'static str)>,
    pub has_limit: bool,
}

/// Parses one statement. `Err` is libpg_query's message.
pub fn analyze(sql: &str) -> Result<Analysis, String> {
    let parsed = pg_query::parse(sql, 0).map_err(|e| e.to_string())?;
    let mut a = Analysis {
        kind: StmtKind::Other,
        tables: Vec::new(),
        preds: Vec::new(),
        joins: Vec::new(),
        order: Vec::new(),
        vector_order: None,
        group: Vec::new(),
        columns: Vec::new(),
        star: false,
        params: Vec::new(),
        containment: Vec::new(),
        substring: Vec::new(),
        limit_params: Vec::new(),
        has_limit: false,
    };
    let stmts = &parsed.protobuf.stmts;
    if stmts.len() != 1 {
        return Err(format!("expected one statement, found {}", stmts.len()));
    }
    let Some(node) = stmts[0].stmt.as_ref().and_then(|n| n.node.as_ref()) else {
        return Err("empty statement".into());
    };
    match node {
        NodeEnum::SelectStmt(s) => {
            a.kind = StmtKind::Select;
            select(&mut a, s);
        }
        NodeEnum::UpdateStmt(u) => {
            a.kind = StmtKind::Update;
            if let Some(r) = &u.relation {
                a.tables.push(table_ref(r));
            }
            for f in &u.from_clause {
                from_item(&mut a, f);
            }
            if let Some(w) = &u.where_clause {
                where_clause(&mut a, w);
            }
        }
        NodeEnum::DeleteStmt(d) => {
            a.kind = StmtKind::Delete;
            if let Some(r) = &d.relation {
                a.tables.push(table_ref(r));
            }
            for f in &d.using_clause {
                from_item(&mut a, f);
            }
            if let Some(w) = &d.where_clause {
                where_clause(&mut a, w);
            }
        }
        NodeEnum::InsertStmt(i) => {
            a.kind = StmtKind::Insert;
            if let Some(r) = &i.relation {
                a.tables.push(table_ref(r));
            }
        }
        _ => {}
    }
    // Every column reference anywhere (subqueries included), for INCLUDE and resolution.
    for (n, _, _, _) in parsed.protobuf.nodes() {
        match n {
            pg_query::NodeRef::ColumnRef(c) => match col_of_ref(c) {
                Some(col) => a.columns.push(col),
                None => a.star = true,
            },
            pg_query::NodeRef::ParamRef(_) => {}
            _ => {}
        }
    }
    a.columns.sort();
    a.columns.dedup();
    Ok(a)
}

fn select(a: &mut Analysis, s: &protobuf::SelectStmt) {
    if let (Some(l), Some(r)) = (&s.larg, &s.rarg) {
        select(a, l);
        select(a, r);
        return;
    }
    for f in &s.from_clause {
        from_item(a, f);
    }
    if let Some(w) = &s.where_clause {
        where_clause(a, w);
    }
    if let Some(w) = &s.with_clause {
        for cte in &w.ctes {
            if let Some(NodeEnum::CommonTableExpr(c)) = cte.node.as_ref()
                && let Some(NodeEnum::SelectStmt(inner)) =
                    c.ctequery.as_ref().and_then(|q| q.node.as_ref())
            {
                nested(a, inner);
            }
        }
    }
    for g in &s.group_clause {
        if let Some(c) = as_col(g) {
            a.group.push(c);
        }
    }
    for sort in &s.sort_clause {
        if let Some(NodeEnum::SortBy(sb)) = sort.node.as_ref() {
            let desc = sb.sortby_dir == SortByDir::SortbyDesc as i32;
            let Some(expr) = sb.node.as_deref() else {
                continue;
            };
            if let Some(c) = as_col(expr) {
                a.order.push((c, desc));
            } else if let Some(NodeEnum::AExpr(e)) = expr.node.as_ref() {
                let op = op_name(e);
                if ["<->", "<=>", "<#>", "<+>", "<~>", "<%>"].contains(&op.as_str()) {
                    let l = e.lexpr.as_deref().and_then(as_col);
                    let r = e.rexpr.as_deref().and_then(as_col);
                    if let Some(c) = l.or(r) {
                        a.vector_order = Some((c.clone(), op));
                        if let Some(n) = e
                            .rexpr
                            .as_deref()
                            .and_then(as_param)
                            .or_else(|| e.lexpr.as_deref().and_then(as_param))
                        {
                            a.params.push((n, c));
                        }
                    }
                }
            }
        }
    }
    if let Some(l) = &s.limit_count {
        a.has_limit = true;
        if let Some(n) = as_param(l) {
            a.limit_params.push((n, "limit"));
        }
    }
    if let Some(o) = &s.limit_offset
        && let Some(n) = as_param(o)
    {
        a.limit_params.push((n, "offset"));
    }
    // Parameters in the select list compared to a column (`embedding <=> $1 AS distance`).
    for t in &s.target_list {
        if let Some(NodeEnum::ResTarget(rt)) = t.node.as_ref()
            && let Some(v) = rt.val.as_deref()
        {
            params_of_expr(a, v);
        }
    }
}

/// A subquery (EXISTS, IN, scalar, CTE): its tables, predicates and join keys (correlated
/// ones included) count; its ORDER BY, GROUP BY and LIMIT do not.
fn nested(a: &mut Analysis, s: &protobuf::SelectStmt) {
    let (order, vector_order, group, limit_params, has_limit) = (
        std::mem::take(&mut a.order),
        a.vector_order.take(),
        std::mem::take(&mut a.group),
        std::mem::take(&mut a.limit_params),
        a.has_limit,
    );
    select(a, s);
    a.order = order;
    a.vector_order = vector_order;
    a.group = group;
    a.limit_params = limit_params;
    a.has_limit = has_limit;
}

fn sublink(a: &mut Analysis, n: &protobuf::Node) {
    if let Some(NodeEnum::SubLink(l)) = n.node.as_ref()
        && let Some(NodeEnum::SelectStmt(inner)) =
            l.subselect.as_ref().and_then(|q| q.node.as_ref())
    {
        nested(a, inner);
    }
}

fn params_of_expr(a: &mut Analysis, n: &protobuf::Node) {
    if let Some(NodeEnum::AExpr(e)) = n.node.as_ref() {
        let l = e.lexpr.as_deref();
        let r = e.rexpr.as_deref();
        if let (Some(c), Some(p)) = (l.and_then(as_col), r.and_then(as_param)) {
            a.params.push((p, c));
        } else if let (Some(p), Some(c)) = (l.and_then(as_param), r.and_then(as_col)) {
            a.params.push((p, c));
        }
    }
}

fn from_item(a: &mut Analysis, n: &protobuf::Node) {
    match n.node.as_ref() {
        Some(NodeEnum::RangeVar(r)) => a.tables.push(table_ref(r)),
        Some(NodeEnum::JoinExpr(j)) => {
            if let Some(l) = &j.larg {
                from_item(a, l);
            }
            if let Some(r) = &j.rarg {
                from_item(a, r);
            }
            if let Some(q) = &j.quals {
                where_clause(a, q);
            }
        }
        Some(NodeEnum::RangeSubselect(s)) => {
            if let Some(NodeEnum::SelectStmt(inner)) =
                s.subquery.as_ref().and_then(|q| q.node.as_ref())
            {
                select(a, inner);
            }
        }
        _ => {}
    }
}

fn table_ref(r: &protobuf::RangeVar) -> TableRef {
    TableRef {
        schema: (!r.schemaname.is_empty()).then(|| r.schemaname.clone()),
        name: r.relname.clone(),
        alias: r
            .alias
            .as_ref()
            .map_or_else(|| r.relname.clone(), |al| al.aliasname.clone()),
    }
}

/// Conjuncts of WHERE / ON. OR and NOT branches give no index predicates (their columns are
/// still collected as referenced columns).
fn where_clause(a: &mut Analysis, n: &protobuf::Node) {
    match n.node.as_ref() {
        Some(NodeEnum::BoolExpr(b)) if b.boolop == BoolExprType::AndExpr as i32 => {
            for arg in &b.args {
                where_clause(a, arg);
            }
        }
        Some(NodeEnum::AExpr(e)) => {
            for side in [e.lexpr.as_deref(), e.rexpr.as_deref()]
                .into_iter()
                .flatten()
            {
                sublink(a, side);
            }
            predicate(a, e)
        }
        Some(NodeEnum::SubLink(_)) => sublink(a, n),
        Some(NodeEnum::BoolExpr(b)) => {
            // OR / NOT: no index predicate, but their subqueries still read tables.
            for arg in &b.args {
                sublink(a, arg);
            }
        }
        Some(NodeEnum::NullTest(t)) => {
            // `col IS NULL` is an equality for a btree.
            if let Some(c) = t.arg.as_deref().and_then(as_col) {
                let is_null = t.nulltesttype == protobuf::NullTestType::IsNull as i32;
                a.preds.push(Pred {
                    constant: Some(format!(
                        "{} IS {}NULL",
                        quote(&c.name),
                        if is_null { "" } else { "NOT " }
                    )),
                    col: c,
                    kind: PredKind::Eq,
                });
            }
        }
        _ => {}
    }
}

fn predicate(a: &mut Analysis, e: &protobuf::AExpr) {
    let op = op_name(e);
    let l = e.lexpr.as_deref();
    let r = e.rexpr.as_deref();
    let kind = e.kind;
    if kind == AExprKind::AexprOp as i32 {
        let (col, other, op) = match (l.and_then(as_col), r.and_then(as_col)) {
            (Some(lc), Some(rc)) => {
                if op == "=" {
                    a.joins.push((lc, rc));
                }
                return;
            }
            (Some(lc), None) => (lc, r, op),
            (None, Some(rc)) => (rc, l, flip(&op)),
            (None, None) => return,
        };
        let pk = match op.as_str() {
            "=" => PredKind::Eq,
            "<" | "<=" | ">" | ">=" => PredKind::Range,
            "@>" | "?" | "?|" | "?&" | "&&" | "@@" | "@?" => {
                if let Some(p) = other.and_then(as_param) {
                    a.params.push((p, col.clone()));
                }
                a.containment.push((col, op));
                return;
            }
            "~~" | "~~*" => {
                like(a, col, other);
                return;
            }
            _ => {
                if let Some(p) = other.and_then(as_param) {
                    a.params.push((p, col));
                }
                return;
            }
        };
        let constant = other
            .and_then(as_const)
            .map(|v| format!("{} {op} {v}", quote(&col.name)));
        if let Some(p) = other.and_then(as_param) {
            a.params.push((p, col.clone()));
        }
        a.preds.push(Pred {
            col,
            kind: pk,
            constant: if pk == PredKind::Eq { constant } else { None },
        });
    } else if kind == AExprKind::AexprIn as i32 || kind == AExprKind::AexprOpAny as i32 {
        if let Some(c) = l.and_then(as_col) {
            if let Some(p) = r.and_then(as_param) {
                a.params.push((p, c.clone()));
            }
            a.preds.push(Pred {
                col: c,
                kind: PredKind::Eq,
                constant: None,
            });
        }
    } else if kind == AExprKind::AexprBetween as i32 {
        if let Some(c) = l.and_then(as_col) {
            if let Some(NodeEnum::List(list)) = r.and_then(|n| n.node.as_ref()) {
                for item in &list.items {
                    if let Some(p) = as_param(item) {
                        a.params.push((p, c.clone()));
                    }
                }
            }
            a.preds.push(Pred {
                col: c,
                kind: PredKind::Range,
                constant: None,
            });
        }
    } else if (kind == AExprKind::AexprLike as i32 || kind == AExprKind::AexprIlike as i32)
        && let Some(c) = l.and_then(as_col)
    {
        like(a, c, r);
    }
}

/// `col LIKE pattern`: a constant pattern counts when it starts with a wildcard (else a btree
/// prefix search could serve it), an expression (`'%' || $1 || '%'`) always.
fn like(a: &mut Analysis, col: Col, pattern: Option<&protobuf::Node>) {
    if let Some(p) = pattern.and_then(as_param) {
        a.params.push((p, col));
        return;
    }
    match pattern.and_then(as_const) {
        Some(text) if !(text.starts_with("'%") || text.starts_with("'_")) => {}
        _ => a.substring.push(col),
    }
}

fn flip(op: &str) -> String {
    match op {
        "<" => ">",
        ">" => "<",
        "<=" => ">=",
        ">=" => "<=",
        o => o,
    }
    .to_owned()
}

fn op_name(e: &protobuf::AExpr) -> String {
    e.name
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .next_back()
        .unwrap_or_default()
}

fn col_of_ref(c: &protobuf::ColumnRef) -> Option<Col> {
    let mut parts = Vec::new();
    for f in &c.fields {
        match f.node.as_ref() {
            Some(NodeEnum::String(s)) => parts.push(s.sval.clone()),
            _ => return None,
        }
    }
    let name = parts.pop()?;
    Some(Col {
        qualifier: parts.pop(),
        name,
    })
}

/// A plain column reference, through casts.
fn as_col(n: &protobuf::Node) -> Option<Col> {
    match n.node.as_ref()? {
        NodeEnum::ColumnRef(c) => col_of_ref(c),
        NodeEnum::TypeCast(t) => t.arg.as_deref().and_then(as_col),
        _ => None,
    }
}

fn as_param(n: &protobuf::Node) -> Option<i32> {
    match n.node.as_ref()? {
        NodeEnum::ParamRef(p) => Some(p.number),
        NodeEnum::TypeCast(t) => t.arg.as_deref().and_then(as_param),
        _ => None,
    }
}

/// A literal as SQL text.
fn as_const(n: &protobuf::Node) -> Option<String> {
    match n.node.as_ref()? {
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            a_const::Val::Ival(i) => Some(i.ival.to_string()),
            a_const::Val::Fval(f) => Some(f.fval.clone()),
            a_const::Val::Boolval(b) => Some(b.boolval.to_string()),
            a_const::Val::Sval(s) => Some(format!("'{}'", s.sval.replace('\'', "''"))),
            a_const::Val::Bsval(_) => None,
        },
        NodeEnum::TypeCast(t) => t.arg.as_deref().and_then(as_const),
        _ => None,
    }
}

/// An identifier quoted when needed.
pub fn quote(name: &str) -> String {
    crate::exprs::quote_ident(name)
}

/// libpg_query's fingerprint (same for the same query with other constants).
pub fn fingerprint(sql: &str) -> Option<String> {
    pg_query::fingerprint(sql, 0, 0).ok().map(|f| f.hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates_joins_order_params() {
        let a = analyze(
            "SELECT d.id, d.title, e.embedding <=> $1 AS distance
             FROM documents d JOIN document_embeddings e ON d.id = e.document_id
             WHERE d.category = $2 AND d.created_at > $3 AND d.kind = 'pdf'
             ORDER BY e.embedding <=> $1 LIMIT 10",
        )
        .unwrap();
        assert_eq!(a.kind, StmtKind::Select);
        assert_eq!(a.tables.len(), 2);
        assert_eq!(a.tables[0].alias, "d");
        assert_eq!(a.joins.len(), 1);
        assert_eq!(a.preds.len(), 3);
        assert_eq!(a.preds[0].kind, PredKind::Eq);
        assert_eq!(a.preds[1].kind, PredKind::Range);
        assert_eq!(a.preds[2].constant.as_deref(), Some("kind = 'pdf'"));
        assert_eq!(a.vector_order.as_ref().unwrap().1, "<=>");
        let mut ps: Vec<i32> = a.params.iter().map(|p| p.0).collect();
        ps.sort();
        ps.dedup();
        assert_eq!(ps, vec![1, 2, 3]);
        assert!(a.has_limit);
    }

    #[test]
    fn subqueries_count() {
        let a = analyze(
            "select sum(l_extendedprice) from lineitem, part
             where p_partkey = l_partkey and p_brand = 'Brand#23'
               and l_quantity < (select 0.2 * avg(l_quantity) from lineitem where l_partkey = p_partkey)
               and not exists (select 1 from orders o where o.o_orderkey = l_orderkey)
             group by p_brand",
        )
        .unwrap();
        assert_eq!(a.tables.len(), 4, "{:?}", a.tables);
        assert_eq!(a.joins.len(), 3, "{:?}", a.joins);
        assert_eq!(a.group.len(), 1);
    }

    #[test]
    fn limit_params_and_dml() {
        let a = analyze("SELECT * FROM t WHERE $1 = a ORDER BY b DESC LIMIT $2").unwrap();
        assert!(a.star);
        assert_eq!(a.params[0].1.name, "a");
        assert_eq!(a.limit_params, vec![(2, "limit")]);
        assert!(a.order[0].1);
        let d = analyze("DELETE FROM t WHERE x = $1").unwrap();
        assert_eq!(d.kind, StmtKind::Delete);
        assert_eq!(d.preds.len(), 1);
        assert!(analyze("SELEC 1").is_err());
        assert_eq!(
            fingerprint("SELECT 1 FROM t WHERE a = 1"),
            fingerprint("select 1 from t where a = 2")
        );
    }
}
