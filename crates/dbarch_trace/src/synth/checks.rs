//! CHECK expressions (as `pg_get_expr` prints them) read by PostgreSQL's own parser into
//! per-column bounds the generator can honour: `x > 0`, `x BETWEEN a AND b` (printed as
//! `x >= a AND x <= b`), `x IN (...)` / `x = ANY (ARRAY[...])`, `length(x) <= n`,
//! `x IS NOT NULL`, conjunctions of these.

use pg_query::NodeEnum;
use pg_query::protobuf::{AExprKind, BoolExprType, NullTestType, a_const};
use std::collections::{BTreeMap, BTreeSet};

/// What the checks say about one column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bounds {
    /// Lower bound and whether it is inclusive.
    pub lo: Option<(f64, bool)>,
    pub hi: Option<(f64, bool)>,
    /// The only values allowed, as SQL literals (`'a'`, `3`).
    pub allowed: Option<Vec<String>>,
    pub min_len: Option<u64>,
    pub max_len: Option<u64>,
    pub not_null: bool,
}

impl Bounds {
    fn lower(&mut self, v: f64, inclusive: bool) {
        match self.lo {
            Some((cur, _)) if cur > v || (cur == v && !inclusive) => {}
            _ => self.lo = Some((v, inclusive)),
        }
    }
    fn upper(&mut self, v: f64, inclusive: bool) {
        match self.hi {
            Some((cur, _)) if cur < v || (cur == v && !inclusive) => {}
            _ => self.hi = Some((v, inclusive)),
        }
    }
    fn allow(&mut self, values: Vec<String>) {
        self.allowed = Some(match self.allowed.take() {
            Some(cur) => cur.into_iter().filter(|v| values.contains(v)).collect(),
            None => values,
        });
    }
    pub fn merge(&mut self, other: &Bounds) {
        if let Some((v, inc)) = other.lo {
            self.lower(v, inc);
        }
        if let Some((v, inc)) = other.hi {
            self.upper(v, inc);
        }
        if let Some(a) = &other.allowed {
            self.allow(a.clone());
        }
        self.min_len = self.min_len.max(other.min_len);
        self.max_len = match (self.max_len, other.max_len) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.not_null |= other.not_null;
    }
}

/// A CHECK expression, read.
#[derive(Debug, Clone, Default)]
pub struct Check {
    /// Bounds per column name.
    pub bounds: BTreeMap<String, Bounds>,
    /// Every part of the expression became a bound: generated rows satisfy it.
    pub understood: bool,
    /// The columns the expression refers to.
    pub columns: BTreeSet<String>,
}

/// Reads `expr`, a boolean expression over columns. `value_name` is the name a domain
/// check's `VALUE` stands for.
pub fn read(expr: &str, value_name: Option<&str>) -> Check {
    let mut check = Check::default();
    let Ok(parsed) = pg_query::parse(&format!("SELECT {expr}"), pg_query::ParserOptions::DEFAULT)
    else {
        return check;
    };
    let Some(NodeEnum::SelectStmt(select)) = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|s| s.node.as_ref())
    else {
        return check;
    };
    let Some(NodeEnum::ResTarget(target)) =
        select.target_list.first().and_then(|t| t.node.as_ref())
    else {
        return check;
    };
    let Some(node) = target.val.as_ref().and_then(|v| v.node.as_ref()) else {
        return check;
    };
    let mut reader = Reader {
        value_name,
        check: &mut check,
    };
    let understood = reader.expr(node);
    collect_columns(node, value_name, &mut check.columns);
    check.understood = understood;
    check
}

struct Reader<'a> {
    value_name: Option<&'a str>,
    check: &'a mut Check,
}

/// A constant: a number or a string, as SQL text.
#[derive(Debug, Clone)]
enum Const {
    Number(f64, String),
    Text(String),
    Bool(bool),
}

impl Const {
    fn sql(&self) -> String {
        match self {
            Const::Number(_, s) => s.clone(),
            Const::Text(s) => dbarch_model::quote_literal(s),
            Const::Bool(b) => b.to_string(),
        }
    }
    fn number(&self) -> Option<f64> {
        match self {
            Const::Number(n, _) => Some(*n),
            Const::Text(s) => s.trim().parse().ok(),
            Const::Bool(_) => None,
        }
    }
}

