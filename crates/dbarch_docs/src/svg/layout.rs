//! A small layered layout, so the SVG needs no Graphviz.
//!
//! 1. Rank tables by foreign-key depth: referenced tables left, their children right (cycles
//!    broken deterministically by a depth-first search in model order).
//! 2. Order tables within each rank by a few barycenter sweeps, to reduce crossings.
//! 3. Split ranks taller than a target height into several columns, and wrap the columns into
//!    bands, choosing the band count that brings the picture closest to a 16:10 aspect.
//! 4. Nudge boxes vertically toward their neighbours, then route each foreign key as a cubic
//!    Bézier from the FK column's row to the referenced column's row.

use crate::ErdOptions;
use crate::erd::{Erd, Relation};
use crate::escape::one_line;
use dbarch_model::{Database, QualifiedName, display_type};

/// Average advance of a 12 px monospace glyph.
pub(crate) const CHAR_W: f64 = 7.2;
/// Average advance of the 9 px key markers (`PK`, `FK`).
pub(crate) const KEY_CHAR_W: f64 = 5.6;
pub(crate) const ROW_H: f64 = 18.0;
pub(crate) const HEADER_H: f64 = 24.0;
pub(crate) const PAD: f64 = 8.0;
/// Between a column's name and its type.
pub(crate) const TEXT_GAP: f64 = 16.0;
pub(crate) const BOTTOM_PAD: f64 = 4.0;
pub(crate) const TITLE_H: f64 = 36.0;
const MIN_BOX_W: f64 = 120.0;
/// Horizontal gap between ranks: room for the curves.
const RANK_GAP: f64 = 96.0;
/// Vertical gap between boxes of a column.
const NODE_GAP: f64 = 28.0;
const BAND_GAP: f64 = 64.0;
const MARGIN: f64 = 24.0;
/// Left and top margin of the title text.
pub(crate) const MARGIN_TEXT: f64 = MARGIN;
/// Width over height aimed at when splitting ranks and wrapping bands.
const ASPECT: f64 = 1.6;
/// The tallest picture accepted before splitting ranks of related tables.
const MIN_ASPECT: f64 = 0.5;
/// Unrelated tables are not split into columns shorter than this.
const MIN_COLUMN_H: f64 = 720.0;
const SWEEPS: usize = 4;
/// The widest picture kept in a single band, relative and absolute (fits a page).
const MAX_SINGLE_BAND_ASPECT: f64 = 3.0;
const SINGLE_BAND_W: f64 = 1600.0;

/// The laid-out diagram; coordinates in SVG user units, origin top left.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub title: Option<String>,
    pub boxes: Vec<TableBox>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.width
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }

    /// True when the interiors intersect (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// One table's box.
#[derive(Debug, Clone, PartialEq)]
pub struct TableBox {
    pub table: QualifiedName,
    /// The heading shown (schema-qualified outside `public` or when names collide).
    pub label: String,
    pub rect: Rect,
    /// The rank (FK depth) the layout gave the table.
    pub rank: usize,
    pub(crate) comment: Option<String>,
    pub(crate) rows: Vec<Row>,
    /// Width of the key-marker slot at the left of each row (0 when no row has a key).
    pub(crate) key_width: f64,
    pub(crate) name_width: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub name: String,
    pub type_name: String,
    pub keys: String,
}

/// One foreign key, from the child's FK column to the parent's referenced column.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub constraint: String,
    /// Indexes into [`Layout::boxes`].
    pub child: usize,
    pub parent: usize,
    pub from: Point,
    pub to: Point,
    pub one_to_one: bool,
    pub mandatory: bool,
    /// SVG path data of the curve.
    pub(crate) path: String,
    /// SVG path data of the crow's-foot strokes at both ends.
    pub(crate) marks: String,
    /// Centres of the hollow "zero" circles.
    pub(crate) circles: Vec<Point>,
    /// Horizontal extent of the curve and its marks (control points bound a Bézier).
    pub(crate) min_x: f64,
    pub(crate) max_x: f64,
}

