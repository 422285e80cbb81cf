//! Markdown documentation in the manner of tbls: an index, the Mermaid ERD, then one section
//! per table and view, and tables of types, sequences, functions and extensions.

use crate::erd::Erd;
use crate::escape::{Slugger, github_slug, md_cell, md_code, md_fence, md_paragraph, md_text};
use crate::{ColumnDetail, DocsOptions, ErdOptions};
use dbarch_model::{
    Column, ConstraintKind, Database, FunctionKind, QualifiedName, Table, TypeKind, View,
    Volatility, display_type,
};
use std::collections::HashMap;
use std::fmt::Write;

/// Marks a link target in the text until every heading, hence every anchor, is known.
const LINK_START: char = '\u{1}';
const LINK_END: char = '\u{2}';

/// The document being written. Anchors are resolved at the end, because the index links to
/// headings that come later and GitHub numbers repeated headings in document order.
struct Doc {
    out: String,
    slugger: Slugger,
    anchors: HashMap<String, String>,
}

impl Doc {
    fn heading(&mut self, level: usize, text: &str, target: Option<String>) {
        let slug = self.slugger.slug(text);
        if let Some(key) = target {
            self.anchors.insert(key, slug);
        }
        let _ = writeln!(self.out, "{} {}\n", "#".repeat(level), md_text(text));
    }

    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.line(&format!("| {} |", header.join(" | ")));
        self.line(&format!(
            "|{}|",
            header.iter().map(|_| " --- ").collect::<Vec<_>>().join("|")
        ));
        for row in rows {
            self.line(&format!("| {} |", row.join(" | ")));
        }
        self.line("");
    }

    fn finish(self) -> String {
        let mut out = String::with_capacity(self.out.len());
        let mut rest = self.out.as_str();
        while let Some(start) = rest.find(LINK_START) {
            out.push_str(&rest[..start]);
            let after = &rest[start + LINK_START.len_utf8()..];
            let end = after.find(LINK_END).unwrap_or(after.len());
            let key = &after[..end];
            match self.anchors.get(key) {
                Some(slug) => out.push_str(slug),
                None => out.push_str(&github_slug(key)),
            }
            rest = after.get(end + LINK_END.len_utf8()..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }
}

fn table_key(q: &QualifiedName) -> String {
    format!("table:{q}")
}

fn view_key(q: &QualifiedName) -> String {
    format!("view:{q}")
}

/// `[schema.name](#anchor)` when the object has a section here, else the plain name.
struct Linker<'a> {
    db: &'a Database,
    /// Tables with a section: all but partitions shown through their parent.
    sectioned: Vec<&'a Table>,
}

impl Linker<'_> {
    fn relation(&self, q: &QualifiedName) -> String {
        let text = md_text(&q.to_string());
        if self
            .sectioned
            .iter()
            .any(|t| t.schema == q.schema && t.name == q.name)
        {
            format!("[{text}](#{LINK_START}{}{LINK_END})", table_key(q))
        } else if self.db.view(q).is_some() {
            format!("[{text}](#{LINK_START}{}{LINK_END})", view_key(q))
        } else {
            text
        }
    }
}

