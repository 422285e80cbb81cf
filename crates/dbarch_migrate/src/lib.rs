//! Versioned migrations: the directories of dbarch and of the tools teams come from (sqlx,
//! golang-migrate, dbmate, Flyway, diesel), the `_dbarch.migrations` history, the session
//! advisory lock, and the runner (`up`, `down`, `status`, `baseline`).
//!
//! The runner takes a `tokio_postgres::Client` it is given; the binary decides where it
//! connects. Shadow replays (drift, roundtrip) live in `replay`.

pub mod backfill;
pub mod directive;
mod error;
pub mod format;
pub mod history;
pub mod lock;
mod project;
pub mod replay;
pub mod runner;
pub mod split;

pub use error::{Error, Result};
pub use format::{Format, Migration, Script, checksum, load};
pub use project::Project;
pub use runner::{DownTarget, Options, State, StatusEntry, baseline, down, status, up};
