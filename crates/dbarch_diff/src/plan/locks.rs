//! PostgreSQL's eight table lock modes and the claims a step makes.

use serde::Serialize;
use std::fmt;

/// Table-level lock modes, weakest first (the order of PostgreSQL's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    /// The name as `LOCK TABLE ... IN ... MODE` and `pg_locks` spell it.
    pub fn sql(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// True when it conflicts with ROW EXCLUSIVE, the lock of INSERT/UPDATE/DELETE.
    pub fn blocks_writes(self) -> bool {
        self >= LockMode::Share
    }

    /// True when it conflicts with ACCESS SHARE, the lock of SELECT.
    pub fn blocks_reads(self) -> bool {
        self == LockMode::AccessExclusive
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

/// A lock a step takes on a relation (`schema.name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockClaim {
    pub relation: String,
    pub mode: LockMode,
}

#[cfg(test)]
mod tests {
    use super::LockMode::*;

    #[test]
    fn conflicts_follow_the_documentation() {
        assert!(!ShareUpdateExclusive.blocks_writes());
        assert!(Share.blocks_writes());
        assert!(ShareRowExclusive.blocks_writes());
        assert!(!ShareRowExclusive.blocks_reads());
        assert!(AccessExclusive.blocks_reads());
    }
}