pub(crate) fn render(db: &Database, opts: &DocsOptions) -> String {
    let erd = Erd::build(db, ColumnDetail::All);
    let linker = Linker {
        db,
        sectioned: erd.entities.iter().map(|e| e.table).collect(),
    };
    let mut doc = Doc {
        out: String::new(),
        slugger: Slugger::default(),
        anchors: HashMap::new(),
    };
    let title = opts.title.as_deref().unwrap_or("Database schema");
    doc.heading(1, title, None);

    if db.schemas.len() > 1 || db.schemas.iter().any(|s| s.comment.is_some()) {
        doc.heading(2, "Schemas", None);
        let rows: Vec<Vec<String>> = db
            .schemas
            .iter()
            .map(|s| vec![md_text(&s.name), cell(s.comment.as_deref())])
            .collect();
        doc.table(&["Name", "Comment"], &rows);
    }

    if !linker.sectioned.is_empty() {
        doc.heading(2, "Tables", None);
        let rows: Vec<Vec<String>> = linker
            .sectioned
            .iter()
            .map(|t| {
                vec![
                    linker.relation(&t.qualified_name()),
                    t.columns.len().to_string(),
                    cell(t.comment.as_deref()),
                    table_kind(t).to_string(),
                ]
            })
            .collect();
        doc.table(&["Name", "Columns", "Comment", "Type"], &rows);
    }
    if !db.views.is_empty() {
        doc.heading(2, "Views", None);
        let rows: Vec<Vec<String>> = db
            .views
            .iter()
            .map(|v| {
                vec![
                    linker.relation(&v.qualified_name()),
                    v.columns.len().to_string(),
                    cell(v.comment.as_deref()),
                    view_kind(v).to_string(),
                ]
            })
            .collect();
        doc.table(&["Name", "Columns", "Comment", "Type"], &rows);
    }
    if opts.erd && !erd.entities.is_empty() {
        doc.heading(2, "Entity relationship diagram", None);
        doc.line(&md_fence(
            "mermaid",
            &crate::mermaid(db, &ErdOptions::default()),
        ));
    }

    for (i, t) in linker.sectioned.iter().enumerate() {
        table_section(&mut doc, db, &linker, &erd, i, t);
    }
    for v in &db.views {
        view_section(&mut doc, &linker, v);
    }
    types_section(&mut doc, db);
    sequences_section(&mut doc, db);
    functions_section(&mut doc, db);
    if !db.extensions.is_empty() {
        doc.heading(2, "Extensions", None);
        let rows: Vec<Vec<String>> = db
            .extensions
            .iter()
            .map(|e| vec![md_text(&e.name), md_text(&e.version), md_text(&e.schema)])
            .collect();
        doc.table(&["Name", "Version", "Schema"], &rows);
    }
    let mut out = doc.finish();
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// A column type: `text[]` stays as typed (brackets not followed by a link target are literal).
fn type_cell(data_type: &str) -> String {
    md_text(&display_type(data_type)).replace("\\[\\]", "[]")
}

fn cell(comment: Option<&str>) -> String {
    comment.map(md_cell).unwrap_or_default()
}

fn table_kind(t: &Table) -> &'static str {
    match (
        t.partition_key.is_some(),
        t.partition_of.is_some(),
        t.unlogged,
    ) {
        (true, _, _) => "partitioned table",
        (false, true, _) => "partition",
        (false, false, true) => "unlogged table",
        _ => "table",
    }
}

fn view_kind(v: &View) -> &'static str {
    if v.materialized {
        "materialized view"
    } else {
        "view"
    }
}

