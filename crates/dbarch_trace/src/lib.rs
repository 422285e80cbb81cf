//! What a migration does to a database, measured, and data to measure it on.
//!
//! - [`trace`]: runs a script's statements on a throwaway database the way the runner does
//!   (one transaction, or autocommit for non-transactional scripts) and records per
//!   statement its duration, the relation locks it holds (`pg_locks` of the session, queried
//!   after the statement inside the transaction; polled from a second connection while an
//!   autocommit statement runs), the relations it rewrote (relfilenode changes), the full
//!   scans it made (`seq_scan` deltas) and its error. [`Trace::lock_holds`] says which lock
//!   each relation was held in, by which statement, and for how long.
//! - [`synth`]: fills every table of a [`dbarch_model::Database`] with generated rows, one
//!   set-based `INSERT ... SELECT ... FROM generate_series` per table, respecting types,
//!   keys, foreign keys, NOT NULL and simple CHECKs, deterministic for a seed.
//!
//! Both take a `tokio_postgres::Client` they are given; nothing here connects by itself.

mod error;
mod lock;
mod script;
pub mod synth;
mod trace;

pub use error::{Error, Result};
pub use lock::LockMode;
pub use script::{Script, Statement};
pub use synth::{FillOptions, FillReport, TableFill, fill};
pub use trace::{
    LockHold, LockSource, RelationLock, Rewrite, SeqScan, StatementError, StatementTrace, Trace,
    TraceOptions, trace_script, trace_script_with,
};
