mod fixture;

use dbarch_docs::{ColumnDetail, DocsOptions, ErdOptions, markdown, mermaid, svg, svg_layout};
use dbarch_model::Database;
use std::collections::HashSet;

fn all() -> ErdOptions {
    ErdOptions::default()
}

#[test]
fn mermaid_snapshot() {
    insta::assert_snapshot!("mermaid", mermaid(&fixture::database(), &all()));
}

#[test]
fn mermaid_keys_only_with_title_snapshot() {
    let opts = ErdOptions {
        columns: ColumnDetail::KeysOnly,
        title: Some("Keys \"only\"".into()),
    };
    insta::assert_snapshot!("mermaid_keys_only", mermaid(&fixture::database(), &opts));
}

#[test]
fn dot_snapshot() {
    insta::assert_snapshot!("dot", dbarch_docs::dot(&fixture::database(), &all()));
}

#[test]
fn svg_snapshot() {
    let opts = ErdOptions {
        title: Some("dbarch <fixture> & co".into()),
        ..all()
    };
    insta::assert_snapshot!("svg", svg(&fixture::database(), &opts));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(
        "markdown",
        markdown(&fixture::database(), &DocsOptions::default())
    );
}

#[test]
fn output_is_deterministic() {
    let (a, b) = (fixture::database(), fixture::database());
    assert_eq!(mermaid(&a, &all()), mermaid(&b, &all()));
    assert_eq!(dbarch_docs::dot(&a, &all()), dbarch_docs::dot(&b, &all()));
    assert_eq!(svg(&a, &all()), svg(&b, &all()));
    assert_eq!(
        markdown(&a, &DocsOptions::default()),
        markdown(&b, &DocsOptions::default())
    );
}

#[test]
fn mermaid_relationships_have_the_right_cardinalities() {
    let m = mermaid(&fixture::database(), &all());
    let rels: Vec<&str> = m
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("--"))
        .collect();
    for expected in [
        // nullable FK: parent optional, many children
        "public_users |o--o{ documents : \"user_id\"",
        // NOT NULL FK
        "documents ||--o{ document_chunks : \"document_id\"",
        // FK covered by the primary key: one-to-one
        "public_users ||--o| user_profiles : \"user_id\"",
        // self-reference
        "categories |o--o{ categories : \"parent_id\"",
        // across schemas, between two tables named `users`
        "public_users ||--o{ audit_users : \"user_id\"",
        // the partitioned parent, not its partitions
        "public_users |o--o{ events : \"user_id\"",
    ] {
        assert!(
            rels.contains(&expected),
            "missing {expected:?} in {rels:#?}"
        );
    }
    assert_eq!(rels.len(), 6, "{rels:#?}");
    assert!(!m.contains("events_2024"));
    assert!(m.contains("audit_users[\"audit.users\"] {"));
    assert!(m.contains("public_users[\"public.users\"] {"));
}

#[test]
fn mermaid_attributes_are_valid_tokens() {
    let m = mermaid(&fixture::database(), &all());
    let mut attributes = 0;
    for line in m.lines().filter(|l| l.starts_with("        ")) {
        attributes += 1;
        let (head, comment) = match line.trim().split_once(" \"") {
            Some((h, c)) => (h, Some(c)),
            None => (line.trim(), None),
        };
        let words: Vec<&str> = head.split(' ').collect();
        let ty = words[0];
        let base = ty.trim_end_matches("[]");
        assert!(
            base.starts_with(|c: char| c.is_ascii_alphabetic())
                && base
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "bad type {ty:?} in {line:?}"
        );
        if let Some(c) = comment {
            assert!(
                c.ends_with('"') && !c[..c.len() - 1].contains('"'),
                "{line:?}"
            );
        }
    }
    assert!(attributes > 20);
    assert!(m.contains("varchar_255 email UK"));
    assert!(m.contains("numeric_10_4 price"));
    assert!(m.contains("vector_384 embedding"));
    assert!(m.contains("text[] tags"));
}

#[test]
fn mermaid_without_columns_lists_entities_only() {
    let opts = ErdOptions {
        columns: ColumnDetail::None,
        title: None,
    };
    let m = mermaid(&fixture::database(), &opts);
    assert!(!m.contains('{') || m.lines().all(|l| !l.ends_with('{')));
    assert!(m.lines().any(|l| l.trim() == "documents"));
}

/// GitHub's anchor for a heading, numbered on repeats.
fn github_anchors(md: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut in_fence = false;
    for line in md.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let text = line.trim_start_matches('#').trim().replace('\\', "");
        let base: String = text
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c),
                _ => None,
            })
            .collect();
        let mut slug = base.clone();
        let mut n = 0;
        while seen.contains(&slug) {
            n += 1;
            slug = format!("{base}-{n}");
        }
        seen.insert(slug);
    }
    seen
}

#[test]
fn markdown_links_resolve_to_headings() {
    let md = markdown(&fixture::database(), &DocsOptions::default());
    let anchors = github_anchors(&md);
    let mut links = 0;
    for part in md.split("](#").skip(1) {
        let target = &part[..part.find(')').unwrap()];
        assert!(anchors.contains(target), "dangling link #{target}");
        links += 1;
    }
    assert!(links >= 15, "only {links} links");
    assert!(md.contains("[public.users](#publicusers)"));
    assert!(md.contains("[audit.users](#auditusers)"));
    assert!(md.contains("```mermaid\nerDiagram\n"));
    // Partitions are listed under their parent, not given sections of their own.
    assert!(!md.contains("## public.events_2024"));
    assert!(md.contains("| public.events_2024 | `FOR VALUES FROM"));
}