fn table_section(
    doc: &mut Doc,
    db: &Database,
    linker: &Linker,
    erd: &Erd,
    entity: usize,
    t: &Table,
) {
    let q = t.qualified_name();
    doc.heading(2, &q.to_string(), Some(table_key(&q)));
    if let Some(c) = &t.comment {
        doc.line(&md_paragraph(c));
        doc.line("");
    }
    let mut facts = Vec::new();
    if t.unlogged {
        facts.push("Unlogged.".to_string());
    }
    if let Some(p) = &t.partition_of {
        facts.push(format!(
            "Partition of {} {}.",
            linker.relation(&p.parent),
            md_code(&p.bound)
        ));
    }
    if !t.inherits.is_empty() {
        let parents: Vec<String> = t.inherits.iter().map(|p| linker.relation(p)).collect();
        facts.push(format!("Inherits from {}.", parents.join(", ")));
    }
    if !t.options.is_empty() {
        facts.push(format!(
            "Storage parameters: {}.",
            md_code(&t.options.join(", "))
        ));
    }
    for f in facts {
        doc.line(&f);
        doc.line("");
    }

    doc.heading(3, "Columns", None);
    let rows: Vec<Vec<String>> = t
        .columns
        .iter()
        .map(|c| {
            let links = |pick: &dyn Fn(&crate::erd::Relation) -> Option<usize>| {
                let mut names: Vec<String> = Vec::new();
                for r in &erd.relations {
                    if let Some(other) = pick(r) {
                        let link = linker.relation(&erd.entities[other].table.qualified_name());
                        if !names.contains(&link) {
                            names.push(link);
                        }
                    }
                }
                names.join("<br>")
            };
            let children = links(&|r| {
                (r.parent == entity && r.referenced_columns.contains(&c.name)).then_some(r.child)
            });
            let parents =
                links(&|r| (r.child == entity && r.columns.contains(&c.name)).then_some(r.parent));
            vec![
                md_text(&c.name),
                type_cell(&c.data_type),
                md_code(&column_default(c)),
                (!c.not_null).to_string(),
                children,
                parents,
                cell(c.comment.as_deref()),
            ]
        })
        .collect();
    doc.table(
        &[
            "Name", "Type", "Default", "Nullable", "Children", "Parents", "Comment",
        ],
        &rows,
    );

    if !t.constraints.is_empty() {
        doc.heading(3, "Constraints", None);
        let rows: Vec<Vec<String>> = t
            .constraints
            .iter()
            .map(|c| {
                let kind = match c.kind {
                    ConstraintKind::PrimaryKey { .. } => "PRIMARY KEY",
                    ConstraintKind::Unique { .. } => "UNIQUE",
                    ConstraintKind::ForeignKey { .. } => "FOREIGN KEY",
                    ConstraintKind::Check { .. } => "CHECK",
                    ConstraintKind::Exclusion {} => "EXCLUDE",
                    ConstraintKind::NotNull { .. } => "NOT NULL",
                };
                vec![
                    md_text(&c.name),
                    kind.to_string(),
                    md_code(&c.definition),
                    cell(c.comment.as_deref()),
                ]
            })
            .collect();
        doc.table(&["Name", "Type", "Definition", "Comment"], &rows);
    }
    if !t.indexes.is_empty() {
        doc.heading(3, "Indexes", None);
        let rows: Vec<Vec<String>> = t
            .indexes
            .iter()
            .map(|i| {
                let name = if i.valid {
                    md_text(&i.name)
                } else {
                    format!("{} (invalid)", md_text(&i.name))
                };
                vec![name, md_code(&i.definition), cell(i.comment.as_deref())]
            })
            .collect();
        doc.table(&["Name", "Definition", "Comment"], &rows);
    }
    if !t.triggers.is_empty() {
        doc.heading(3, "Triggers", None);
        let rows: Vec<Vec<String>> = t
            .triggers
            .iter()
            .map(|tr| {
                let name = if tr.enabled {
                    md_text(&tr.name)
                } else {
                    format!("{} (disabled)", md_text(&tr.name))
                };
                vec![name, md_code(&tr.definition), cell(tr.comment.as_deref())]
            })
            .collect();
        doc.table(&["Name", "Definition", "Comment"], &rows);
    }
    if t.rls_enabled || !t.policies.is_empty() {
        doc.heading(3, "Row-level security", None);
        doc.line(match (t.rls_enabled, t.rls_forced) {
            (true, true) => "Enabled and forced (applies to the table owner too).",
            (true, false) => "Enabled.",
            (false, _) => "Disabled: the policies below are not enforced.",
        });
        doc.line("");
        if !t.policies.is_empty() {
            let rows: Vec<Vec<String>> = t
                .policies
                .iter()
                .map(|p| {
                    vec![
                        md_text(&p.name),
                        md_text(&p.command),
                        md_text(&p.roles.join(", ")),
                        if p.permissive {
                            "permissive"
                        } else {
                            "restrictive"
                        }
                        .to_string(),
                        md_code(p.using.as_deref().unwrap_or("")),
                        md_code(p.with_check.as_deref().unwrap_or("")),
                    ]
                })
                .collect();
            doc.table(
                &["Name", "Command", "Roles", "Type", "Using", "With check"],
                &rows,
            );
        }
    }
    if let Some(key) = &t.partition_key {
        doc.heading(3, "Partitions", None);
        doc.line(&format!("Partitioned by {}.", md_code(key)));
        doc.line("");
        let mut rows = Vec::new();
        partition_rows(db, &q, 0, &mut rows);
        if !rows.is_empty() {
            doc.table(&["Name", "Bound", "Comment"], &rows);
        }
    }
}

