//! Column types (as `format_type` prints them) → SQL expressions producing values, either
//! random (`random()`, seeded by `setseed`) or distinct per row (a function of a slot number).

use super::checks::Bounds;
use dbarch_model::{Database, TypeKind, quote_ident, quote_literal};

/// What a value generator knows about a type.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Int {
        min: f64,
        max: f64,
    },
    /// `numeric(p, s)`: `p - s` integer digits (`None`: unconstrained).
    Numeric {
        int_digits: Option<u32>,
        scale: u32,
    },
    Float,
    Money,
    Text {
        max_len: Option<u64>,
    },
    Bool,
    Date,
    Timestamp {
        tz: bool,
    },
    Time,
    Interval,
    Uuid,
    Json,
    Bytea,
    Inet,
    Tsvector,
    Enum(Vec<String>),
    Vector {
        dims: u32,
    },
    Array(Box<Kind>),
    Unknown,
}

/// A column's type, resolved through domains.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub kind: Kind,
    /// The type to cast generated values to (the column's own type, domain included).
    pub cast: String,
    /// Bounds from domain checks, and the domain's NOT NULL.
    pub bounds: Bounds,
    /// The domain's checks that were not understood (name, expression).
    pub unread_checks: Vec<String>,
    /// The domain has a default.
    pub has_default: bool,
}

pub fn resolve(db: &Database, data_type: &str) -> TypeInfo {
    let mut info = TypeInfo {
        kind: Kind::Unknown,
        cast: data_type.to_string(),
        bounds: Bounds::default(),
        unread_checks: Vec::new(),
        has_default: false,
    };
    let mut t = data_type.to_string();
    // Domains over domains: follow the chain (bounded, in case of a cycle in a bad model).
    for _ in 0..8 {
        if let Some(elem) = t.strip_suffix("[]") {
            info.kind = Kind::Array(Box::new(base_kind(db, elem)));
            return info;
        }
        let Some(def) = db
            .types
            .iter()
            .find(|d| format!("{}.{}", quote_ident(&d.schema), quote_ident(&d.name)) == t)
        else {
            break;
        };
        match &def.kind {
            TypeKind::Enum { labels } => {
                info.kind = Kind::Enum(labels.clone());
                return info;
            }
            TypeKind::Domain {
                base_type,
                not_null,
                default,
                checks,
                ..
            } => {
                info.bounds.not_null |= *not_null;
                info.has_default |= default.is_some();
                for c in checks {
                    let expr = c
                        .definition
                        .trim()
                        .strip_prefix("CHECK")
                        .unwrap_or(&c.definition)
                        .trim();
                    let read = super::checks::read(expr, Some("\u{0}value"));
                    if let Some(b) = read.bounds.get("\u{0}value") {
                        info.bounds.merge(b);
                    }
                    if !read.understood {
                        info.unread_checks.push(c.name.clone());
                    }
                }
                t = base_type.clone();
            }
            TypeKind::Composite { .. } => return info,
        }
    }
    info.kind = base_kind(db, &t);
    info
}

