/// What stops a trace or a fill (a failing statement or table is not an error: it is
/// recorded in the result).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error while {doing}: {source}")]
    Db {
        doing: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) trait Context<T> {
    fn doing(self, doing: &'static str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, tokio_postgres::Error> {
    fn doing(self, doing: &'static str) -> Result<T> {
        self.map_err(|source| Error::Db { doing, source })
    }
}
