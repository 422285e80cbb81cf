//! Reading column names out of the expressions EXPLAIN prints (`Filter: ((a = 1) AND (b > 2))`),
//! enough to write an index or statistics suggestion. Not a SQL parser: it takes the column
//! on the left of a comparison, which is how PostgreSQL deparses `column op value`.

const OPS: &[&str] = &[
    "=", "<>", "<=", ">=", "<", ">", "~~", "~~*", "IS", "@>", "&&",
];

/// Columns compared in `expr` (with an operator class where the default would not serve the
/// comparison, e.g. `p text_pattern_ops` for LIKE), equality first (the best leading index columns), then the
/// others, without duplicates. `alias` keeps `alias.col` and drops other qualifiers.
pub fn compared_columns(expr: &str, alias: Option<&str>) -> Vec<String> {
    let mut eq = Vec::new();
    let mut other = Vec::new();
    let b = expr.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'(' {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && b[j] == b'(' {
            j += 1;
        }
        let (ident, mut k) = read_ident(expr, j);
        i = j.max(i + 1);
        let Some(ident) = ident else { continue };
        // `((col)::text = ...)`: skip the cast.
        if expr[k..].starts_with(")::") {
            k += 3;
            while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_' || b[k] == b' ') {
                if expr[k..].starts_with(" ") && OPS.iter().any(|op| expr[k + 1..].starts_with(op))
                {
                    break;
                }
                k += 1;
            }
        }
        if !expr[k..].starts_with(' ') {
            continue;
        }
        let rest = &expr[k + 1..];
        let Some(op) = OPS
            .iter()
            .filter(|op| rest.starts_with(**op) && rest[op.len()..].starts_with(' '))
            .max_by_key(|op| op.len())
        else {
            continue;
        };
        let column = match ident.rsplit_once('.') {
            Some((q, c)) if alias.is_none_or(|a| a == q) => c.to_owned(),
            Some(_) => continue,
            None => ident,
        };
        // LIKE is served by a btree only for a left-anchored pattern and with
        // text_pattern_ops (any collation); ILIKE and unanchored patterns need pg_trgm.
        let column = match *op {
            "~~" => {
                let pattern = &rest[op.len() + 1..];
                if pattern.starts_with('\'') && !pattern[1..].starts_with(['%', '_']) {
                    format!("{column} text_pattern_ops")
                } else {
                    continue;
                }
            }
            "~~*" => continue,
            _ => column,
        };
        let list = if *op == "=" { &mut eq } else { &mut other };
        if !list.contains(&column) {
            list.push(column);
        }
    }
    other.retain(|c| !eq.contains(c));
    eq.extend(other);
    eq
}

/// Columns written `alias.column` anywhere in `expr` (a join filter names both sides).
pub fn qualified_columns(expr: &str, alias: &str) -> Vec<String> {
    let mut out = Vec::new();
    let prefix = format!("{alias}.");
    let mut rest = expr;
    while let Some(p) = rest.find(&prefix) {
        let boundary = p == 0 || !rest.as_bytes()[p - 1].is_ascii_alphanumeric();
        let (ident, end) = read_ident(rest, p + prefix.len());
        if boundary
            && let Some(c) = ident
            && !out.contains(&c)
        {
            out.push(c);
        }
        rest = &rest[end.max(p + prefix.len())..];
    }
    out
}

/// An identifier (`name`, `"Name"`, `alias.name`) at `start`, and where it ends.
fn read_ident(s: &str, start: usize) -> (Option<String>, usize) {
    let b = s.as_bytes();
    let mut k = start;
    loop {
        if k < b.len() && b[k] == b'"' {
            let Some(end) = s[k + 1..].find('"') else {
                return (None, k);
            };
            k += end + 2;
        } else {
            let from = k;
            while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                k += 1;
            }
            if k == from || b[from].is_ascii_digit() {
                return (None, k);
            }
        }
        if k < b.len() && b[k] == b'.' {
            k += 1;
            continue;
        }
        break;
    }
    (Some(s[start..k].to_owned()), k)
}

/// Quotes an identifier unless it is a plain lower-case name.
pub fn quote_ident(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain || name.starts_with('"') {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_of_filters() {
        assert_eq!(compared_columns("(category = 42)", None), ["category"]);
        assert_eq!(
            compared_columns("((a > 1) AND (b = 2) AND (a < 9))", None),
            ["b", "a"]
        );
        assert_eq!(
            compared_columns("((status)::text = 'x'::text)", None),
            ["status"]
        );
        assert_eq!(
            compared_columns("(o.customer_id = c.id)", Some("o")),
            ["customer_id"]
        );
        assert_eq!(compared_columns("(\"Weird\" = 1)", None), ["\"Weird\""]);
        assert!(compared_columns("(1 = 1)", None).is_empty());
        assert_eq!(
            compared_columns("(p ~~ 'ab%'::text)", None),
            ["p text_pattern_ops"]
        );
        assert!(compared_columns("(p ~~ '%ab'::text)", None).is_empty());
        assert_eq!(qualified_columns("(a.id = b.a_id)", "b"), ["a_id"]);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("orders"), "orders");
        assert_eq!(quote_ident("Orders"), "\"Orders\"");
        assert_eq!(quote_ident("\"X\""), "\"X\"");
    }
}
