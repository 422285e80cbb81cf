//! Graphviz DOT: HTML-like table nodes with a port per column, edges between column ports.

use crate::ErdOptions;
use crate::erd::{Entity, Erd, Relation};
use crate::escape::{one_line, xml};
use dbarch_model::display_type;
use std::fmt::Write;

pub(crate) fn render(db: &dbarch_model::Database, opts: &ErdOptions) -> String {
    let erd = Erd::build(db, opts.columns);
    let mut out = String::from("digraph erd {\n");
    out.push_str(
        "    graph [rankdir=LR, nodesep=0.5, ranksep=1.2, fontname=\"Helvetica\", fontsize=16",
    );
    if let Some(title) = &opts.title {
        let _ = write!(out, ", label={}, labelloc=t", quoted(title));
    }
    out.push_str("];\n");
    out.push_str("    node [shape=plaintext, fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("    edge [color=\"#5b6b82\", arrowsize=0.9, dir=both];\n");
    for e in &erd.entities {
        out.push('\n');
        node(&mut out, e);
    }
    if !erd.relations.is_empty() {
        out.push('\n');
    }
    for r in &erd.relations {
        edge(&mut out, &erd, r);
    }
    out.push_str("}\n");
    out
}

fn node(out: &mut String, e: &Entity) {
    let _ = write!(out, "    {} [", e.id);
    if let Some(comment) = &e.table.comment {
        let _ = write!(out, "tooltip={}, ", quoted(comment));
    }
    out.push_str("label=<\n");
    out.push_str(
        "        <TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\" COLOR=\"#8aa1c1\">\n",
    );
    let _ = writeln!(
        out,
        "            <TR><TD COLSPAN=\"3\" BGCOLOR=\"#dbe6f5\"><B>{}</B></TD></TR>",
        xml(&e.label)
    );
    for (i, c) in e.columns.iter().enumerate() {
        let _ = writeln!(
            out,
            "            <TR><TD PORT=\"c{i}w\" ALIGN=\"LEFT\">{}</TD><TD ALIGN=\"LEFT\"><FONT COLOR=\"#6b7280\">{}</FONT></TD><TD PORT=\"c{i}e\" ALIGN=\"LEFT\">{}</TD></TR>",
            xml(&c.column.name),
            xml(&display_type(&c.column.data_type)),
            c.keys.labels().join(" ")
        );
    }
    out.push_str("        </TABLE>\n    >];\n");
}

/// `child:column -> parent:column`, leaving the child's east side and entering the parent's
/// west side (both east for a self-reference), with crow's-foot ends.
fn edge(out: &mut String, erd: &Erd, r: &Relation) {
    let child = &erd.entities[r.child];
    let parent = &erd.entities[r.parent];
    let port = |e: &Entity, column: Option<&String>, side: char| match column
        .and_then(|name| e.columns.iter().position(|c| &c.column.name == name))
    {
        Some(i) => format!("{}:c{i}{side}:{side}", e.id),
        None => e.id.clone(),
    };
    let from = port(child, r.columns.first(), 'e');
    let to_side = if r.child == r.parent { 'e' } else { 'w' };
    let to = port(parent, r.referenced_columns.first(), to_side);
    // Arrow shapes are listed from the node outwards.
    let tail = if r.one_to_one { "teeodot" } else { "crowodot" };
    let head = if r.mandatory { "teetee" } else { "teeodot" };
    let _ = writeln!(
        out,
        "    {from} -> {to} [arrowtail={tail}, arrowhead={head}, tooltip={}];",
        quoted(&format!("{} ({})", r.name, r.columns.join(", ")))
    );
}

/// A DOT double-quoted string.
fn quoted(s: &str) -> String {
    format!(
        "\"{}\"",
        one_line(s).replace('\\', "\\\\").replace('"', "\\\"")
    )
}
