//! Confirmed renames: checked against both models, emitted first, and applied to a copy of the
//! source model so that the rest of the diff compares objects under their new names.
//!
//! PostgreSQL rewrites stored definitions on a rename (index and constraint definitions,
//! triggers, policies print the new name), so the copy's definitions are rewritten the same
//! way; what is missed only costs an unneeded drop + create, never a wrong result.

use super::tables::named_not_null;
use super::{DiffError, Out, Phase, Rename};
use crate::change::Change;
use dbarch_model::*;

pub(super) fn apply(
    from: &Database,
    to: &Database,
    renames: &[Rename],
    out: &mut Out,
) -> Result<Database, DiffError> {
    let mut db = from.clone();
    for r in renames {
        match r {
            Rename::Table { from: old, to: new } => {
                check_table(&db, to, old, new)?;
                let not_null_columns = db
                    .table(old)
                    .map(|t| {
                        t.columns
                            .iter()
                            .filter(|c| c.not_null && named_not_null(t, &c.name).is_none())
                            .map(|c| c.name.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                rename_table(&mut db, old, new);
                out.push(
                    Phase::Rename,
                    Change::RenameTable {
                        from: old.clone(),
                        to: new.clone(),
                        not_null_columns,
                    },
                );
            }
            Rename::Column {
                table,
                from: old,
                to: new,
            } => {
                check_column(&db, to, table, old, new)?;
                let not_null = db.table(table).is_some_and(|t| {
                    t.column(old).is_some_and(|c| c.not_null) && named_not_null(t, old).is_none()
                });
                rename_column(&mut db, table, old, new);
                out.push(
                    Phase::Rename,
                    Change::RenameColumn {
                        table: table.clone(),
                        from: old.clone(),
                        to: new.clone(),
                        not_null,
                    },
                );
            }
        }
    }
    Ok(db)
}

fn bad(r: String, reason: impl Into<String>) -> DiffError {
    DiffError::BadRename {
        rename: r,
        reason: reason.into(),
    }
}

fn check_table(
    from: &Database,
    to: &Database,
    old: &QualifiedName,
    new: &QualifiedName,
) -> Result<(), DiffError> {
    let r = format!("{old}={}", new.name);
    if old.schema != new.schema {
        return Err(bad(r, "moving a table to another schema is not supported"));
    }
    if from.table(old).is_none() {
        return Err(bad(r, format!("table {old} is not in the source schema")));
    }
    if to.table(new).is_none() {
        return Err(bad(r, format!("table {new} is not in the target schema")));
    }
    if from.table(new).is_some() {
        return Err(bad(r, format!("table {new} already exists in the source")));
    }
    if to.table(old).is_some() {
        return Err(bad(r, format!("table {old} still exists in the target")));
    }
    Ok(())
}

fn check_column(
    from: &Database,
    to: &Database,
    table: &QualifiedName,
    old: &str,
    new: &str,
) -> Result<(), DiffError> {
    let r = format!("{table}.{old}={new}");
    let (Some(ft), Some(tt)) = (from.table(table), to.table(table)) else {
        return Err(bad(r, format!("table {table} must be in both schemas")));
    };
    if ft.column(old).is_none() || ft.column(new).is_some() {
        return Err(bad(
            r,
            format!("the source table must have {old} and not {new}"),
        ));
    }
    if tt.column(new).is_none() || tt.column(old).is_some() {
        return Err(bad(
            r,
            format!("the target table must have {new} and not {old}"),
        ));
    }
    Ok(())
}

fn rename_table(db: &mut Database, old: &QualifiedName, new: &QualifiedName) {
    let (o, n) = (old.sql(), new.sql());
    let on = |s: &str| {
        s.replace(&format!(" ON {o} "), &format!(" ON {n} "))
            .replace(&format!(" ON ONLY {o} "), &format!(" ON ONLY {n} "))
    };
    let refs = |s: &str| s.replace(&format!("REFERENCES {o}("), &format!("REFERENCES {n}("));
    for t in &mut db.tables {
        if t.schema == old.schema && t.name == old.name {
            t.name = new.name.clone();
            for i in &mut t.indexes {
                i.definition = on(&i.definition);
            }
            for tr in &mut t.triggers {
                tr.definition = on(&tr.definition);
            }
        }
        for c in &mut t.constraints {
            if let ConstraintKind::ForeignKey { references, .. } = &mut c.kind
                && references == old
            {
                *references = new.clone();
                c.definition = refs(&c.definition);
            }
        }
        if let Some(p) = &mut t.partition_of
            && &p.parent == old
        {
            p.parent = new.clone();
        }
        for parent in &mut t.inherits {
            if parent == old {
                *parent = new.clone();
            }
        }
    }
    for s in &mut db.sequences {
        if let Some(o) = &mut s.owned_by
            && o.schema == old.schema
            && o.table == old.name
        {
            o.table = new.name.clone();
        }
    }
    for v in &mut db.views {
        for d in &mut v.depends_on {
            if d == old {
                *d = new.clone();
            }
        }
    }
}

fn rename_column(db: &mut Database, table: &QualifiedName, old: &str, new: &str) {
    let swap = |names: &mut Vec<String>| {
        for n in names.iter_mut() {
            if n == old {
                *n = new.to_string();
            }
        }
    };
    let ident = |s: &str| replace_ident(s, old, new);
    for t in &mut db.tables {
        let this = t.schema == table.schema && t.name == table.name;
        if this {
            for c in &mut t.columns {
                if c.name == old {
                    c.name = new.to_string();
                }
                if let Some(g) = &mut c.generated {
                    g.expression = ident(&g.expression);
                }
            }
            for i in &mut t.indexes {
                for k in &mut i.keys {
                    match &mut k.target {
                        IndexTarget::Column(c) if c == old => *c = new.to_string(),
                        IndexTarget::Expression(e) => *e = ident(e),
                        _ => {}
                    }
                }
                swap(&mut i.include);
                i.predicate = i.predicate.as_deref().map(ident);
                i.definition = ident(&i.definition);
            }
            for tr in &mut t.triggers {
                tr.definition = ident(&tr.definition);
            }
            for p in &mut t.policies {
                p.using = p.using.as_deref().map(ident);
                p.with_check = p.with_check.as_deref().map(ident);
            }
        }
        for c in &mut t.constraints {
            match &mut c.kind {
                ConstraintKind::ForeignKey {
                    columns,
                    references,
                    referenced_columns,
                    ..
                } => {
                    if this {
                        swap(columns);
                    }
                    if references == table {
                        swap(referenced_columns);
                    }
                    // Local columns come before REFERENCES, referenced ones after.
                    if let Some((local, remote)) = c.definition.split_once(" REFERENCES ") {
                        let local = if this {
                            ident(local)
                        } else {
                            local.to_string()
                        };
                        let remote = if references == table {
                            ident(remote)
                        } else {
                            remote.to_string()
                        };
                        c.definition = format!("{local} REFERENCES {remote}");
                    }
                }
                _ if !this => {}
                ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns, .. } => {
                    swap(columns);
                    c.definition = ident(&c.definition);
                }
                ConstraintKind::Check { expression, .. } => {
                    *expression = ident(expression);
                    c.definition = ident(&c.definition);
                }
                ConstraintKind::NotNull { column, .. } => {
                    if column == old {
                        *column = new.to_string();
                    }
                    c.definition = ident(&c.definition);
                }
                ConstraintKind::Exclusion {} => c.definition = ident(&c.definition),
            }
        }
    }
    for s in &mut db.sequences {
        if let Some(o) = &mut s.owned_by
            && o.schema == table.schema
            && o.table == table.name
            && o.column == old
        {
            o.column = new.to_string();
        }
    }
}

/// Replaces the identifier `old` by `new` in an expression as PostgreSQL prints it, outside
/// string literals, leaving function names (followed by `(`) and type names (after `::`) alone.
pub(crate) fn replace_ident(sql: &str, old: &str, new: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    let is_start = |c: char| c.is_alphabetic() || c == '_';
    let is_part = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
            continue;
        }
        let after_cast = out.ends_with("::");
        let (word, next): (String, usize) = if c == '"' {
            let mut j = i + 1;
            let mut w = String::new();
            while j < chars.len() {
                if chars[j] == '"' {
                    if chars.get(j + 1) == Some(&'"') {
                        w.push('"');
                        j += 2;
                        continue;
                    }
                    break;
                }
                w.push(chars[j]);
                j += 1;
            }
            (w, (j + 1).min(chars.len()))
        } else if is_start(c) && (i == 0 || !is_part(chars[i - 1])) {
            let mut j = i;
            while j < chars.len() && is_part(chars[j]) {
                j += 1;
            }
            (chars[i..j].iter().collect(), j)
        } else {
            out.push(c);
            i += 1;
            continue;
        };
        let is_call = chars.get(next) == Some(&'(');
        if word == old && !is_call && !after_cast {
            out.push_str(&quote_ident(new));
        } else {
            out.extend(&chars[i..next]);
        }
        i = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::replace_ident;

    #[test]
    fn identifiers_are_replaced_outside_literals() {
        assert_eq!(
            replace_ident(
                "CHECK ((length(name) > 0) AND (name <> 'name'::text))",
                "name",
                "title"
            ),
            "CHECK ((length(title) > 0) AND (title <> 'name'::text))"
        );
        assert_eq!(
            replace_ident("UNIQUE (\"Display Name\", id)", "Display Name", "label"),
            "UNIQUE (label, id)"
        );
        assert_eq!(
            replace_ident("name(x) + names", "name", "n"),
            "name(x) + names"
        );
    }
}