/// Partitions of `parent`, depth first, sub-partitions indented under theirs.
fn partition_rows(
    db: &Database,
    parent: &QualifiedName,
    depth: usize,
    rows: &mut Vec<Vec<String>>,
) {
    if depth > 16 {
        return;
    }
    for t in &db.tables {
        let Some(p) = t.partition_of.as_ref().filter(|p| &p.parent == parent) else {
            continue;
        };
        let mut bound = md_code(&p.bound);
        if let Some(key) = &t.partition_key {
            bound.push_str(&format!(", partitioned by {}", md_code(key)));
        }
        rows.push(vec![
            format!(
                "{}{}",
                "&emsp;".repeat(depth),
                md_text(&t.qualified_name().to_string())
            ),
            bound,
            cell(t.comment.as_deref()),
        ]);
        partition_rows(db, &t.qualified_name(), depth + 1, rows);
    }
}

/// What fills a column's Default cell: the default, or how the value is generated.
fn column_default(c: &Column) -> String {
    if let Some(id) = &c.identity {
        let when = if id.always { "ALWAYS" } else { "BY DEFAULT" };
        return format!("GENERATED {when} AS IDENTITY");
    }
    if let Some(g) = &c.generated {
        let kind = if g.stored { "STORED" } else { "VIRTUAL" };
        return format!("GENERATED ALWAYS AS ({}) {kind}", g.expression);
    }
    c.default.clone().unwrap_or_default()
}

fn view_section(doc: &mut Doc, linker: &Linker, v: &View) {
    let q = v.qualified_name();
    doc.heading(2, &q.to_string(), Some(view_key(&q)));
    if let Some(c) = &v.comment {
        doc.line(&md_paragraph(c));
        doc.line("");
    }
    let mut kind = if v.materialized {
        "Materialized view"
    } else {
        "View"
    }
    .to_string();
    if !v.options.is_empty() {
        kind.push_str(&format!(" with {}", md_code(&v.options.join(", "))));
    }
    doc.line(&format!("{kind}."));
    doc.line("");
    if !v.depends_on.is_empty() {
        let deps: Vec<String> = v.depends_on.iter().map(|d| linker.relation(d)).collect();
        doc.line(&format!("Reads {}.", deps.join(", ")));
        doc.line("");
    }
    doc.heading(3, "Columns", None);
    let rows: Vec<Vec<String>> = v
        .columns
        .iter()
        .map(|c| {
            vec![
                md_text(&c.name),
                type_cell(&c.data_type),
                cell(c.comment.as_deref()),
            ]
        })
        .collect();
    doc.table(&["Name", "Type", "Comment"], &rows);
    doc.heading(3, "Definition", None);
    doc.line(&md_fence("sql", v.definition.trim()));
    if !v.indexes.is_empty() {
        doc.heading(3, "Indexes", None);
        let rows: Vec<Vec<String>> = v
            .indexes
            .iter()
            .map(|i| {
                vec![
                    md_text(&i.name),
                    md_code(&i.definition),
                    cell(i.comment.as_deref()),
                ]
            })
            .collect();
        doc.table(&["Name", "Definition", "Comment"], &rows);
    }
}