pub(crate) fn layout(db: &Database, opts: &ErdOptions) -> Layout {
    let erd = Erd::build(db, opts.columns);
    let title = opts.title.as_deref().map(one_line);
    let mut boxes: Vec<TableBox> = erd
        .entities
        .iter()
        .map(|e| {
            let rows = e
                .columns
                .iter()
                .map(|c| Row {
                    name: c.column.name.clone(),
                    type_name: display_type(&c.column.data_type),
                    keys: c.keys.labels().join(" "),
                })
                .collect();
            sized_box(
                e.table.qualified_name(),
                e.label.clone(),
                e.table.comment.clone(),
                rows,
            )
        })
        .collect();

    let top = MARGIN + if title.is_some() { TITLE_H } else { 0.0 };
    if boxes.is_empty() {
        return Layout {
            width: 240f64.max(text_width(title.as_deref().unwrap_or("")) + 2.0 * MARGIN),
            height: top + 56.0,
            title,
            boxes,
            edges: Vec::new(),
        };
    }

    let graph = Graph::new(boxes.len(), &erd.relations);
    let (rank_of, lone) = assign_ranks(&graph);
    let ranks = order_ranks(&graph, rank_of);
    for (r, rank) in ranks.iter().enumerate() {
        for &b in rank {
            boxes[b].rank = r;
        }
    }
    let (columns, bands) = arrange(&ranks, lone, &boxes);
    let (width, height) = place(&mut boxes, &columns, &bands, &graph, top);
    let mut edges: Vec<Edge> = erd.relations.iter().map(|r| route(r, &boxes)).collect();
    // Curves that bulge out of the boxes' hull (self-references, same-side links at the very
    // left) must stay inside the picture: shift right and widen as needed.
    let left = edges.iter().map(|e| e.min_x).fold(f64::INFINITY, f64::min);
    let mut width = width;
    if left < MARGIN / 2.0 {
        let shift = (MARGIN / 2.0 - left).ceil();
        for b in &mut boxes {
            b.rect.x += shift;
        }
        width += shift;
        edges = erd.relations.iter().map(|r| route(r, &boxes)).collect();
    }
    let right = edges.iter().map(|e| e.max_x).fold(0.0, f64::max);
    let width = width
        .max(right + MARGIN / 2.0)
        .max(text_width(title.as_deref().unwrap_or("")) + 2.0 * MARGIN);
    Layout {
        width: width.ceil(),
        height: height.ceil(),
        title,
        boxes,
        edges,
    }
}

pub(crate) fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

fn sized_box(
    table: QualifiedName,
    label: String,
    comment: Option<String>,
    rows: Vec<Row>,
) -> TableBox {
    let widest = |f: fn(&Row) -> &str| rows.iter().map(|r| text_width(f(r))).fold(0.0, f64::max);
    let name_width = widest(|r| &r.name);
    let type_width = widest(|r| &r.type_name);
    let key_chars = rows
        .iter()
        .map(|r| r.keys.chars().count())
        .max()
        .unwrap_or(0);
    let key_width = if key_chars > 0 {
        key_chars as f64 * KEY_CHAR_W + 6.0
    } else {
        0.0
    };
    let content = if rows.is_empty() {
        0.0
    } else {
        2.0 * PAD + key_width + name_width + TEXT_GAP + type_width
    };
    let header = 2.0 * PAD + text_width(&label);
    let height = HEADER_H
        + if rows.is_empty() {
            0.0
        } else {
            rows.len() as f64 * ROW_H + BOTTOM_PAD
        };
    TableBox {
        table,
        label,
        rect: Rect {
            x: 0.0,
            y: 0.0,
            width: content.max(header).max(MIN_BOX_W).ceil(),
            height,
        },
        rank: 0,
        comment,
        rows,
        key_width,
        name_width,
    }
}

/// FK adjacency between boxes, self-references left out (they do not affect placement).
struct Graph {
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl Graph {
    fn new(n: usize, relations: &[Relation]) -> Self {
        let mut g = Graph {
            parents: vec![Vec::new(); n],
            children: vec![Vec::new(); n],
        };
        for r in relations {
            if r.child != r.parent && !g.parents[r.child].contains(&r.parent) {
                g.parents[r.child].push(r.parent);
                g.children[r.parent].push(r.child);
            }
        }
        g
    }

    fn neighbours(&self, v: usize) -> impl Iterator<Item = usize> + '_ {
        self.parents[v].iter().chain(&self.children[v]).copied()
    }
}

