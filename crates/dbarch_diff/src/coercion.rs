//! What a column type change costs, from the type names alone (as `format_type` prints them),
//! and whether a default expression is volatile. Both are conservative: when unsure, they say
//! "rewrite" and "volatile", the expensive answer.

/// The cost of `ALTER COLUMN ... TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    Same,
    /// Binary-coercible: PostgreSQL changes the catalog only (no rewrite, no scan).
    NoRewrite,
    /// Every value is converted: the table and its indexes are rewritten.
    Rewrite,
    /// Values may not fit the new type (shorter length, smaller range, fewer digits, other
    /// vector dimensions): the change may fail or lose precision. Destructive.
    Narrowing,
}

/// A parsed `format_type` string: base name and modifiers.
#[derive(Debug, PartialEq, Eq)]
struct Ty<'a> {
    base: &'a str,
    mods: Vec<i64>,
    array: bool,
}

fn parse(t: &str) -> Ty<'_> {
    let (t, array) = match t.strip_suffix("[]") {
        Some(inner) => (inner, true),
        None => (t, false),
    };
    // `timestamp(3) with time zone` keeps its modifier in the middle.
    if let Some(open) = t.find('(')
        && let Some(close) = t[open..].find(')')
    {
        let mods = t[open + 1..open + close]
            .split(',')
            .filter_map(|m| m.trim().parse().ok())
            .collect();
        let rest = t[open + close + 1..].trim();
        let head = &t[..open];
        // Normalize `timestamp(3) with time zone` to the base `timestamp with time zone`.
        let base = match (head, rest) {
            ("timestamp", "with time zone") => "timestamp with time zone",
            ("timestamp", "without time zone") => "timestamp without time zone",
            ("time", "with time zone") => "time with time zone",
            ("time", "without time zone") => "time without time zone",
            _ => head,
        };
        return Ty { base, mods, array };
    }
    Ty {
        base: t,
        mods: Vec::new(),
        array,
    }
}

fn unqualified(base: &str) -> &str {
    base.rsplit_once('.').map_or(base, |(_, b)| b)
}

/// Classifies a change from type `from` to type `to`.
pub fn classify(from: &str, to: &str) -> Conversion {
    if from == to {
        return Conversion::Same;
    }
    let (a, b) = (parse(from), parse(to));
    let element = classify_element(&a, &b);
    if a.array != b.array {
        return Conversion::Rewrite;
    }
    // Array coercions are never relabelled in place.
    if a.array && element == Conversion::NoRewrite {
        return Conversion::Rewrite;
    }
    element
}

fn classify_element(a: &Ty<'_>, b: &Ty<'_>) -> Conversion {
    use Conversion::*;
    const VARCHAR: &str = "character varying";
    let length_change = |a: &Ty<'_>, b: &Ty<'_>| match (a.mods.first(), b.mods.first()) {
        (_, None) => NoRewrite,
        (None, Some(_)) => Narrowing,
        (Some(x), Some(y)) if y >= x => NoRewrite,
        _ => Narrowing,
    };
    let rank = |base: &str| match base {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        _ => None,
    };
    match (a.base, b.base) {
        (x, y) if x == y && x == VARCHAR => length_change(a, b),
        (VARCHAR, "text") => NoRewrite,
        ("text", VARCHAR) if b.mods.is_empty() => NoRewrite,
        ("text", VARCHAR) => Narrowing,
        ("character", "character") => match length_change(a, b) {
            // A longer char(n) pads every value.
            NoRewrite => Rewrite,
            other => other,
        },
        ("bit varying", "bit varying") => length_change(a, b),
        ("numeric", "numeric") => match (a.mods.as_slice(), b.mods.as_slice()) {
            (_, []) => NoRewrite,
            ([], _) => Narrowing,
            (from, to) => {
                let (p1, s1) = (from[0], from.get(1).copied().unwrap_or(0));
                let (p2, s2) = (to[0], to.get(1).copied().unwrap_or(0));
                if s2 < s1 || p2 - s2 < p1 - s1 {
                    Narrowing
                } else if s2 == s1 {
                    NoRewrite
                } else {
                    Rewrite
                }
            }
        },
        (
            x @ ("timestamp without time zone"
            | "timestamp with time zone"
            | "time without time zone"
            | "time with time zone"
            | "interval"),
            y,
        ) if x == y => match (a.mods.first(), b.mods.first()) {
            (_, None) => NoRewrite,
            (None, Some(_)) => Narrowing,
            (Some(p), Some(q)) if q >= p => NoRewrite,
            _ => Narrowing,
        },
        ("double precision", "real") => Narrowing,
        ("real", "double precision") => Rewrite,
        (x, y) if rank(x).is_some() && rank(y).is_some() => {
            if rank(y) < rank(x) {
                Narrowing
            } else {
                Rewrite
            }
        }
        (x, y)
            if (x == "numeric" || x == "real" || x == "double precision") && rank(y).is_some() =>
        {
            Narrowing
        }
        (x, y)
            if matches!(unqualified(x), "vector" | "halfvec" | "sparsevec")
                && unqualified(x) == unqualified(y) =>
        {
            match (a.mods.first(), b.mods.first()) {
                (_, None) => NoRewrite,
                _ => Narrowing,
            }
        }
        _ => Rewrite,
    }
}

