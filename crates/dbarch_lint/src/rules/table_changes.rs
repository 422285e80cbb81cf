//! Readers shared by the rules on `ALTER TABLE`, column definitions and pgvector indexes
//! (M015–M035, V004–V008). Not a rule.

use crate::migration::ast::{self, RelName, TypeRef};
use crate::migration::{State, Statement};
use dbarch_model::quote_ident;
use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableCmd, AlterTableStmt, ColumnDef, ConstrType, ObjectType};

/// An `ALTER TABLE` on a table that existed before the file (a table created earlier in the
/// file is nobody's yet: lock and rewrite rules stay silent on it).
pub(crate) fn existing_table_alter<'a>(
    stmt: &Statement<'a>,
    state: &State,
) -> Option<(RelName, &'a AlterTableStmt)> {
    let NodeEnum::AlterTableStmt(a) = stmt.node else {
        return None;
    };
    if ObjectType::try_from(a.objtype).ok()? != ObjectType::ObjectTable {
        return None;
    }
    let rel = RelName::of(a.relation.as_ref()?);
    if state.is_new(&rel) {
        return None;
    }
    Some((rel, a))
}

/// `rel` as SQL (quoted as needed).
pub(crate) fn rel_sql(rel: &RelName) -> String {
    match &rel.schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&rel.name)),
        None => quote_ident(&rel.name),
    }
}

/// `ALTER TABLE <a's table> <cmds>;` as SQL, for fixes.
pub(crate) fn alter_sql(a: &AlterTableStmt, cmds: Vec<AlterTableCmd>) -> Option<String> {
    let stmt = AlterTableStmt {
        cmds: cmds
            .into_iter()
            .map(|c| protobuf::Node {
                node: Some(NodeEnum::AlterTableCmd(Box::new(c))),
            })
            .collect(),
        ..a.clone()
    };
    NodeEnum::AlterTableStmt(stmt)
        .deparse(Default::default())
        .ok()
        .map(|s| format!("{s};"))
}

/// The names in a list of `String` nodes (constraint keys, FK columns).
pub(crate) fn names(list: &[protobuf::Node]) -> Vec<String> {
    list.iter()
        .filter_map(ast::string_value)
        .map(str::to_string)
        .collect()
}

/// A constraint name PostgreSQL-like for fixes: `<table>_<cols>_<suffix>`, under 63 bytes.
pub(crate) fn constraint_name(table: &str, columns: &[String], suffix: &str) -> String {
    let mut name = if columns.is_empty() {
        format!("{table}_{suffix}")
    } else {
        format!("{table}_{}_{suffix}", columns.join("_"))
    };
    if name.len() > 63 {
        let mut cut = 62 - suffix.len();
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
        name.push('_');
        name.push_str(suffix);
    }
    name
}

/// The first column referenced in an expression (for naming a CHECK constraint).
pub(crate) fn first_column(n: &protobuf::Node) -> Option<String> {
    let node = n.node.as_ref()?;
    if let NodeEnum::ColumnRef(c) = node {
        return c
            .fields
            .last()
            .and_then(ast::string_value)
            .map(str::to_string);
    }
    node.nodes().into_iter().find_map(|(r, ..)| match r {
        pg_query::NodeRef::ColumnRef(c) => c
            .fields
            .last()
            .and_then(ast::string_value)
            .map(str::to_string),
        _ => None,
    })
}

/// Where a column definition appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnSite {
    CreateTable,
    AddColumn,
    /// `ALTER COLUMN ... TYPE`: only `type_name` (and the `USING` expression) is set.
    AlterType,
}

/// A column the statement declares: its table, definition (name from the command for
/// `ALTER COLUMN TYPE`), and where.
pub(crate) struct DeclaredColumn<'a> {
    pub rel: RelName,
    pub name: &'a str,
    pub def: &'a ColumnDef,
    pub site: ColumnSite,
}

/// Every column the statement declares or retypes (`CREATE TABLE`, `ADD COLUMN`,
/// `ALTER COLUMN TYPE`).
pub(crate) fn declared_columns<'a>(
    stmt: &Statement<'a>,
    _state: &State,
) -> Vec<DeclaredColumn<'a>> {
    let mut out = Vec::new();
    match stmt.node {
        NodeEnum::CreateStmt(c) => {
            let Some(rv) = &c.relation else { return out };
            let rel = RelName::of(rv);
            for elt in &c.table_elts {
                if let Some(NodeEnum::ColumnDef(col)) = elt.node.as_ref() {
                    out.push(DeclaredColumn {
                        rel: rel.clone(),
                        name: &col.colname,
                        def: col,
                        site: ColumnSite::CreateTable,
                    });
                }
            }
        }
        NodeEnum::AlterTableStmt(a) => {
            if ObjectType::try_from(a.objtype).ok() != Some(ObjectType::ObjectTable) {
                return out;
            }
            let Some(rv) = &a.relation else { return out };
            let rel = RelName::of(rv);
            for cmd in ast::alter_cmds(a) {
                let site = match ast::cmd_type(cmd) {
                    protobuf::AlterTableType::AtAddColumn => ColumnSite::AddColumn,
                    protobuf::AlterTableType::AtAlterColumnType => ColumnSite::AlterType,
                    _ => continue,
                };
                let Some(col) = ast::cmd_column(cmd) else {
                    continue;
                };
                out.push(DeclaredColumn {
                    rel: rel.clone(),
                    name: if site == ColumnSite::AlterType {
                        &cmd.name
                    } else {
                        &col.colname
                    },
                    def: col,
                    site,
                });
            }
        }
        _ => {}
    }
    out
}

