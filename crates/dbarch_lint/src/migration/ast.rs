//! Small readers over libpg_query's parse tree, shared by the migration rules.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType, Node, RangeVar};
use std::fmt;

/// A relation as written: schema (when given) and name, as the parser folded them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelName {
    pub schema: Option<String>,
    pub name: String,
}

impl RelName {
    pub fn of(r: &RangeVar) -> RelName {
        RelName {
            schema: (!r.schemaname.is_empty()).then(|| r.schemaname.clone()),
            name: r.relname.clone(),
        }
    }

    /// From a dotted name list (`DROP TABLE a.b`, `DROP INDEX i`).
    pub fn from_names(names: &[Node]) -> Option<RelName> {
        let parts: Vec<&str> = names.iter().filter_map(string_value).collect();
        match parts.as_slice() {
            [name] => Some(RelName {
                schema: None,
                name: (*name).to_string(),
            }),
            [.., schema, name] => Some(RelName {
                schema: Some((*schema).to_string()),
                name: (*name).to_string(),
            }),
            [] => None,
        }
    }

    /// The schema, `public` when not written (the usual search_path).
    pub fn schema_or_public(&self) -> &str {
        self.schema.as_deref().unwrap_or("public")
    }

    /// Two names denote the same relation when the names match and the schemas do not
    /// contradict each other (an unqualified name may be any schema on the search path).
    pub fn matches(&self, other: &RelName) -> bool {
        self.name == other.name
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for RelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The text of a `String` node.
pub fn string_value(n: &Node) -> Option<&str> {
    match n.node.as_ref()? {
        NodeEnum::String(s) => Some(&s.sval),
        _ => None,
    }
}

/// The integer of an `Integer` constant or `A_Const` integer.
pub fn int_value(n: &Node) -> Option<i64> {
    match n.node.as_ref()? {
        NodeEnum::Integer(i) => Some(i64::from(i.ival)),
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            protobuf::a_const::Val::Ival(i) => Some(i64::from(i.ival)),
            protobuf::a_const::Val::Sval(s) => s.sval.parse().ok(),
            _ => None,
        },
        NodeEnum::String(s) => s.sval.parse().ok(),
        _ => None,
    }
}

/// A type as the rules compare it: the last name component (`int4`, `varchar`, `vector`),
/// lower-case, its integer modifiers, and whether it is an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    pub schema: Option<String>,
    pub name: String,
    pub mods: Vec<i64>,
    pub array: bool,
}

impl TypeRef {
    pub fn of(t: &protobuf::TypeName) -> TypeRef {
        let names: Vec<&str> = t.names.iter().filter_map(string_value).collect();
        let (schema, name) = match names.as_slice() {
            [] => (None, String::new()),
            [n] => (None, n.to_ascii_lowercase()),
            [.., s, n] => (Some(s.to_string()), n.to_ascii_lowercase()),
        };
        TypeRef {
            // `pg_catalog.int4` is how the grammar spells built-in type keywords.
            schema: schema.filter(|s| s != "pg_catalog"),
            name,
            mods: t.typmods.iter().filter_map(int_value).collect(),
            array: !t.array_bounds.is_empty(),
        }
    }

    /// The canonical name of built-in types written with aliases.
    pub fn canonical(&self) -> &str {
        match self.name.as_str() {
            "int" | "integer" => "int4",
            "smallint" => "int2",
            "bigint" => "int8",
            "serial" | "serial4" => "serial4",
            "bigserial" | "serial8" => "serial8",
            "smallserial" | "serial2" => "serial2",
            "character varying" => "varchar",
            "character" | "char" => "bpchar",
            "decimal" => "numeric",
            "real" => "float4",
            "double precision" => "float8",
            "boolean" => "bool",
            "timestamp without time zone" => "timestamp",
            "timestamp with time zone" => "timestamptz",
            "time without time zone" => "time",
            "time with time zone" => "timetz",
            other => other,
        }
    }

