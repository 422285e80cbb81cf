//! Schema documentation rendered from the dbarch model: Mermaid and Graphviz ERDs, an SVG ERD
//! laid out here (no Graphviz needed), and Markdown docs in the manner of tbls.
//!
//! Every renderer is a pure function of the [`Database`]: no I/O, and the same model always
//! gives the same bytes, with objects in the model's order.

mod dot;
mod erd;
mod escape;
mod markdown;
mod mermaid;
mod svg;

use dbarch_model::Database;

pub use svg::layout::{Edge, Layout, Point, Rect, TableBox};

/// How many columns an ERD shows per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColumnDetail {
    /// Every column.
    #[default]
    All,
    /// Only columns in a primary key, foreign key or unique constraint.
    KeysOnly,
    /// Table names only.
    None,
}

/// Options shared by the ERD renderers (Mermaid, DOT, SVG).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErdOptions {
    pub columns: ColumnDetail,
    pub title: Option<String>,
}

/// Options of the Markdown renderer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsOptions {
    /// Document heading; `Database schema` when absent.
    pub title: Option<String>,
    /// Embed the Mermaid ERD (all columns) in a `mermaid` fence.
    pub erd: bool,
}

impl Default for DocsOptions {
    fn default() -> Self {
        Self {
            title: None,
            erd: true,
        }
    }
}

/// A Mermaid `erDiagram` (renders on GitHub): tables as entities, foreign keys as relationships.
pub fn mermaid(db: &Database, opts: &ErdOptions) -> String {
    mermaid::render(db, opts)
}

/// A Graphviz `digraph` with one HTML-like table per table and edges between column ports.
pub fn dot(db: &Database, opts: &ErdOptions) -> String {
    dot::render(db, opts)
}

/// A standalone SVG ERD, laid out by [`svg_layout`].
pub fn svg(db: &Database, opts: &ErdOptions) -> String {
    svg::render::render(&svg::layout::layout(db, opts))
}

/// The geometry behind [`svg`]: one box per table and one routed edge per foreign key.
pub fn svg_layout(db: &Database, opts: &ErdOptions) -> Layout {
    svg::layout::layout(db, opts)
}

/// Markdown documentation: an index, the ERD, then a section per table, view and other object.
pub fn markdown(db: &Database, opts: &DocsOptions) -> String {
    markdown::render(db, opts)
}