fn types_section(doc: &mut Doc, db: &Database) {
    if db.types.is_empty() {
        return;
    }
    doc.heading(2, "Types", None);
    let rows: Vec<Vec<String>> = db
        .types
        .iter()
        .map(|t| {
            let (kind, def) = match &t.kind {
                TypeKind::Enum { labels } => (
                    "enum",
                    labels
                        .iter()
                        .map(|l| md_code(&dbarch_model::quote_literal(l)))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                TypeKind::Domain {
                    base_type,
                    not_null,
                    default,
                    collation,
                    checks,
                } => {
                    let mut d = display_type(base_type);
                    if let Some(c) = collation {
                        d.push_str(&format!(" COLLATE {c}"));
                    }
                    if *not_null {
                        d.push_str(" NOT NULL");
                    }
                    if let Some(def) = default {
                        d.push_str(&format!(" DEFAULT {def}"));
                    }
                    for c in checks {
                        d.push_str(&format!(" CONSTRAINT {} {}", c.name, c.definition));
                    }
                    ("domain", md_code(&d))
                }
                TypeKind::Composite { attributes } => {
                    let attrs: Vec<String> = attributes
                        .iter()
                        .map(|a| format!("{} {}", a.name, display_type(&a.data_type)))
                        .collect();
                    ("composite", md_code(&format!("({})", attrs.join(", "))))
                }
            };
            vec![
                md_text(&format!("{}.{}", t.schema, t.name)),
                kind.to_string(),
                def,
                cell(t.comment.as_deref()),
            ]
        })
        .collect();
    doc.table(&["Name", "Kind", "Definition", "Comment"], &rows);
}

fn sequences_section(doc: &mut Doc, db: &Database) {
    if db.sequences.is_empty() {
        return;
    }
    doc.heading(2, "Sequences", None);
    let rows: Vec<Vec<String>> = db
        .sequences
        .iter()
        .map(|s| {
            let o = &s.options;
            let owned = s
                .owned_by
                .as_ref()
                .map(|r| md_text(&format!("{}.{}.{}", r.schema, r.table, r.column)))
                .unwrap_or_default();
            vec![
                md_text(&format!("{}.{}", s.schema, s.name)),
                md_text(&display_type(&s.data_type)),
                o.start.to_string(),
                o.increment.to_string(),
                o.min_value.to_string(),
                o.max_value.to_string(),
                o.cache.to_string(),
                o.cycle.to_string(),
                owned,
                cell(s.comment.as_deref()),
            ]
        })
        .collect();
    doc.table(
        &[
            "Name",
            "Type",
            "Start",
            "Increment",
            "Min",
            "Max",
            "Cache",
            "Cycle",
            "Owned by",
            "Comment",
        ],
        &rows,
    );
}

fn functions_section(doc: &mut Doc, db: &Database) {
    if db.functions.is_empty() {
        return;
    }
    doc.heading(2, "Functions", None);
    let rows: Vec<Vec<String>> = db
        .functions
        .iter()
        .map(|f| {
            let kind = match f.kind {
                FunctionKind::Function => "function",
                FunctionKind::Procedure => "procedure",
                FunctionKind::Aggregate => "aggregate",
                FunctionKind::Window => "window",
            };
            let volatility = match f.volatility {
                Volatility::Immutable => "immutable",
                Volatility::Stable => "stable",
                Volatility::Volatile => "volatile",
            };
            vec![
                md_code(&format!("{}.{}({})", f.schema, f.name, f.arguments)),
                md_code(f.returns.as_deref().unwrap_or("")),
                kind.to_string(),
                md_text(&f.language),
                volatility.to_string(),
                cell(f.comment.as_deref()),
            ]
        })
        .collect();
    doc.table(
        &[
            "Signature",
            "Returns",
            "Kind",
            "Language",
            "Volatility",
            "Comment",
        ],
        &rows,
    );
}
