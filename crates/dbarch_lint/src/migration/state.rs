//! What a migration file has done before the statement being checked: the objects it
//! created, whether a transaction is open, what it added in that transaction. Rules read it;
//! the driver updates it after each statement.

use super::Statement;
use super::ast::{self, RelName, TypeRef};
use crate::Context;
use dbarch_model::{Database, QualifiedName, Table};
use dbarch_report::Diagnostic;
use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ConstrType, TransactionStmtKind};

pub struct State<'a> {
    pub ctx: &'a Context,
    /// The target's schema with statistics (`--url`), when known.
    pub catalog: Option<&'a Database>,
    /// The runner wraps the whole file in one transaction.
    pub file_transactional: bool,
    /// Inside an explicit `BEGIN` ... `COMMIT`.
    explicit: bool,
    /// Tables, materialized views and indexes created by earlier statements of the file.
    created: Index<()>,
    /// Types created by the file, and whether each is an enum.
    created_types: Vec<(RelName, bool)>,
    /// Column types the file declared: (table, column) → type.
    columns: Index<TypeRef>,
    /// Columns added by the file (`CREATE TABLE` or `ADD COLUMN`): (table, column).
    added_columns: Index<()>,
    /// Constraints added in the open transaction: (table, name, NOT VALID).
    tx_constraints: Vec<(RelName, String, bool)>,
    /// `ALTER TABLE` statements per table in the open transaction: (table, count).
    tx_alters: Vec<(RelName, usize)>,
    /// CHECK constraints of the form `col IS NOT NULL` the file added (validated or not):
    /// (table, constraint name, column, validated).
    not_null_checks: Vec<(RelName, String, String, bool)>,
    /// A `SET lock_timeout` ran earlier in the file.
    pub lock_timeout_set: bool,
    /// Statements of the file so far that ran in the open transaction.
    pub tx_statements: usize,
}

impl<'a> State<'a> {
    pub(crate) fn new(
        ctx: &'a Context,
        catalog: Option<&'a Database>,
        transactional: bool,
    ) -> Self {
        State {
            ctx,
            catalog,
            file_transactional: transactional,
            explicit: false,
            created: Index::default(),
            created_types: Vec::new(),
            columns: Index::default(),
            added_columns: Index::default(),
            tx_constraints: Vec::new(),
            tx_alters: Vec::new(),
            not_null_checks: Vec::new(),
            lock_timeout_set: false,
            tx_statements: 0,
        }
    }

    /// The statement being checked runs inside a transaction block (the runner's, or an
    /// explicit `BEGIN`).
    pub fn in_transaction(&self) -> bool {
        self.file_transactional || self.explicit
    }

    /// An explicit `BEGIN` is open.
    pub fn in_explicit_transaction(&self) -> bool {
        self.explicit
    }

    /// The relation was created earlier in this file: nobody else can be using it yet, so
    /// lock and rewrite rules do not apply.
    pub fn is_new(&self, rel: &RelName) -> bool {
        self.created.get(rel, "").is_some()
    }

    /// The type was created earlier in this file; `Some(true)` when it is an enum.
    pub fn new_type(&self, name: &RelName) -> Option<bool> {
        self.created_types
            .iter()
            .find(|(t, _)| t.matches(name))
            .map(|(_, e)| *e)
    }

