//! Typed access to catalog rows, with errors that name the query and column instead of panics.

use crate::{Error, Result};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

pub(crate) struct CatalogRow<'a> {
    pub query: &'static str,
    pub row: &'a Row,
}

impl<'a> CatalogRow<'a> {
    pub fn get<T: FromSql<'a>>(&self, column: &str) -> Result<T> {
        self.row.try_get(column).map_err(|e| Error::Decode {
            query: self.query,
            column: column.to_string(),
            reason: e.to_string(),
        })
    }

    pub fn string(&self, column: &str) -> Result<String> {
        self.get(column)
    }

    pub fn opt(&self, column: &str) -> Result<Option<String>> {
        self.get(column)
    }

    pub fn flag(&self, column: &str) -> Result<bool> {
        self.get(column)
    }

    pub fn strings(&self, column: &str) -> Result<Vec<String>> {
        self.get(column)
    }

    /// A text array that may hold NULLs.
    pub fn opt_strings(&self, column: &str) -> Result<Vec<Option<String>>> {
        self.get(column)
    }

    pub fn bad(&self, column: &str, reason: impl Into<String>) -> Error {
        Error::Decode {
            query: self.query,
            column: column.to_string(),
            reason: reason.into(),
        }
    }
}

/// Iterates the rows of one query as [`CatalogRow`]s.
pub(crate) fn each<'a>(
    (query, rows): &'a (&'static str, Vec<Row>),
) -> impl Iterator<Item = CatalogRow<'a>> {
    rows.iter().map(move |row| CatalogRow { query, row })
}
