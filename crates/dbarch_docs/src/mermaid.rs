//! Mermaid `erDiagram`, as GitHub renders it.

use crate::ErdOptions;
use crate::erd::{Erd, Relation};
use crate::escape::one_line;
use dbarch_model::display_type;
use std::fmt::Write;

pub(crate) fn render(db: &dbarch_model::Database, opts: &ErdOptions) -> String {
    let erd = Erd::build(db, opts.columns);
    let mut out = String::new();
    if let Some(title) = &opts.title {
        // Front matter is YAML: a double-quoted scalar needs `\` and `"` escaped.
        let title = one_line(title).replace('\\', "\\\\").replace('"', "\\\"");
        let _ = write!(out, "---\ntitle: \"{title}\"\n---\n");
    }
    out.push_str("erDiagram\n");
    for e in &erd.entities {
        let head = if e.id == e.label {
            e.id.clone()
        } else {
            format!("{}[\"{}\"]", e.id, quoted(&e.label))
        };
        if e.columns.is_empty() {
            let _ = writeln!(out, "    {head}");
            continue;
        }
        let _ = writeln!(out, "    {head} {{");
        for c in &e.columns {
            let _ = write!(
                out,
                "        {} {}",
                attribute_type(&c.column.data_type),
                attribute_name(&c.column.name)
            );
            let keys = c.keys.labels();
            if !keys.is_empty() {
                let _ = write!(out, " {}", keys.join(", "));
            }
            if let Some(comment) = c.column.comment.as_deref().map(quoted)
                && !comment.is_empty()
            {
                let _ = write!(out, " \"{comment}\"");
            }
            out.push('\n');
        }
        let _ = writeln!(out, "    }}");
    }
    for r in &erd.relations {
        let _ = writeln!(
            out,
            "    {} {}--{} {} : \"{}\"",
            erd.entities[r.parent].id,
            parent_cardinality(r),
            child_cardinality(r),
            erd.entities[r.child].id,
            quoted(&r.columns.join(", "))
        );
    }
    out
}

/// The parent side, written left of `--`: exactly one when every FK column is NOT NULL.
fn parent_cardinality(r: &Relation) -> &'static str {
    if r.mandatory { "||" } else { "|o" }
}

/// The child side, written right of `--`: zero or many, or zero or one when the FK is unique.
fn child_cardinality(r: &Relation) -> &'static str {
    if r.one_to_one { "o|" } else { "o{" }
}

/// Text inside a Mermaid double-quoted string: there is no escape for `"`, and a string must
/// stay on one line.
fn quoted(s: &str) -> String {
    one_line(s).replace('"', "'")
}

/// Mermaid attribute types are one word of `[A-Za-z0-9_-]` with optional trailing `[]`:
/// `varchar(255)` → `varchar_255`, `numeric(10,4)` → `numeric_10_4`, `integer[]` → `integer[]`.
pub(crate) fn attribute_type(data_type: &str) -> String {
    let mut base = display_type(data_type);
    let mut dims = 0;
    while let Some(b) = base.strip_suffix("[]") {
        base = b.to_string();
        dims += 1;
    }
    let mut out = String::with_capacity(base.len());
    for ch in base.chars() {
        let ch = if ch.is_ascii_alphanumeric() || ch == '-' {
            ch
        } else {
            '_'
        };
        if !(ch == '_' && (out.is_empty() || out.ends_with('_'))) {
            out.push(ch);
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("unknown");
    } else if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "t_");
    }
    out + &"[]".repeat(dims)
}

/// Mermaid attribute names: `[A-Za-z_][A-Za-z0-9_-]*`.
fn attribute_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_types_are_single_words() {
        assert_eq!(attribute_type("character varying(255)"), "varchar_255");
        assert_eq!(attribute_type("numeric(10,4)"), "numeric_10_4");
        assert_eq!(attribute_type("public.vector(384)"), "vector_384");
        assert_eq!(attribute_type("integer[]"), "integer[]");
        assert_eq!(attribute_type("character varying(20)[]"), "varchar_20[]");
        assert_eq!(attribute_type("timestamp with time zone"), "timestamptz");
        assert_eq!(attribute_type("audit.\"Mood\""), "audit_Mood");
        assert_eq!(attribute_type("\"char\""), "char");
        assert_eq!(attribute_name("Order Date"), "Order_Date");
        assert_eq!(attribute_name("1st"), "_1st");
    }
}