fn base_kind(db: &Database, t: &str) -> Kind {
    if let Some(v) = dbarch_model::parse_vector_type(t) {
        return match v.kind {
            dbarch_model::VectorKind::Sparsevec => Kind::Unknown,
            _ => Kind::Vector {
                dims: v.dims.unwrap_or(3),
            },
        };
    }
    if let Some(def) = db
        .types
        .iter()
        .find(|d| format!("{}.{}", quote_ident(&d.schema), quote_ident(&d.name)) == t)
    {
        return match &def.kind {
            TypeKind::Enum { labels } => Kind::Enum(labels.clone()),
            TypeKind::Domain { base_type, .. } => base_kind(db, base_type),
            TypeKind::Composite { .. } => Kind::Unknown,
        };
    }
    let (base, args) = match t.split_once('(') {
        Some((b, rest)) => {
            let (inside, after) = rest.split_once(')').unwrap_or((rest, ""));
            (format!("{}{}", b.trim(), after), Some(inside.to_string()))
        }
        None => (t.to_string(), None),
    };
    let nums: Vec<u64> = args
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    let unqualified = base.rsplit_once('.').map_or(base.as_str(), |(_, b)| b);
    match unqualified {
        "smallint" => Kind::Int {
            min: -32768.0,
            max: 32767.0,
        },
        "integer" => Kind::Int {
            min: -2147483648.0,
            max: 2147483647.0,
        },
        "bigint" => Kind::Int {
            min: -9.2e18,
            max: 9.2e18,
        },
        "numeric" => Kind::Numeric {
            int_digits: nums
                .first()
                .map(|p| (*p as u32).saturating_sub(nums.get(1).copied().unwrap_or(0) as u32)),
            scale: nums
                .get(1)
                .copied()
                .unwrap_or(if nums.is_empty() { 2 } else { 0 }) as u32,
        },
        "real" | "double precision" => Kind::Float,
        "money" => Kind::Money,
        "text" | "citext" | "character varying" | "character" | "name" | "bpchar" => Kind::Text {
            max_len: nums.first().copied().or(if unqualified == "character" {
                Some(1)
            } else {
                None
            }),
        },
        "boolean" => Kind::Bool,
        "date" => Kind::Date,
        "timestamp without time zone" => Kind::Timestamp { tz: false },
        "timestamp with time zone" => Kind::Timestamp { tz: true },
        "time without time zone" | "time with time zone" => Kind::Time,
        "interval" => Kind::Interval,
        "uuid" => Kind::Uuid,
        "json" | "jsonb" => Kind::Json,
        "bytea" => Kind::Bytea,
        "inet" | "cidr" => Kind::Inet,
        "tsvector" => Kind::Tsvector,
        _ => Kind::Unknown,
    }
}

/// How a value is chosen.
#[derive(Debug, Clone)]
pub enum Role<'a> {
    Random,
    /// Distinct per slot: `slot` is an SQL expression of a 0-based bigint.
    Slot(&'a str),
}

/// How many distinct values the kind has within `bounds` (`None`: more than any fill).
pub fn cardinality(kind: &Kind, bounds: &Bounds) -> Option<u64> {
    if let Some(a) = &bounds.allowed {
        return Some(a.len() as u64);
    }
    match kind {
        Kind::Bool => Some(2),
        Kind::Enum(labels) => Some(labels.len() as u64),
        Kind::Int { min, max } => {
            let (lo, hi) = int_slot_range(*min, *max, bounds);
            let n = hi - lo + 1.0;
            (n < 1e12).then_some(n.max(0.0) as u64)
        }
        Kind::Numeric {
            int_digits: Some(d),
            scale,
        } => {
            let limit = 10f64.powi(*d as i32) - 1.0;
            let (lo, hi) = int_range(-limit, limit, bounds, 1.0);
            let n = (hi - lo + 1.0) * 10f64.powi(*scale as i32);
            (n < 1e12).then_some(n.max(0.0) as u64)
        }
        Kind::Text { max_len: Some(n) } => {
            let n = (*n).min(bounds.max_len.unwrap_or(u64::MAX));
            (n < 12).then(|| 10u64.pow(n as u32).saturating_sub(1))
        }
        Kind::Text { max_len: None } => bounds
            .max_len
            .filter(|n| *n < 12)
            .map(|n| 10u64.pow(n as u32).saturating_sub(1)),
        Kind::Inet => Some(1 << 24),
        _ => None,
    }
}

/// Integer range within the type's limits and the bounds (`step` for exclusive bounds).
fn int_range(min: f64, max: f64, b: &Bounds, step: f64) -> (f64, f64) {
    let lo =
        b.lo.map(|(v, inc)| if inc { v.ceil() } else { v.floor() + step });
    let hi =
        b.hi.map(|(v, inc)| if inc { v.floor() } else { v.ceil() - step });
    let (lo, hi) = match (lo, hi) {
        (Some(l), Some(h)) => (l, h),
        (Some(l), None) => (l, (l + 1_000_000.0).min(max)),
        (None, Some(h)) => ((h - 1_000_000.0).max(min).max(h.min(1.0)), h),
        (None, None) => (1.0f64.max(min), 1_000_000.0f64.min(max)),
    };
    (lo.max(min), hi.min(max))
}

