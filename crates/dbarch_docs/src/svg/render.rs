//! Serializes a [`Layout`] as standalone SVG.

use super::layout::{HEADER_H, Layout, MARGIN_TEXT, PAD, ROW_H, TEXT_GAP, TITLE_H, TableBox};
use crate::escape::{num, one_line, xml};
use std::fmt::Write;

const STYLE: &str = "\
text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:12px;fill:#1f2937}\
.title{font-size:16px;font-weight:bold}\
.box{fill:#fff;stroke:#8aa1c1;stroke-width:1}\
.head{fill:#dbe6f5}\
.stripe{fill:#f5f8fc}\
.th{font-weight:bold}\
.type{fill:#6b7280}\
.key{font-size:9px;font-weight:bold;fill:#2b6cb0}\
.pk{fill:#b7791f}\
.edge{fill:none;stroke:#7a8ca5;stroke-width:1.3}\
.mark{fill:none;stroke:#4a5a72;stroke-width:1.3}\
.zero{fill:#fff;stroke:#4a5a72;stroke-width:1.3}\
.empty{fill:#6b7280}";

pub(crate) fn render(layout: &Layout) -> String {
    let (w, h) = (num(layout.width), num(layout.height));
    let mut out = String::new();
    let _ = writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">"
    );
    let title = layout
        .title
        .clone()
        .unwrap_or_else(|| "Entity relationship diagram".to_string());
    let _ = writeln!(out, "<title>{}</title>", xml(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>");
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
    if let Some(t) = &layout.title {
        let _ = writeln!(
            out,
            "<text class=\"title\" x=\"{}\" y=\"{}\">{}</text>",
            num(MARGIN_TEXT),
            num(MARGIN_TEXT + TITLE_H / 2.0),
            xml(t)
        );
    }
    if layout.boxes.is_empty() {
        let y = layout.height - 24.0 - MARGIN_TEXT / 2.0;
        let _ = writeln!(
            out,
            "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">no tables</text>",
            num(layout.width / 2.0),
            num(y)
        );
    }
    // Edges first, so that boxes hide the curves that pass behind them.
    out.push_str("<g class=\"edges\">\n");
    for e in &layout.edges {
        let _ = write!(
            out,
            "<g><title>{}</title><path class=\"edge\" d=\"{}\"/><path class=\"mark\" d=\"{}\"/>",
            xml(&e.constraint),
            e.path,
            e.marks
        );
        for c in &e.circles {
            let _ = write!(
                out,
                "<circle class=\"zero\" cx=\"{}\" cy=\"{}\" r=\"3.5\"/>",
                num(c.x),
                num(c.y)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n<g class=\"tables\">\n");
    for b in &layout.boxes {
        table(&mut out, b);
    }
    out.push_str("</g>\n</svg>\n");
    out
}

fn table(out: &mut String, b: &TableBox) {
    let r = &b.rect;
    let (x, y, w) = (r.x, r.y, r.width);
    let tooltip = match &b.comment {
        Some(c) => format!("{}\n{}", b.table, c.trim()),
        None => b.table.to_string(),
    };
    let _ = writeln!(out, "<g><title>{}</title>", xml(&tooltip));
    let _ = writeln!(
        out,
        "<rect class=\"box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\"/>",
        num(x),
        num(y),
        num(w),
        num(r.height)
    );
    // Header: rounded at the top only, hence the path.
    let _ = writeln!(
        out,
        "<path class=\"head\" d=\"M{},{} a4,4 0 0 1 4,-4 h{} a4,4 0 0 1 4,4 v{} h{} z\"/>",
        num(x + 0.5),
        num(y + 4.5),
        num(w - 9.0),
        num(HEADER_H - 4.5),
        num(-(w - 1.0))
    );
    let _ = writeln!(
        out,
        "<text class=\"th\" x=\"{}\" y=\"{}\">{}</text>",
        num(x + PAD),
        num(y + 16.5),
        xml(&b.label)
    );
    for (i, row) in b.rows.iter().enumerate() {
        let top = y + HEADER_H + i as f64 * ROW_H;
        if i % 2 == 1 {
            let _ = writeln!(
                out,
                "<rect class=\"stripe\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                num(x + 1.0),
                num(top),
                num(w - 2.0),
                num(ROW_H)
            );
        }
        let baseline = top + 13.0;
        if !row.keys.is_empty() {
            let class = if row.keys.starts_with("PK") {
                "key pk"
            } else {
                "key"
            };
            let _ = writeln!(
                out,
                "<text class=\"{class}\" x=\"{}\" y=\"{}\">{}</text>",
                num(x + PAD),
                num(baseline - 0.5),
                xml(&row.keys)
            );
        }
        let name_x = x + PAD + b.key_width;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text><text class=\"type\" x=\"{}\" y=\"{}\">{}</text>",
            num(name_x),
            num(baseline),
            xml(&one_line(&row.name)),
            num(name_x + b.name_width + TEXT_GAP),
            num(baseline),
            xml(&one_line(&row.type_name))
        );
    }
    // Line under the header, drawn last so the stripes do not cover it.
    if !b.rows.is_empty() {
        let _ = writeln!(
            out,
            "<path class=\"box\" d=\"M{},{} h{}\"/>",
            num(x),
            num(y + HEADER_H),
            num(w)
        );
    }
    out.push_str("</g>\n");
}
