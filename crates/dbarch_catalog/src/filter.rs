//! Which objects an introspection keeps: `--schema`, `--table` and `--exclude`.

use dbarch_model::Database;
use globset::{Glob, GlobSet, GlobSetBuilder};

/// Object filters. Globs match either `name` or `schema.name`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep only these schemas (all when empty).
    pub schemas: Vec<String>,
    /// Keep only tables and views matching one of these globs (all when `None`).
    tables: Option<GlobSet>,
    /// Leave out every object matching one of these globs.
    exclude: Option<GlobSet>,
}

impl Filter {
    pub fn new(
        schemas: Vec<String>,
        tables: &[String],
        exclude: &[String],
    ) -> Result<Self, String> {
        Ok(Self {
            schemas,
            tables: build(tables)?,
            exclude: build(exclude)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && self.tables.is_none() && self.exclude.is_none()
    }

    fn excluded(&self, schema: &str, name: &str) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|g| g.is_match(name) || g.is_match(format!("{schema}.{name}")))
    }

    fn schema_kept(&self, schema: &str) -> bool {
        self.schemas.is_empty() || self.schemas.iter().any(|s| s == schema)
    }

    fn relation_kept(&self, schema: &str, name: &str) -> bool {
        self.schema_kept(schema)
            && !self.excluded(schema, name)
            && self
                .tables
                .as_ref()
                .is_none_or(|g| g.is_match(name) || g.is_match(format!("{schema}.{name}")))
    }

    pub(crate) fn apply(&self, db: &mut Database) {
        if self.is_empty() {
            return;
        }
        db.schemas.retain(|s| self.schema_kept(&s.name));
        db.tables.retain(|t| self.relation_kept(&t.schema, &t.name));
        db.views.retain(|v| self.relation_kept(&v.schema, &v.name));
        let kept_table = |schema: &str, table: &str| {
            db.tables
                .iter()
                .any(|t| t.schema == schema && t.name == table)
        };
        let sequences_kept: Vec<bool> = db
            .sequences
            .iter()
            .map(|s| {
                self.schema_kept(&s.schema)
                    && !self.excluded(&s.schema, &s.name)
                    && s.owned_by
                        .as_ref()
                        .is_none_or(|o| kept_table(&o.schema, &o.table))
            })
            .collect();
        let mut keep = sequences_kept.into_iter();
        db.sequences.retain(|_| keep.next().unwrap_or(false));
        db.functions
            .retain(|f| self.schema_kept(&f.schema) && !self.excluded(&f.schema, &f.name));
        db.types
            .retain(|t| self.schema_kept(&t.schema) && !self.excluded(&t.schema, &t.name));
    }
}

fn build(globs: &[String]) -> Result<Option<GlobSet>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        builder.add(Glob::new(g).map_err(|e| format!("invalid glob {g:?}: {e}"))?);
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| format!("invalid globs: {e}"))
}