/// True when a default expression may be volatile, in which case `ADD COLUMN ... DEFAULT`
/// rewrites the table (PostgreSQL 11+ stores a non-volatile default once in the catalog).
/// Every function call must be on a list of known non-volatile functions (or be a type
/// modifier such as `numeric(3,1)`); user functions count as volatile.
pub fn is_volatile_default(expr: &str) -> bool {
    const NON_VOLATILE: &[&str] = &[
        // Stable: evaluated once per statement, so the default is fixed for the whole ADD.
        "now",
        "statement_timestamp",
        "transaction_timestamp",
        "current_setting",
        "current_schema",
        "current_database",
        "to_char",
        "to_timestamp",
        "date_trunc",
        // Immutable.
        "lower",
        "upper",
        "length",
        "concat",
        "coalesce",
        "array",
        "jsonb_build_object",
        "json_build_object",
        "jsonb_build_array",
        "json_build_array",
        "make_interval",
        "make_date",
        "abs",
        // Type names with modifiers in casts.
        "numeric",
        "decimal",
        "varying",
        "character",
        "char",
        "varchar",
        "timestamp",
        "time",
        "interval",
        "bit",
        "vector",
        "halfvec",
        "sparsevec",
    ];
    let bytes = expr.as_bytes();
    let mut i = 0;
    let mut word_start: Option<usize> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' {
            // Skip a string literal ('' is an escaped quote).
            i += 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            word_start = None;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'"' {
            word_start.get_or_insert(i);
        } else {
            if c == b'('
                && let Some(s) = word_start
            {
                let name = expr[s..i].trim_matches('"');
                let name = name.rsplit_once('.').map_or(name, |(_, n)| n);
                if !NON_VOLATILE.contains(&name.to_ascii_lowercase().as_str()) {
                    return true;
                }
            }
            // In `character varying(10)` the word before `(` is `varying`: on the list.
            word_start = None;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::Conversion::*;
    use super::*;

    #[test]
    fn type_changes_are_classified() {
        assert_eq!(
            classify("character varying(100)", "character varying(200)"),
            NoRewrite
        );
        assert_eq!(
            classify("character varying(100)", "character varying(50)"),
            Narrowing
        );
        assert_eq!(classify("character varying(100)", "text"), NoRewrite);
        assert_eq!(classify("text", "character varying(10)"), Narrowing);
        assert_eq!(classify("numeric(10,2)", "numeric"), NoRewrite);
        assert_eq!(classify("numeric(10,2)", "numeric(12,2)"), NoRewrite);
        assert_eq!(classify("numeric(10,2)", "numeric(8,2)"), Narrowing);
        assert_eq!(classify("numeric(10,2)", "numeric(12,4)"), Rewrite);
        assert_eq!(classify("bigint", "integer"), Narrowing);
        assert_eq!(classify("integer", "bigint"), Rewrite);
        assert_eq!(classify("integer", "text"), Rewrite);
        assert_eq!(
            classify("public.vector(384)", "public.vector(768)"),
            Narrowing
        );
        assert_eq!(
            classify("timestamp(3) with time zone", "timestamp with time zone"),
            NoRewrite
        );
        assert_eq!(
            classify("timestamp without time zone", "timestamp with time zone"),
            Rewrite
        );
        assert_eq!(
            classify("character varying(10)[]", "character varying(20)[]"),
            Rewrite
        );
    }

    #[test]
    fn volatile_defaults_are_recognized() {
        assert!(is_volatile_default("nextval('app.s'::regclass)"));
        assert!(is_volatile_default("gen_random_uuid()"));
        assert!(is_volatile_default("clock_timestamp()"));
        assert!(is_volatile_default("random()"));
        assert!(is_volatile_default("app.my_function()"));
        assert!(!is_volatile_default("now()"));
        assert!(!is_volatile_default("CURRENT_TIMESTAMP"));
        assert!(!is_volatile_default("'{}'::jsonb"));
        assert!(!is_volatile_default("'random()'::text"));
        assert!(!is_volatile_default("'1.5'::numeric(3,1)"));
        assert!(!is_volatile_default("(now() + '1 day'::interval)"));
        assert!(!is_volatile_default("0"));
    }
}