/// Longest-path ranks over the FK graph with back edges (found by DFS in model order) ignored;
/// parentless tables are pulled right next to their nearest child, and unrelated tables get a
/// rank of their own after the others.
fn assign_ranks(g: &Graph) -> (Vec<usize>, Option<usize>) {
    let n = g.parents.len();
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; n];
    let mut rank = vec![0usize; n];
    // kept[v]: parents of v whose edge is not a back edge.
    let mut kept: Vec<Vec<usize>> = vec![Vec::new(); n];
    for start in 0..n {
        if state[start] != State::New {
            continue;
        }
        // Iterative DFS: (node, next parent to look at).
        let mut stack = vec![(start, 0usize)];
        state[start] = State::Open;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&p) = g.parents[v].get(*next) {
                *next += 1;
                match state[p] {
                    State::Open => {} // back edge: this is where a cycle is broken
                    State::Done => kept[v].push(p),
                    State::New => {
                        kept[v].push(p);
                        state[p] = State::Open;
                        stack.push((p, 0));
                    }
                }
            } else {
                rank[v] = kept[v].iter().map(|&p| rank[p] + 1).max().unwrap_or(0);
                state[v] = State::Done;
                stack.pop();
            }
        }
    }
    let mut has_kept_child = vec![false; n];
    for &p in kept.iter().flatten() {
        has_kept_child[p] = true;
    }
    for v in 0..n {
        if kept[v].is_empty() && has_kept_child[v] {
            let nearest = (0..n)
                .filter(|&c| kept[c].contains(&v))
                .map(|c| rank[c])
                .min()
                .unwrap_or(1);
            rank[v] = nearest.saturating_sub(1);
        }
    }
    let isolated = |v: usize| kept[v].is_empty() && !has_kept_child[v];
    let connected_max = (0..n).filter(|&v| !isolated(v)).map(|v| rank[v]).max();
    let lone_rank = connected_max.map_or(0, |m| m + 1);
    let mut any_lone = false;
    for (v, r) in rank.iter_mut().enumerate() {
        if isolated(v) {
            *r = lone_rank;
            any_lone = true;
        }
    }
    (rank, any_lone.then_some(lone_rank))
}

/// Groups boxes by rank (model order first), then reorders each rank by the mean relative
/// position of its neighbours in the ranks before it (downward sweeps) or after it (upward).
fn order_ranks(g: &Graph, rank: Vec<usize>) -> Vec<Vec<usize>> {
    let count = rank.iter().max().map_or(0, |m| m + 1);
    let mut ranks: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (v, &r) in rank.iter().enumerate() {
        ranks[r].push(v);
    }
    let mut pos = vec![0.0f64; rank.len()];
    let update = |pos: &mut Vec<f64>, members: &[usize]| {
        for (i, &v) in members.iter().enumerate() {
            pos[v] = (i as f64 + 0.5) / members.len() as f64;
        }
    };
    for members in &ranks {
        update(&mut pos, members);
    }
    for sweep in 0..SWEEPS {
        let order: Vec<usize> = if sweep % 2 == 0 {
            (1..count).collect()
        } else {
            (0..count.saturating_sub(1)).rev().collect()
        };
        for r in order {
            let before = |n: usize| {
                if sweep % 2 == 0 {
                    rank[n] < r
                } else {
                    rank[n] > r
                }
            };
            let keys: Vec<(usize, f64)> = ranks[r]
                .iter()
                .map(|&v| {
                    let ns: Vec<f64> = g
                        .neighbours(v)
                        .filter(|&n| before(n))
                        .map(|n| pos[n])
                        .collect();
                    let bary = if ns.is_empty() {
                        pos[v]
                    } else {
                        ns.iter().sum::<f64>() / ns.len() as f64
                    };
                    (v, bary)
                })
                .collect();
            let mut sorted = keys;
            sorted.sort_by(|a, b| a.1.total_cmp(&b.1)); // stable: ties keep their order
            ranks[r] = sorted.into_iter().map(|(v, _)| v).collect();
            update(&mut pos, &ranks[r]);
        }
    }
    ranks
}

