//! Query optimization: the typed EXPLAIN plan (`plan`), running EXPLAIN safely inside a
//! transaction that is always rolled back (`run`), findings ranked by the time they could save
//! (`findings`, `vector`), the text rendering of a plan (`render`), and the read-only health
//! checks of `dbarch doctor` (`doctor`).

pub mod advise;
pub mod doctor;
mod error;
mod exprs;
pub mod findings;
pub mod plan;
pub mod render;
mod run;
pub mod vector;

pub use doctor::DoctorOptions;
pub use error::Error;
pub use findings::analyze;
pub use plan::{Explain, PlanNode};
pub use run::{Outcome, Request, explain};
pub use vector::VectorIndex;
