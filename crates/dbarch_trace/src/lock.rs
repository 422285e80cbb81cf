//! PostgreSQL's table-level lock modes, weakest first.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A table-level lock mode, ordered by strength (`AccessShareLock` < ... <
/// `AccessExclusiveLock`); serialized with PostgreSQL's names as `pg_locks.mode` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LockMode {
    AccessShareLock,
    RowShareLock,
    RowExclusiveLock,
    ShareUpdateExclusiveLock,
    ShareLock,
    ShareRowExclusiveLock,
    ExclusiveLock,
    AccessExclusiveLock,
}

impl LockMode {
    pub const ALL: [LockMode; 8] = [
        LockMode::AccessShareLock,
        LockMode::RowShareLock,
        LockMode::RowExclusiveLock,
        LockMode::ShareUpdateExclusiveLock,
        LockMode::ShareLock,
        LockMode::ShareRowExclusiveLock,
        LockMode::ExclusiveLock,
        LockMode::AccessExclusiveLock,
    ];

    /// The mode of a `pg_locks.mode` value (`None` for non-table modes).
    pub fn parse(s: &str) -> Option<LockMode> {
        LockMode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::AccessShareLock => "AccessShareLock",
            LockMode::RowShareLock => "RowShareLock",
            LockMode::RowExclusiveLock => "RowExclusiveLock",
            LockMode::ShareUpdateExclusiveLock => "ShareUpdateExclusiveLock",
            LockMode::ShareLock => "ShareLock",
            LockMode::ShareRowExclusiveLock => "ShareRowExclusiveLock",
            LockMode::ExclusiveLock => "ExclusiveLock",
            LockMode::AccessExclusiveLock => "AccessExclusiveLock",
        }
    }

    /// True when the two modes conflict (PostgreSQL's conflict table).
    pub fn conflicts_with(self, other: LockMode) -> bool {
        use LockMode::*;
        let strength = |m: LockMode| m as u8;
        let (a, b) = if strength(self) <= strength(other) {
            (self, other)
        } else {
            (other, self)
        };
        // `a` is the weaker one: the first mode it conflicts with, counting up.
        let first_conflict = match a {
            AccessShareLock => AccessExclusiveLock,
            RowShareLock => ExclusiveLock,
            RowExclusiveLock => ShareLock,
            ShareUpdateExclusiveLock => ShareUpdateExclusiveLock,
            ShareLock => ShareRowExclusiveLock,
            ShareRowExclusiveLock | ExclusiveLock | AccessExclusiveLock => RowShareLock,
        };
        if a == RowExclusiveLock && b == RowExclusiveLock {
            return false;
        }
        if a == ShareLock && b == ShareLock {
            return false;
        }
        b >= first_conflict
    }

    /// True when plain `SELECT`s of the relation wait behind this lock.
    pub fn blocks_reads(self) -> bool {
        self.conflicts_with(LockMode::AccessShareLock)
    }

    /// True when `INSERT`/`UPDATE`/`DELETE` of the relation wait behind this lock.
    pub fn blocks_writes(self) -> bool {
        self.conflicts_with(LockMode::RowExclusiveLock)
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LockMode::*;

    #[test]
    fn the_conflict_table() {
        // Rows: PostgreSQL's documentation, "Conflicting Lock Modes".
        let conflicts: [(LockMode, &[LockMode]); 8] = [
            (AccessShareLock, &[AccessExclusiveLock]),
            (RowShareLock, &[ExclusiveLock, AccessExclusiveLock]),
            (
                RowExclusiveLock,
                &[
                    ShareLock,
                    ShareRowExclusiveLock,
                    ExclusiveLock,
                    AccessExclusiveLock,
                ],
            ),
            (
                ShareUpdateExclusiveLock,
                &[
                    ShareUpdateExclusiveLock,
                    ShareLock,
                    ShareRowExclusiveLock,
                    ExclusiveLock,
                    AccessExclusiveLock,
                ],
            ),
            (
                ShareLock,
                &[
                    RowExclusiveLock,
                    ShareUpdateExclusiveLock,
                    ShareRowExclusiveLock,
                    ExclusiveLock,
                    AccessExclusiveLock,
                ],
            ),
            (
                ShareRowExclusiveLock,
                &[
                    RowExclusiveLock,
                    ShareUpdateExclusiveLock,
                    ShareLock,
                    ShareRowExclusiveLock,
                    ExclusiveLock,
                    AccessExclusiveLock,
                ],
            ),
            (
                ExclusiveLock,
                &[
                    RowShareLock,
                    RowExclusiveLock,
                    ShareUpdateExclusiveLock,
                    ShareLock,
                    ShareRowExclusiveLock,
                    ExclusiveLock,
                    AccessExclusiveLock,
                ],
            ),
            (AccessExclusiveLock, &LockMode::ALL),
        ];
        for (a, list) in conflicts {
            for b in LockMode::ALL {
                assert_eq!(a.conflicts_with(b), list.contains(&b), "{a} vs {b}");
            }
        }
        assert!(AccessExclusiveLock.blocks_reads());
        assert!(!ExclusiveLock.blocks_reads());
        assert!(ShareLock.blocks_writes());
        assert!(!ShareUpdateExclusiveLock.blocks_writes());
        assert_eq!(LockMode::parse("ShareLock"), Some(ShareLock));
        assert_eq!(LockMode::parse("SIReadLock"), None);
    }
}