/// A vertical stack of boxes.
struct Column {
    boxes: Vec<usize>,
    width: f64,
    height: f64,
}

/// Chooses how to split ranks into columns and columns into bands.
///
/// Splitting a rank of related tables costs readability (curves then pass behind the first
/// column), so connected ranks are split only as much as needed to keep the picture from
/// being taller than wide by more than [`MIN_ASPECT`]. Unrelated tables, which have no curves,
/// are split to fit [`ASPECT`] right away.
fn arrange(
    ranks: &[Vec<usize>],
    lone: Option<usize>,
    boxes: &[TableBox],
) -> (Vec<Column>, Vec<std::ops::Range<usize>>) {
    let tallest = boxes.iter().map(|b| b.rect.height).fold(0.0, f64::max);
    let lone_target = lone.map(|r| {
        let area: f64 = ranks[r]
            .iter()
            .map(|&b| (boxes[b].rect.width + RANK_GAP) * (boxes[b].rect.height + NODE_GAP))
            .sum();
        (area / ASPECT).sqrt().max(MIN_COLUMN_H).max(tallest)
    });
    let unsplit = split_ranks(ranks, boxes, |_| f64::INFINITY);
    let full = unsplit.iter().map(|c| c.height).fold(0.0, f64::max);
    let most = ranks.iter().map(Vec::len).max().unwrap_or(1);
    let mut best = None;
    for k in 1..=most {
        let target = (full / k as f64).max(tallest);
        let columns = split_ranks(ranks, boxes, |r| {
            if Some(r) == lone {
                lone_target.unwrap_or(target).min(target)
            } else {
                target
            }
        });
        let bands = wrap_bands(&columns);
        let (w, h) = size(&columns, &bands);
        best = Some((columns, bands));
        if w / h >= MIN_ASPECT {
            break;
        }
    }
    best.expect("at least one rank")
}

/// Splits each rank into columns no taller than `target(rank)`, keeping the within-rank order
/// top to bottom, left to right.
fn split_ranks(
    ranks: &[Vec<usize>],
    boxes: &[TableBox],
    target: impl Fn(usize) -> f64,
) -> Vec<Column> {
    let empty = || Column {
        boxes: Vec::new(),
        width: 0.0,
        height: 0.0,
    };
    let mut columns = Vec::new();
    for (r, rank) in ranks.iter().enumerate() {
        let limit = target(r);
        let mut col = empty();
        for &b in rank {
            let h = boxes[b].rect.height;
            let grown = if col.boxes.is_empty() {
                h
            } else {
                col.height + NODE_GAP + h
            };
            if !col.boxes.is_empty() && grown > limit {
                columns.push(std::mem::replace(&mut col, empty()));
                col.height = h;
            } else {
                col.height = grown;
            }
            col.boxes.push(b);
            col.width = col.width.max(boxes[b].rect.width);
        }
        if !col.boxes.is_empty() {
            columns.push(col);
        }
    }
    columns
}

/// Overall width and height of columns wrapped into bands.
fn size(columns: &[Column], bands: &[std::ops::Range<usize>]) -> (f64, f64) {
    let mut w: f64 = 0.0;
    let mut h = BAND_GAP * (bands.len() - 1) as f64;
    for band in bands {
        let cols = &columns[band.clone()];
        w = w.max(cols.iter().map(|c| c.width).sum::<f64>() + RANK_GAP * (cols.len() - 1) as f64);
        h += cols.iter().map(|c| c.height).fold(0.0, f64::max);
    }
    (w, h)
}