/// The declared type of a column definition.
pub(crate) fn column_type(def: &ColumnDef) -> Option<TypeRef> {
    def.type_name.as_ref().map(TypeRef::of)
}

/// Where a column definition's type is written (for pointing at it).
pub(crate) fn type_location(def: &ColumnDef) -> i32 {
    def.type_name.as_ref().map_or(def.location, |t| t.location)
}

/// A built-in type (the grammar qualified it with `pg_catalog`, or it is not qualified).
pub(crate) fn is_builtin(t: &TypeRef) -> bool {
    t.schema.is_none()
}

/// The column definition has a constraint of this kind.
pub(crate) fn has_constraint(def: &ColumnDef, kind: ConstrType) -> bool {
    ast::column_constraints(def).any(|c| ast::constr_type(c) == kind)
}

/// `serial`, `bigserial`, `smallserial` (and their aliases).
pub(crate) fn is_serial(t: &TypeRef) -> bool {
    is_builtin(t) && !t.array && matches!(t.canonical(), "serial4" | "serial8" | "serial2")
}

/// pgvector's column types (`vector`, `halfvec`, `sparsevec`, in any schema).
pub(crate) fn is_vector_type(t: &TypeRef) -> bool {
    matches!(t.name.as_str(), "vector" | "halfvec" | "sparsevec") && !t.array
}

/// The value of a `WITH (name = value)` option of an index statement, as an integer.
pub(crate) fn int_option(options: &[protobuf::Node], name: &str) -> Option<Option<i64>> {
    options.iter().find_map(|o| match o.node.as_ref()? {
        NodeEnum::DefElem(d) if d.defname.eq_ignore_ascii_case(name) => {
            Some(d.arg.as_deref().and_then(ast::int_value))
        }
        _ => None,
    })
}

/// The statement text with `CONCURRENTLY` after `INDEX` (best effort, for fixes).
pub(crate) fn concurrent_index_sql(text: &str) -> String {
    let upper = text.to_ascii_uppercase();
    match upper.find("INDEX") {
        Some(i) if !upper.contains("CONCURRENTLY") => {
            format!("{}INDEX CONCURRENTLY{}", &text[..i], &text[i + 5..])
        }
        _ => text.to_string(),
    }
}

/// An expression as SQL (deparsed inside a `SELECT`, which the deparser always accepts; the
/// `SELECT` comes from the parser so that its enum fields hold valid values).
pub(crate) fn expr_sql(expr: &protobuf::Node) -> Option<String> {
    let parsed = pg_query::parse("SELECT 1", pg_query::ParserOptions::DEFAULT).ok()?;
    let mut stmt = parsed.protobuf.stmts.into_iter().next()?.stmt?.node?;
    let NodeEnum::SelectStmt(select) = &mut stmt else {
        return None;
    };
    let NodeEnum::ResTarget(target) = select.target_list.first_mut()?.node.as_mut()? else {
        return None;
    };
    target.val = Some(Box::new(expr.clone()));
    stmt.deparse(Default::default())
        .ok()?
        .strip_prefix("SELECT ")
        .map(str::to_string)
}

/// Flags each column the statement declares (or retypes) whose built-in type matches
/// `is_bad`: a design finding, raised for new tables too. `replacement` gives the type to
/// use instead, `message` the finding's text for `(table.column, type)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn flag_column_types(
    stmt: &Statement,
    state: &State,
    out: &mut Vec<dbarch_report::Diagnostic>,
    code: &str,
    is_bad: impl Fn(&TypeRef) -> bool,
    replacement: impl Fn(&TypeRef) -> String,
    message: impl Fn(&str, &TypeRef) -> String,
    help: &str,
) {
    for col in declared_columns(stmt, state) {
        let Some(t) = column_type(col.def) else {
            continue;
        };
        if !is_builtin(&t) || !is_bad(&t) {
            continue;
        }
        let object = format!("{}.{}", col.rel, col.name);
        let mut new = replacement(&t);
        if t.array {
            new.push_str("[]");
        }
        let tbl = rel_sql(&col.rel);
        let c = quote_ident(col.name);
        let fix = match col.site {
            ColumnSite::CreateTable | ColumnSite::AddColumn => format!("{c} {new}"),
            ColumnSite::AlterType => format!("ALTER TABLE {tbl} ALTER COLUMN {c} TYPE {new};"),
        };
        out.push(
            stmt.diag_at(code, message(&object, &t), type_location(col.def))
                .with_object(object)
                .with_help(help.to_string())
                .with_fix(fix),
        );
    }
}