#[test]
fn markdown_table_cells_are_escaped() {
    let md = markdown(&fixture::database(), &DocsOptions::default());
    assert!(md.contains("Login e-mail; \"unique\" \\| case-sensitive"));
    assert!(
        md.contains("Registered \"users\" \\| accounts &lt;b&gt;&amp; co&lt;/b&gt;<br>Second line")
    );
    let cols = |l: &str| {
        let mut n = 0;
        let mut prev = ' ';
        for c in l.chars() {
            if c == '|' && prev != '\\' {
                n += 1;
            }
            prev = c;
        }
        n
    };
    // Every row of a table has as many unescaped pipes as its header.
    let mut lines = md.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("| ") {
            let want = cols(line);
            while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
                assert_eq!(cols(row), want, "{row}");
            }
        }
    }
    let without_erd = markdown(
        &fixture::database(),
        &DocsOptions {
            title: Some("T".into()),
            erd: false,
        },
    );
    assert!(without_erd.starts_with("# T\n"));
    assert!(!without_erd.contains("```mermaid"));
}

#[test]
fn svg_is_valid_xml_with_a_title_and_view_box() {
    let s = svg(
        &fixture::database(),
        &ErdOptions {
            title: Some("a < b & \"c\"".into()),
            ..all()
        },
    );
    let doc = roxmltree::Document::parse(&s).expect("valid XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let vb: Vec<f64> = root
        .attribute("viewBox")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    let layout = svg_layout(&fixture::database(), &all());
    assert!(vb[2] >= layout.width && vb[3] > 0.0);
    let title = root.children().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(title.text(), Some("a < b & \"c\""));
}

fn assert_no_overlaps(db: &Database, opts: &ErdOptions) -> dbarch_docs::Layout {
    let layout = svg_layout(db, opts);
    for (i, a) in layout.boxes.iter().enumerate() {
        assert!(a.rect.x >= 0.0 && a.rect.y >= 0.0);
        assert!(
            a.rect.right() <= layout.width && a.rect.bottom() <= layout.height,
            "{} outside",
            a.label
        );
        for b in &layout.boxes[i + 1..] {
            assert!(
                !a.rect.overlaps(&b.rect),
                "{} overlaps {}",
                a.label,
                b.label
            );
        }
    }
    layout
}

#[test]
fn svg_boxes_do_not_overlap_and_edges_touch_their_boxes() {
    let db = fixture::database();
    for columns in [
        ColumnDetail::All,
        ColumnDetail::KeysOnly,
        ColumnDetail::None,
    ] {
        let layout = assert_no_overlaps(
            &db,
            &ErdOptions {
                columns,
                title: None,
            },
        );
        assert_eq!(layout.boxes.len(), 7, "partitions are not drawn");
        assert_eq!(layout.edges.len(), 6);
        for e in &layout.edges {
            let (c, p) = (&layout.boxes[e.child].rect, &layout.boxes[e.parent].rect);
            assert!(e.from.x == c.x || e.from.x == c.right());
            assert!(e.from.y > c.y && e.from.y < c.bottom());
            assert!(e.to.x == p.x || e.to.x == p.right());
            assert!(e.to.y > p.y && e.to.y < p.bottom());
        }
    }
    // Referenced tables sit left of (ranked before) the tables that reference them.
    let layout = svg_layout(&db, &all());
    let rank = |name: &str| {
        layout
            .boxes
            .iter()
            .find(|b| b.table.to_string() == name)
            .unwrap()
            .rank
    };
    assert!(rank("public.users") < rank("public.documents"));
    assert!(rank("public.documents") < rank("public.document_chunks"));
}

fn aspect(layout: &dbarch_docs::Layout) -> f64 {
    layout.width / layout.height
}

#[test]
fn svg_of_200_tables_wraps_to_a_reasonable_aspect() {
    type Link = Box<dyn Fn(usize) -> Option<usize>>;
    let cases: [(&str, Link); 4] = [
        ("unrelated", Box::new(|_| None)),
        ("chain", Box::new(|i| i.checked_sub(1))),
        ("star", Box::new(|i| (i > 0).then_some(0))),
        ("tree", Box::new(|i| (i > 0).then(|| (i - 1) / 3))),
    ];
    for (name, link) in cases {
        let db = fixture::generated(200, link);
        let layout = assert_no_overlaps(&db, &all());
        let a = aspect(&layout);
        assert!(
            (0.45..=3.0).contains(&a),
            "{name}: {}x{} (aspect {a:.2})",
            layout.width,
            layout.height
        );
        roxmltree::Document::parse(&svg(&db, &all())).expect("valid XML");
    }
}

#[test]
fn cycles_are_laid_out() {
    let db = fixture::generated(5, |i| Some((i + 1) % 5));
    let layout = assert_no_overlaps(&db, &all());
    assert_eq!(layout.edges.len(), 5);
}

#[test]
fn empty_database() {
    let db = Database::default();
    assert_eq!(mermaid(&db, &all()), "erDiagram\n");
    assert!(dbarch_docs::dot(&db, &all()).starts_with("digraph erd {"));
    let s = svg(&db, &all());
    roxmltree::Document::parse(&s).expect("valid XML");
    assert!(s.contains(">no tables</text>"));
    assert_eq!(
        markdown(&db, &DocsOptions::default()),
        "# Database schema\n"
    );
}