    /// The catalog's table of that name (unqualified names are looked up in `public`).
    pub fn table(&self, rel: &RelName) -> Option<&'a Table> {
        self.catalog?.table(&QualifiedName {
            schema: rel.schema_or_public().to_string(),
            name: rel.name.clone(),
        })
    }

    /// The catalog says the table holds no rows (analyzed, zero tuples, and tiny on disk).
    pub fn is_empty_in_catalog(&self, rel: &RelName) -> bool {
        self.table(rel)
            .and_then(|t| t.stats.as_ref())
            .is_some_and(|s| s.estimated_rows == 0 && s.table_bytes <= 16 << 10)
    }

    /// The type of a column: declared earlier in this file, else from the catalog.
    pub fn column_type(&self, rel: &RelName, column: &str) -> Option<TypeRef> {
        if let Some(t) = self.columns.get(rel, column) {
            return Some(t.clone());
        }
        let col = self.table(rel)?.columns.iter().find(|c| c.name == column)?;
        parse_type(&col.data_type)
    }

    /// The column was added earlier in this file (by `CREATE TABLE` or `ADD COLUMN`): no
    /// running code uses it yet.
    pub fn is_new_column(&self, rel: &RelName, column: &str) -> bool {
        self.is_new(rel) || self.added_columns.get(rel, column).is_some()
    }

    /// A constraint of that name was added on the table in the open transaction; `Some(true)`
    /// when it was added `NOT VALID`.
    pub fn added_in_transaction(&self, rel: &RelName, name: &str) -> Option<bool> {
        self.tx_constraints
            .iter()
            .find(|(r, n, _)| r.matches(rel) && n == name)
            .map(|(.., not_valid)| *not_valid)
    }

    /// How many `ALTER TABLE` statements on the table ran earlier in the open transaction.
    pub fn alters_in_transaction(&self, rel: &RelName) -> usize {
        self.tx_alters
            .iter()
            .find(|(r, _)| r.matches(rel))
            .map_or(0, |(_, n)| *n)
    }

    /// A validated `CHECK (column IS NOT NULL)` exists on the table (added by the file and
    /// validated, or in the catalog): `SET NOT NULL` then skips its full scan.
    pub fn has_valid_not_null_check(&self, rel: &RelName, column: &str) -> bool {
        if self
            .not_null_checks
            .iter()
            .any(|(r, _, c, valid)| r.matches(rel) && c == column && *valid)
        {
            return true;
        }
        self.table(rel).is_some_and(|t| {
            t.constraints.iter().any(|k| {
                k.validated
                    && k.definition
                        .replace(['(', ')'], "")
                        .eq_ignore_ascii_case(&format!(
                            "CHECK {} IS NOT NULL",
                            dbarch_model::quote_ident(column)
                        ))
            })
        })
    }

    /// `d` with its severity scaled by the catalog's size of `rel` (a blocking lock on an
    /// empty table is a note, on a 50M-row table an error), and the size in the message.
    pub fn scale(&self, mut d: Diagnostic, rel: &RelName) -> Diagnostic {
        let Some(stats) = self.table(rel).and_then(|t| t.stats.as_ref()) else {
            return d;
        };
        d.severity = super::scaled(d.severity, stats.estimated_rows, stats.table_bytes);
        let rows = if stats.estimated_rows < 0 {
            "never analyzed".to_string()
        } else {
            format!("~{} rows", human_count(stats.estimated_rows))
        };
        d.message.push_str(&format!(
            " ({rel}: {rows}, {})",
            human_bytes(stats.table_bytes)
        ));
        d
    }

    /// Applies a statement's effects.
    pub(crate) fn after(&mut self, stmt: &Statement) {
        self.tx_statements += 1;
        match stmt.node {
            NodeEnum::TransactionStmt(t) => {
                match TransactionStmtKind::try_from(t.kind)
                    .unwrap_or(TransactionStmtKind::Undefined)
                {
                    TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart => {
                        self.explicit = true;
                        self.end_transaction();
                    }
                    TransactionStmtKind::TransStmtCommit
                    | TransactionStmtKind::TransStmtRollback => {
                        // `COMMIT AND CHAIN` opens the next transaction at once.
                        self.explicit = t.chain;
                        // A COMMIT in a wrapped file ends the runner's transaction too.
                        self.file_transactional = false;
                        self.end_transaction();
                    }
                    _ => {}
                }
                return;
            }
            NodeEnum::CreateStmt(c) => {
                if let Some(r) = &c.relation {
                    let rel = RelName::of(r);
                    for elt in &c.table_elts {
                        if let Some(NodeEnum::ColumnDef(col)) = elt.node.as_ref()
                            && let Some(t) = &col.type_name
                        {
                            self.columns.insert(&rel, &col.colname, TypeRef::of(t));
                        }
                    }
                    self.created.insert(&rel, "", ());
                }
            }
            NodeEnum::CreateTableAsStmt(c) => {
                if let Some(r) = c.into.as_ref().and_then(|i| i.rel.as_ref()) {
                    self.created.insert(&RelName::of(r), "", ());
                }
            }
            NodeEnum::IndexStmt(i) if !i.idxname.is_empty() => {
                let index = RelName {
                    schema: i.relation.as_ref().and_then(|r| RelName::of(r).schema),
                    name: i.idxname.clone(),
                };
                self.created.insert(&index, "", ());
            }
            NodeEnum::CreateEnumStmt(e) => {
                if let Some(name) = RelName::from_names(&e.type_name) {
                    self.created_types.push((name, true));
                }
            }
            NodeEnum::CompositeTypeStmt(c) => {
                if let Some(r) = &c.typevar {
                    self.created_types.push((RelName::of(r), false));
                }
            }
            NodeEnum::CreateDomainStmt(d) => {
                if let Some(name) = RelName::from_names(&d.domainname) {
                    self.created_types.push((name, false));
                }
            }
            NodeEnum::AlterTableStmt(a) => {
                if let Some(r) = &a.relation {
                    self.alter_table(RelName::of(r), a);
                }
            }
            NodeEnum::VariableSetStmt(v) if v.name.eq_ignore_ascii_case("lock_timeout") => {
                self.lock_timeout_set = true;
            }
            _ => {}
        }
        if !self.in_transaction() {
            // Autocommit: each statement is its own transaction.
            self.end_transaction();
        }
    }

    fn alter_table(&mut self, rel: RelName, a: &pg_query::protobuf::AlterTableStmt) {
        match self.tx_alters.iter_mut().find(|(r, _)| r.matches(&rel)) {
            Some((_, n)) => *n += 1,
            None => self.tx_alters.push((rel.clone(), 1)),
        }
        for cmd in ast::alter_cmds(a) {
            match ast::cmd_type(cmd) {
                AlterTableType::AtAddColumn => {
                    if let Some(col) = ast::cmd_column(cmd) {
                        self.added_columns.insert(&rel, &col.colname, ());
                    }
                    if let Some(col) = ast::cmd_column(cmd)
                        && let Some(t) = &col.type_name
                    {
                        self.columns.insert(&rel, &col.colname, TypeRef::of(t));
                    }
                }
                AlterTableType::AtAlterColumnType => {
                    if let Some(col) = ast::cmd_column(cmd)
                        && let Some(t) = &col.type_name
                    {
                        self.columns.insert(&rel, &cmd.name, TypeRef::of(t));
                    }
                }
                AlterTableType::AtAddConstraint => {
                    let Some(c) = ast::cmd_constraint(cmd) else {
                        continue;
                    };
                    self.tx_constraints
                        .push((rel.clone(), c.conname.clone(), c.skip_validation));
                    if ast::constr_type(c) == ConstrType::ConstrCheck
                        && let Some(column) = c.raw_expr.as_deref().and_then(is_not_null_test)
                    {
                        self.not_null_checks.push((
                            rel.clone(),
                            c.conname.clone(),
                            column,
                            !c.skip_validation,
                        ));
                    }
                }
                AlterTableType::AtValidateConstraint => {
                    for (r, name, _, valid) in &mut self.not_null_checks {
                        if r.matches(&rel) && *name == cmd.name {
                            *valid = true;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn end_transaction(&mut self) {
        self.tx_constraints.clear();
        self.tx_alters.clear();
        self.tx_statements = 0;
    }
}

/// The column of a `column IS NOT NULL` test.
fn is_not_null_test(n: &pg_query::protobuf::Node) -> Option<String> {
    let NodeEnum::NullTest(t) = n.node.as_ref()? else {
        return None;
    };
    // NullTestType: IS_NULL = 1, IS_NOT_NULL = 2.
    if t.nulltesttype != 2 {
        return None;
    }
    let NodeEnum::ColumnRef(c) = t.arg.as_ref()?.node.as_ref()? else {
        return None;
    };
    c.fields
        .last()
        .and_then(ast::string_value)
        .map(str::to_string)
}

/// A catalog type name (as `format_type` prints it) read back by the parser.
pub(crate) fn parse_type(data_type: &str) -> Option<TypeRef> {
    let parsed = pg_query::parse(
        &format!("SELECT NULL::{data_type}"),
        pg_query::ParserOptions::DEFAULT,
    )
    .ok()?;
    // `nodes()` does not yield the cast's TypeName itself: take it from the TypeCast.
    parsed
        .protobuf
        .nodes()
        .into_iter()
        .find_map(|(n, ..)| match n {
            pg_query::NodeRef::TypeCast(c) => c.type_name.as_ref().map(TypeRef::of),
            pg_query::NodeRef::TypeName(t) => Some(TypeRef::of(t)),
            _ => None,
        })
}

fn human_count(n: i64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1}G", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{}k", n / 1000),
        n => n.to_string(),
    }
}

fn human_bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", n / (1u64 << 30) as f64)
    } else if n >= (1u64 << 20) as f64 {
        format!("{:.0} MiB", n / (1u64 << 20) as f64)
    } else {
        format!("{:.0} kiB", n / 1024.0)
    }
}

/// Entries keyed by relation name and a sub-key (a column, a constraint), so that lookups stay
/// constant-time in files of a million statements; an unqualified name matches any schema.
struct Index<T> {
    map: std::collections::HashMap<IndexKey, Vec<(Option<String>, T)>>,
}

/// (relation name, sub-key).
type IndexKey = (String, String);

impl<T> Default for Index<T> {
    fn default() -> Self {
        Index {
            map: std::collections::HashMap::new(),
        }
    }
}

impl<T> Index<T> {
    fn insert(&mut self, rel: &RelName, sub: &str, value: T) {
        self.map
            .entry((rel.name.clone(), sub.to_string()))
            .or_default()
            .push((rel.schema.clone(), value));
    }

    /// The latest entry for a relation whose schema does not contradict `rel`'s.
    fn get(&self, rel: &RelName, sub: &str) -> Option<&T> {
        self.map
            .get(&(rel.name.clone(), sub.to_string()))?
            .iter()
            .rev()
            .find(|(schema, _)| match (schema, &rel.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
            .map(|(_, v)| v)
    }
}
