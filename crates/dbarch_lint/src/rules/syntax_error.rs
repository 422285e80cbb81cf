//! A migration file PostgreSQL cannot parse, or that is not a SQL text at all (binary, not
//! UTF-8, empty, too large, a psql meta-command such as `\i` or `\set`).
//!
//! ## Why
//! The server would reject the statement when the migration runs; in a transactional
//! migration nothing of it applies, in a non-transactional one the statements before it do.
//! The rest of the file is still linted, statement by statement.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN note text DEFALT '';
//! ```
//!
//! ## Instead
//! ```sql
//! ALTER TABLE orders ADD COLUMN note text DEFAULT '';
//! ```
//!
//! ## References
//! - The parser is PostgreSQL's own (libpg_query), so what it rejects, the server rejects.