impl Reader<'_> {
    fn column(&self, node: &NodeEnum) -> Option<String> {
        let NodeEnum::ColumnRef(c) = node else {
            return None;
        };
        let last = c.fields.last()?.node.as_ref()?;
        let NodeEnum::String(s) = last else {
            return None;
        };
        if c.fields.len() == 1
            && let Some(v) = self.value_name
            && s.sval.eq_ignore_ascii_case("value")
        {
            return Some(v.to_string());
        }
        Some(s.sval.clone())
    }

    /// `length(col)` / `char_length(col)`: the column.
    fn length_of(&self, node: &NodeEnum) -> Option<String> {
        let NodeEnum::FuncCall(f) = node else {
            return None;
        };
        let name = match f.funcname.last()?.node.as_ref()? {
            NodeEnum::String(s) => s.sval.as_str(),
            _ => return None,
        };
        if !matches!(name, "length" | "char_length" | "character_length") || f.args.len() != 1 {
            return None;
        }
        let arg = f.args[0].node.as_ref()?;
        let arg = strip_cast(arg);
        self.column(arg)
    }

    fn constant(node: &NodeEnum) -> Option<Const> {
        match node {
            NodeEnum::AConst(c) => match c.val.as_ref()? {
                a_const::Val::Ival(i) => Some(Const::Number(i.ival as f64, i.ival.to_string())),
                a_const::Val::Fval(f) => Some(Const::Number(f.fval.parse().ok()?, f.fval.clone())),
                a_const::Val::Sval(s) => Some(Const::Text(s.sval.clone())),
                a_const::Val::Boolval(b) => Some(Const::Bool(b.boolval)),
                _ => None,
            },
            NodeEnum::TypeCast(t) => {
                let inner = Self::constant(t.arg.as_ref()?.node.as_ref()?)?;
                // A number written as a string ('-1'::integer) is a number.
                Some(match inner {
                    Const::Text(s) if s.trim().parse::<f64>().is_ok() => {
                        Const::Number(s.trim().parse().ok()?, s.trim().to_string())
                    }
                    other => other,
                })
            }
            NodeEnum::AExpr(e)
                if e.lexpr.is_none()
                    && op_name(e).as_deref() == Some("-")
                    && e.kind == AExprKind::AexprOp as i32 =>
            {
                match Self::constant(e.rexpr.as_ref()?.node.as_ref()?)? {
                    Const::Number(n, s) => Some(Const::Number(-n, format!("-{s}"))),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn constants(node: &NodeEnum) -> Option<Vec<Const>> {
        match node {
            NodeEnum::AArrayExpr(a) => a
                .elements
                .iter()
                .map(|e| Self::constant(e.node.as_ref()?))
                .collect(),
            NodeEnum::List(l) => l
                .items
                .iter()
                .map(|e| Self::constant(e.node.as_ref()?))
                .collect(),
            NodeEnum::TypeCast(t) => Self::constants(t.arg.as_ref()?.node.as_ref()?),
            _ => None,
        }
    }

    fn bounds(&mut self, col: String) -> &mut Bounds {
        self.check.bounds.entry(col).or_default()
    }

    fn expr(&mut self, node: &NodeEnum) -> bool {
        match node {
            NodeEnum::BoolExpr(b) if b.boolop == BoolExprType::AndExpr as i32 => {
                let mut all = true;
                for a in &b.args {
                    match a.node.as_ref() {
                        Some(n) => all &= self.expr(n),
                        None => all = false,
                    }
                }
                all
            }
            NodeEnum::NullTest(t) if t.nulltesttype == NullTestType::IsNotNull as i32 => {
                match t
                    .arg
                    .as_ref()
                    .and_then(|a| a.node.as_ref())
                    .and_then(|a| self.column(a))
                {
                    Some(col) => {
                        self.bounds(col).not_null = true;
                        true
                    }
                    None => false,
                }
            }
            NodeEnum::AExpr(e) => self.a_expr(e),
            _ => false,
        }
    }

    fn a_expr(&mut self, e: &pg_query::protobuf::AExpr) -> bool {
        let (Some(l), Some(r)) = (
            e.lexpr.as_ref().and_then(|n| n.node.as_ref()),
            e.rexpr.as_ref().and_then(|n| n.node.as_ref()),
        ) else {
            return false;
        };
        let op = op_name(e).unwrap_or_default();
        let kind = e.kind;
        if kind == AExprKind::AexprOp as i32 {
            // column op constant, or constant op column (mirrored).
            let (lhs, c, op) = match (Self::constant(r), Self::constant(l)) {
                (Some(c), _) => (l, c, op),
                (None, Some(c)) => (r, c, mirror(&op).to_string()),
                _ => return false,
            };
            let lhs = strip_cast(lhs);
            if let Some(col) = self.length_of(lhs) {
                let Some(n) = c.number() else { return false };
                let b = self.bounds(col);
                return match op.as_str() {
                    ">" => {
                        b.min_len = b.min_len.max(Some(n.floor() as u64 + 1));
                        true
                    }
                    ">=" => {
                        b.min_len = b.min_len.max(Some(n.ceil().max(0.0) as u64));
                        true
                    }
                    "<" | "<=" => {
                        let max = if op == "<" { n.ceil() - 1.0 } else { n.floor() };
                        let max = max.max(0.0) as u64;
                        b.max_len = Some(b.max_len.map_or(max, |m| m.min(max)));
                        true
                    }
                    "=" => {
                        let n = n.max(0.0) as u64;
                        b.min_len = Some(n);
                        b.max_len = Some(n);
                        true
                    }
                    _ => false,
                };
            }
            let Some(col) = self.column(lhs) else {
                return false;
            };
            let b = self.bounds(col);
            return match (op.as_str(), c.number()) {
                (">", Some(n)) => {
                    b.lower(n, false);
                    true
                }
                (">=", Some(n)) => {
                    b.lower(n, true);
                    true
                }
                ("<", Some(n)) => {
                    b.upper(n, false);
                    true
                }
                ("<=", Some(n)) => {
                    b.upper(n, true);
                    true
                }
                ("=", _) => {
                    b.allow(vec![c.sql()]);
                    true
                }
                // `x <> ''`: generated text is never empty.
                ("<>", _) if matches!(&c, Const::Text(s) if s.is_empty()) => {
                    b.min_len = b.min_len.max(Some(1));
                    true
                }
                _ => false,
            };
        }
        if op == "=" && (kind == AExprKind::AexprOpAny as i32 || kind == AExprKind::AexprIn as i32)
        {
            let Some(col) = self.column(strip_cast(l)) else {
                return false;
            };
            let Some(values) = Self::constants(r) else {
                return false;
            };
            let values = values.iter().map(Const::sql).collect();
            self.bounds(col).allow(values);
            return true;
        }
        if kind == AExprKind::AexprBetween as i32 {
            let Some(col) = self.column(strip_cast(l)) else {
                return false;
            };
            let Some(values) = Self::constants(r) else {
                return false;
            };
            let (Some(lo), Some(hi)) = (
                values.first().and_then(Const::number),
                values.get(1).and_then(Const::number),
            ) else {
                return false;
            };
            let b = self.bounds(col);
            b.lower(lo, true);
            b.upper(hi, true);
            return true;
        }
        false
    }
}

fn op_name(e: &pg_query::protobuf::AExpr) -> Option<String> {
    match e.name.last()?.node.as_ref()? {
        NodeEnum::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

fn mirror(op: &str) -> &str {
    match op {
        ">" => "<",
        ">=" => "<=",
        "<" => ">",
        "<=" => ">=",
        other => other,
    }
}

/// `(col)::text` → `col`.
fn strip_cast(node: &NodeEnum) -> &NodeEnum {
    match node {
        NodeEnum::TypeCast(t) => match t.arg.as_ref().and_then(|a| a.node.as_ref()) {
            Some(inner) => strip_cast(inner),
            None => node,
        },
        _ => node,
    }
}

/// Every column name the expression mentions.
fn collect_columns(node: &NodeEnum, value_name: Option<&str>, out: &mut BTreeSet<String>) {
    for (n, _depth, _ctx, _) in node.nodes() {
        if let pg_query::NodeRef::ColumnRef(c) = n
            && let Some(NodeEnum::String(s)) = c.fields.last().and_then(|f| f.node.as_ref())
        {
            match value_name {
                Some(v) if c.fields.len() == 1 && s.sval.eq_ignore_ascii_case("value") => {
                    out.insert(v.to_string());
                }
                _ => {
                    out.insert(s.sval.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_checks_become_bounds() {
        let c = read("(price > (0)::numeric)", None);
        assert!(c.understood);
        assert_eq!(c.bounds["price"].lo, Some((0.0, false)));

        let c = read("((qty >= 1) AND (qty <= 100))", None);
        assert!(c.understood);
        assert_eq!(c.bounds["qty"].lo, Some((1.0, true)));
        assert_eq!(c.bounds["qty"].hi, Some((100.0, true)));

        let c = read("(status = ANY (ARRAY['new'::text, 'paid'::text]))", None);
        assert!(c.understood);
        assert_eq!(
            c.bounds["status"].allowed.as_deref(),
            Some(&["'new'".to_string(), "'paid'".to_string()][..])
        );

        let c = read("(t > '-5'::integer)", None);
        assert_eq!(c.bounds["t"].lo, Some((-5.0, false)));

        let c = read("(length(name) <= 10)", None);
        assert!(c.understood);
        assert_eq!(c.bounds["name"].max_len, Some(10));

        let c = read("x BETWEEN 2 AND 7", None);
        assert!(c.understood);
        assert_eq!(c.bounds["x"].hi, Some((7.0, true)));

        let c = read("((VALUE > 0) AND (VALUE < 10))", Some("n"));
        assert!(c.understood);
        assert_eq!(c.bounds["n"].lo, Some((0.0, false)));

        let c = read("(ends_at > starts_at)", None);
        assert!(!c.understood);
        assert_eq!(
            c.columns.iter().collect::<Vec<_>>(),
            ["ends_at", "starts_at"]
        );

        let c = read("((a > 0) OR (b > 0))", None);
        assert!(!c.understood);
    }
}