/// Wraps the columns into bands (rows of columns) when one band would be too wide, trying every
/// band count and keeping the one whose overall width/height is closest to [`ASPECT`].
/// Returns the columns' index ranges.
fn wrap_bands(columns: &[Column]) -> Vec<std::ops::Range<usize>> {
    let total: f64 =
        columns.iter().map(|c| c.width).sum::<f64>() + RANK_GAP * (columns.len() - 1) as f64;
    let widest = columns.iter().map(|c| c.width).fold(0.0, f64::max);
    let pack = |limit: f64| {
        let mut bands = Vec::new();
        let (mut start, mut w) = (0, 0.0);
        for (i, c) in columns.iter().enumerate() {
            let grown = if i == start {
                c.width
            } else {
                w + RANK_GAP + c.width
            };
            if i > start && grown > limit {
                bands.push(start..i);
                start = i;
                w = c.width;
            } else {
                w = grown;
            }
        }
        bands.push(start..columns.len());
        bands
    };
    let mut best = pack(f64::INFINITY);
    // Wrapping separates related tables, so a single band wins unless it is far too wide.
    let (w, h) = size(columns, &best);
    if w <= SINGLE_BAND_W || w / h <= MAX_SINGLE_BAND_ASPECT {
        return best;
    }
    let mut best_score = f64::INFINITY;
    for count in 1..=columns.len() {
        let bands = pack((total / count as f64).max(widest) * 1.001);
        let (w, h) = size(columns, &bands);
        let score = ((w / h) / ASPECT).ln().abs();
        if score < best_score - 1e-9 {
            best_score = score;
            best = bands;
        }
    }
    best
}

/// Gives every box its position; returns the overall width and height.
fn place(
    boxes: &mut [TableBox],
    columns: &[Column],
    bands: &[std::ops::Range<usize>],
    g: &Graph,
    top: f64,
) -> (f64, f64) {
    let mut y = top;
    let mut width: f64 = 0.0;
    for band in bands {
        let cols = &columns[band.clone()];
        let band_h = cols.iter().map(|c| c.height).fold(0.0, f64::max);
        let mut x = MARGIN;
        for col in cols {
            let mut cy = y + (band_h - col.height) / 2.0;
            for &b in &col.boxes {
                boxes[b].rect.x = x;
                boxes[b].rect.y = cy;
                cy += boxes[b].rect.height + NODE_GAP;
            }
            x += col.width + RANK_GAP;
        }
        width = width.max(x - RANK_GAP + MARGIN);
        // Two passes pulling boxes toward their neighbours in the same band.
        let in_band: Vec<bool> = {
            let mut v = vec![false; boxes.len()];
            for col in cols {
                for &b in &col.boxes {
                    v[b] = true;
                }
            }
            v
        };
        for pass in 0..2 {
            let order: Vec<&Column> = if pass == 0 {
                cols.iter().collect()
            } else {
                cols.iter().rev().collect()
            };
            for col in order {
                let desired: Vec<f64> = col
                    .boxes
                    .iter()
                    .map(|&b| {
                        let ns: Vec<f64> = g
                            .neighbours(b)
                            .filter(|&n| in_band[n] && boxes[n].rect.x != boxes[b].rect.x)
                            .map(|n| boxes[n].rect.y + boxes[n].rect.height / 2.0)
                            .collect();
                        if ns.is_empty() {
                            boxes[b].rect.y
                        } else {
                            ns.iter().sum::<f64>() / ns.len() as f64 - boxes[b].rect.height / 2.0
                        }
                    })
                    .collect();
                let heights: Vec<f64> = col.boxes.iter().map(|&b| boxes[b].rect.height).collect();
                let tops = fit_column(&desired, &heights, y, y + band_h);
                for (&b, t) in col.boxes.iter().zip(tops) {
                    boxes[b].rect.y = t;
                }
            }
        }
        y += band_h + BAND_GAP;
    }
    (width, y - BAND_GAP + MARGIN)
}

/// Tops as close to `desired` as the order, the gaps and the band allow (the column is known
/// to fit in the band).
fn fit_column(desired: &[f64], heights: &[f64], top: f64, bottom: f64) -> Vec<f64> {
    let n = desired.len();
    let mut t = vec![0.0; n];
    for i in 0..n {
        let min = if i == 0 {
            top
        } else {
            t[i - 1] + heights[i - 1] + NODE_GAP
        };
        t[i] = desired[i].max(min);
    }
    for i in (0..n).rev() {
        let max = if i + 1 == n {
            bottom - heights[i]
        } else {
            t[i + 1] - NODE_GAP - heights[i]
        };
        t[i] = t[i].min(max);
    }
    // Rounded so that the SVG has tidy coordinates.
    t.iter().map(|v| v.round()).collect()
}