/// The integers distinct values are taken from: `lo + slot` up to the upper bound or the
/// type's maximum.
fn int_slot_range(min: f64, max: f64, b: &Bounds) -> (f64, f64) {
    let lo =
        b.lo.map(|(v, inc)| if inc { v.ceil() } else { v.floor() + 1.0 });
    let hi =
        b.hi.map(|(v, inc)| if inc { v.floor() } else { v.ceil() - 1.0 });
    let hi = hi.unwrap_or(max).min(max);
    let lo = lo.unwrap_or(if hi < 1.0 { min } else { 1.0 }).max(min);
    (lo, hi)
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// An SQL expression of a value of `info`, or why there is none. `tag` makes distinct
/// values of different columns differ (uuids, hashes); `row` is an SQL expression of the
/// row number (for correlated subqueries).
pub fn value(
    info: &TypeInfo,
    bounds: &Bounds,
    role: &Role,
    tag: &str,
    row: &str,
) -> Result<String, String> {
    let expr = value_of(&info.kind, bounds, role, tag, row, true)?;
    Ok(format!("({expr})::{}", info.cast))
}

fn value_of(
    kind: &Kind,
    b: &Bounds,
    role: &Role,
    tag: &str,
    row: &str,
    top: bool,
) -> Result<String, String> {
    if top && let Some(allowed) = &b.allowed {
        if allowed.is_empty() {
            return Err("its checks allow no value".into());
        }
        let list = allowed.join(", ");
        let n = allowed.len();
        return Ok(match role {
            Role::Random => format!("(ARRAY[{list}])[1 + floor(random() * {n})::int]"),
            Role::Slot(s) => format!("(ARRAY[{list}])[1 + (({s}) % {n})::int]"),
        });
    }
    let lit = quote_literal(tag);
    Ok(match kind {
        Kind::Int { min, max } => {
            let (lo, hi) = int_range(*min, *max, b, 1.0);
            if lo > hi {
                return Err(format!("no integer satisfies its bounds ({lo} > {hi})"));
            }
            match role {
                Role::Random => format!("{} + floor(random() * {})::bigint", num(lo), num(hi - lo + 1.0)),
                Role::Slot(s) => format!("{} + ({s})", num(int_slot_range(*min, *max, b).0)),
            }
        }
        Kind::Numeric { int_digits, scale } => {
            let limit = int_digits.map_or(1e9, |d| 10f64.powi(d as i32) - 10f64.powi(-(*scale as i32)));
            let step = 10f64.powi(-(*scale as i32));
            let lo = b.lo.map(|(v, inc)| if inc { v } else { v + step }).unwrap_or(if b.hi.is_some_and(|(h, _)| h < 1.0) { -limit } else { 1.0f64.min(limit) });
            let hi = b.hi.map(|(v, inc)| if inc { v } else { v - step }).unwrap_or((lo + 1000.0).min(limit));
            let (lo, hi) = (lo.max(-limit), hi.min(limit));
            if lo > hi {
                return Err(format!("no number satisfies its bounds ({lo} > {hi})"));
            }
            match role {
                Role::Random => format!(
                    "least({hi}::numeric, greatest({lo}::numeric, round(({lo} + random() * {})::numeric, {scale})))",
                    hi - lo,
                    hi = num(hi),
                    lo = num(lo),
                ),
                Role::Slot(s) => format!("{}::numeric + ({s})", num(lo.ceil())),
            }
        }
        Kind::Float => {
            let lo = b.lo.map_or(0.0, |(v, inc)| if inc { v } else { v + 1e-6 });
            let hi = b.hi.map_or(lo + 1000.0, |(v, inc)| if inc { v } else { v - 1e-6 });
            match role {
                Role::Random => format!("{} + random() * {}", num(lo), num(hi - lo)),
                Role::Slot(s) => format!("{} + ({s})", num(lo.ceil())),
            }
        }
        Kind::Money => match role {
            Role::Random => "(round((random() * 1000)::numeric, 2))::money".into(),
            Role::Slot(s) => format!("(({s}))::numeric::money"),
        },
        Kind::Text { max_len } => {
            let max = match (max_len, b.max_len) {
                (Some(a), Some(c)) => Some((*a).min(c)),
                (a, c) => a.or(c),
            };
            let min = b.min_len.unwrap_or(1).max(1);
            if max.is_some_and(|m| m < min) {
                return Err(format!("no text length satisfies its bounds ({min} > {max:?})"));
            }
            match role {
                Role::Random => {
                    let len = max.map_or(min.max(16), |m| m.min(min.max(16)));
                    format!("substr(repeat(md5(random()::text), {}), 1, {len})", len / 32 + 1)
                }
                Role::Slot(s) => {
                    // `tag-N`, or the bare number when the prefix does not fit.
                    let prefix: String = tag
                        .rsplit('.')
                        .next()
                        .unwrap_or(tag)
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .take(12)
                        .collect();
                    let with_prefix = max.is_none_or(|m| m >= prefix.len() as u64 + 1 + 12);
                    let body = if with_prefix && !prefix.is_empty() {
                        format!("{} || (1 + ({s}))::text", quote_literal(&format!("{prefix}-")))
                    } else {
                        format!("(1 + ({s}))::text")
                    };
                    if min > 1 {
                        format!("lpad({body}, {min}, '0')")
                    } else {
                        body
                    }
                }
            }
        }
        Kind::Bool => match role {
            Role::Random => "random() < 0.5".into(),
            Role::Slot(s) => format!("(({s}) % 2) = 0"),
        },
        Kind::Date => match role {
            Role::Random => "date '2020-01-01' + floor(random() * 1826)::int".into(),
            Role::Slot(s) => format!("date '2000-01-01' + (({s}) % 2000000)::int"),
        },
        Kind::Timestamp { tz } => {
            let base = if *tz {
                "timestamptz '2020-01-01 00:00:00+00'"
            } else {
                "timestamp '2020-01-01 00:00:00'"
            };
            match role {
                Role::Random => format!("{base} + random() * interval '1826 days'"),
                Role::Slot(s) => format!("{base} + ({s}) * interval '1 second'"),
            }
        }
        Kind::Time => match role {
            Role::Random => "time '00:00' + random() * interval '1 day'".into(),
            Role::Slot(s) => format!("time '00:00' + (({s}) % 86400000) * interval '1 millisecond'"),
        },
        Kind::Interval => match role {
            Role::Random => "random() * interval '30 days'".into(),
            Role::Slot(s) => format!("({s}) * interval '1 second'"),
        },
        Kind::Uuid => match role {
            Role::Random => "md5(random()::text)::uuid".into(),
            Role::Slot(s) => format!("md5({lit} || ({s})::text)::uuid"),
        },
        Kind::Json => match role {
            Role::Random => "jsonb_build_object('n', floor(random() * 1000)::int, 'tag', substr(md5(random()::text), 1, 8))".into(),
            Role::Slot(s) => format!("jsonb_build_object('n', {s})"),
        },
        Kind::Bytea => match role {
            Role::Random => "decode(md5(random()::text), 'hex')".into(),
            Role::Slot(s) => format!("decode(md5({lit} || ({s})::text), 'hex')"),
        },
        Kind::Inet => match role {
            Role::Random => "'10.0.0.0'::inet + floor(random() * 16777216)::bigint".into(),
            Role::Slot(s) => format!("'10.0.0.0'::inet + ({s})"),
        },
        Kind::Tsvector => match role {
            Role::Random => "to_tsvector('simple', md5(random()::text))".into(),
            Role::Slot(s) => format!("to_tsvector('simple', {lit} || ({s})::text)"),
        },
        Kind::Enum(labels) => {
            if labels.is_empty() {
                return Err("the enum has no labels".into());
            }
            let list = labels
                .iter()
                .map(|l| quote_literal(l))
                .collect::<Vec<_>>()
                .join(", ");
            let n = labels.len();
            match role {
                Role::Random => format!("(ARRAY[{list}])[1 + floor(random() * {n})::int]"),
                Role::Slot(s) => format!("(ARRAY[{list}])[1 + (({s}) % {n})::int]"),
            }
        }
        Kind::Vector { dims } => {
            // Correlated with the row, so that it is computed per row (an uncorrelated
            // subquery would be one InitPlan: one vector for every row).
            let first = match role {
                Role::Random => "random()::real".to_string(),
                Role::Slot(s) => format!("(({s}) % 1000000)::real"),
            };
            format!(
                "(SELECT ARRAY[{first}] || coalesce(array_agg(random()::real), '{{}}'::real[]) FROM generate_series(2, {dims}) WHERE {row} IS NOT NULL)"
            )
        }
        Kind::Array(elem) => {
            let e = value_of(elem, &Bounds::default(), role, tag, row, false)?;
            match role {
                Role::Random => {
                    let e2 = value_of(elem, &Bounds::default(), &Role::Random, tag, row, false)?;
                    format!("ARRAY[{e}, {e2}]")
                }
                Role::Slot(_) => format!("ARRAY[{e}]"),
            }
        }
        Kind::Unknown => return Err("no generator for its type".into()),
    })
}
