//! Temporary parse-tree dump (helper 2; removed before hand-off).
fn main() {
    let sql = std::env::args().nth(1).unwrap_or_default();
    let r = pg_query::parse(&sql, pg_query::ParserOptions::DEFAULT).unwrap();
    for s in &r.protobuf.stmts {
        println!("{:#?}", s.stmt);
        if let Some(n) = s.stmt.as_ref().and_then(|n| n.node.as_ref()) {
            println!("DEPARSE: {:?}", n.deparse(Default::default()));
        }
    }
}