/// The y of a row's centre, or of the header when the column is not drawn.
fn anchor_y(b: &TableBox, column: Option<&String>) -> f64 {
    match column.and_then(|c| b.rows.iter().position(|r| &r.name == c)) {
        Some(i) => b.rect.y + HEADER_H + i as f64 * ROW_H + ROW_H / 2.0,
        None => b.rect.y + HEADER_H / 2.0,
    }
}

/// A cubic Bézier leaving both boxes horizontally on the sides that face each other, plus the
/// crow's-foot marks: "zero or many" (or "zero or one") at the child, "one" or "zero or one"
/// at the parent.
fn route(r: &Relation, boxes: &[TableBox]) -> Edge {
    let (c, p) = (&boxes[r.child].rect, &boxes[r.parent].rect);
    let mut y1 = anchor_y(&boxes[r.child], r.columns.first());
    let mut y2 = anchor_y(&boxes[r.parent], r.referenced_columns.first());
    if r.child == r.parent && (y1 - y2).abs() < 1.0 {
        // A self-reference between hidden columns: open the loop around the header's centre.
        y1 += 6.0;
        y2 -= 6.0;
    }
    // (x, outward direction) at each end.
    let ((x1, d1), (x2, d2)) = if r.child == r.parent {
        ((c.right(), 1.0), (c.right(), 1.0))
    } else if c.x >= p.right() {
        ((c.x, -1.0), (p.right(), 1.0))
    } else if c.right() <= p.x {
        ((c.right(), 1.0), (p.x, -1.0))
    } else {
        ((c.x, -1.0), (p.x, -1.0))
    };
    let dx = if d1 == d2 {
        36.0 + ((y1 - y2).abs() * 0.2).min(60.0)
    } else {
        ((x2 - x1).abs() / 2.0).max(40.0)
    };
    use crate::escape::num;
    let path = format!(
        "M{},{} C{},{} {},{} {},{}",
        num(x1),
        num(y1),
        num(x1 + d1 * dx),
        num(y1),
        num(x2 + d2 * dx),
        num(y2),
        num(x2),
        num(y2)
    );
    let bar = |x: f64, y: f64| format!("M{},{} v10", num(x), num(y - 5.0));
    let mut marks = Vec::new();
    let mut circles = Vec::new();
    if r.one_to_one {
        marks.push(bar(x1 + d1 * 9.0, y1));
    } else {
        let tip = num(x1 + d1 * 12.0);
        marks.push(format!(
            "M{tip},{} L{},{} M{tip},{} L{},{}",
            num(y1),
            num(x1),
            num(y1 - 6.0),
            num(y1),
            num(x1),
            num(y1 + 6.0)
        ));
    }
    circles.push(Point {
        x: x1 + d1 * 19.0,
        y: y1,
    });
    marks.push(bar(x2 + d2 * 8.0, y2));
    if r.mandatory {
        marks.push(bar(x2 + d2 * 12.0, y2));
    } else {
        circles.push(Point {
            x: x2 + d2 * 16.0,
            y: y2,
        });
    }
    Edge {
        constraint: r.name.to_string(),
        child: r.child,
        parent: r.parent,
        from: Point { x: x1, y: y1 },
        to: Point { x: x2, y: y2 },
        one_to_one: r.one_to_one,
        mandatory: r.mandatory,
        path,
        marks: marks.join(" "),
        circles,
        min_x: [x1, x2, x1 + d1 * (dx + 4.0), x2 + d2 * (dx + 4.0)]
            .into_iter()
            .fold(f64::INFINITY, f64::min),
        max_x: [x1, x2, x1 + d1 * (dx + 4.0), x2 + d2 * (dx + 4.0)]
            .into_iter()
            .fold(0.0, f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_in_order() {
        let t = fit_column(&[0.0, 0.0, 500.0], &[100.0, 100.0, 100.0], 0.0, 400.0);
        assert_eq!(t, vec![0.0, 128.0, 300.0]);
    }
}
