//! Running PostgreSQL clusters: as an unprivileged user even when dbarch runs as root
//! ([`privilege`]), one cluster's lifecycle ([`Cluster`]), the project's dev server
//! ([`DevServer`]) and throwaway shadow servers ([`EphemeralServer`]).

mod cluster;
mod dev;
mod ephemeral;
pub mod privilege;
mod process;

pub use cluster::{Cluster, StopMode, free_port};
pub use dev::{DevServer, DevStatus};
pub use ephemeral::{EphemeralServer, ShadowChoice};