    /// How PostgreSQL would print it, for messages.
    pub fn display(&self) -> String {
        let base = match self.canonical() {
            "int4" => "integer".to_string(),
            "int8" => "bigint".to_string(),
            "int2" => "smallint".to_string(),
            "serial4" => "serial".to_string(),
            "serial8" => "bigserial".to_string(),
            "bpchar" => "char".to_string(),
            "float4" => "real".to_string(),
            "float8" => "double precision".to_string(),
            "bool" => "boolean".to_string(),
            "timestamp" => "timestamp without time zone".to_string(),
            "timestamptz" => "timestamp with time zone".to_string(),
            other => other.to_string(),
        };
        let mut s = match &self.schema {
            Some(schema) => format!("{schema}.{base}"),
            None => base,
        };
        if !self.mods.is_empty() {
            let mods: Vec<String> = self.mods.iter().map(i64::to_string).collect();
            s.push_str(&format!("({})", mods.join(",")));
        }
        if self.array {
            s.push_str("[]");
        }
        s
    }
}

/// The `AlterTableCmd`s of an `ALTER TABLE`.
pub fn alter_cmds(
    stmt: &protobuf::AlterTableStmt,
) -> impl Iterator<Item = &protobuf::AlterTableCmd> {
    stmt.cmds.iter().filter_map(|c| match c.node.as_ref()? {
        NodeEnum::AlterTableCmd(cmd) => Some(cmd.as_ref()),
        _ => None,
    })
}

/// The subtype of an `ALTER TABLE` command.
pub fn cmd_type(cmd: &protobuf::AlterTableCmd) -> AlterTableType {
    AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined)
}

/// The constraint a command adds (`ADD CONSTRAINT`), if it is one.
pub fn cmd_constraint(cmd: &protobuf::AlterTableCmd) -> Option<&protobuf::Constraint> {
    match cmd.def.as_ref()?.node.as_ref()? {
        NodeEnum::Constraint(c) => Some(c.as_ref()),
        _ => None,
    }
}

/// The column definition a command carries (`ADD COLUMN`, `ALTER COLUMN TYPE`).
pub fn cmd_column(cmd: &protobuf::AlterTableCmd) -> Option<&protobuf::ColumnDef> {
    match cmd.def.as_ref()?.node.as_ref()? {
        NodeEnum::ColumnDef(c) => Some(c.as_ref()),
        _ => None,
    }
}

/// The kind of a constraint.
pub fn constr_type(c: &protobuf::Constraint) -> ConstrType {
    ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined)
}

/// The constraints written on a column definition.
pub fn column_constraints(c: &protobuf::ColumnDef) -> impl Iterator<Item = &protobuf::Constraint> {
    c.constraints.iter().filter_map(|n| match n.node.as_ref()? {
        NodeEnum::Constraint(c) => Some(c.as_ref()),
        _ => None,
    })
}

/// The `DEFAULT` expression of a column definition.
pub fn column_default(c: &protobuf::ColumnDef) -> Option<&Node> {
    c.raw_default.as_deref().or_else(|| {
        column_constraints(c)
            .find(|k| constr_type(k) == ConstrType::ConstrDefault)
            .and_then(|k| k.raw_expr.as_deref())
    })
}

/// Every function called anywhere inside `n` (last name component, lower-case).
pub fn called_functions(n: &NodeEnum) -> Vec<String> {
    let mut out = Vec::new();
    if let NodeEnum::FuncCall(f) = n {
        out.push(func_name(f));
    }
    for (r, ..) in n.nodes() {
        if let pg_query::NodeRef::FuncCall(f) = r {
            out.push(func_name(f));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn func_name(f: &protobuf::FuncCall) -> String {
    f.funcname
        .iter()
        .filter_map(string_value)
        .next_back()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Built-in functions that are VOLATILE: a column default calling one is evaluated per row,
/// so `ADD COLUMN` must rewrite the table. (`now()` and `current_timestamp` are STABLE and
/// do not.)
pub const VOLATILE_FUNCTIONS: &[&str] = &[
    "clock_timestamp",
    "gen_random_uuid",
    "nextval",
    "random",
    "random_normal",
    "setseed",
    "timeofday",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
];

/// The first volatile built-in called in `n`.
pub fn volatile_call(n: &Node) -> Option<String> {
    let node = n.node.as_ref()?;
    called_functions(node)
        .into_iter()
        .find(|f| VOLATILE_FUNCTIONS.contains(&f.as_str()))
}
