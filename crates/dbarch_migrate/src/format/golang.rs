//! File suffixes of golang-migrate and sqlx reversible migrations (`.up.sql`/`.down.sql`),
//! and of dbarch's own layout (`.sql` + `.down.sql`).

use super::Format;

/// `(stem, is_up, format)` of a migration file name.
pub(super) fn strip_suffix(file_name: &str) -> Option<(&str, bool, Format)> {
    if let Some(stem) = file_name.strip_suffix(".up.sql") {
        Some((stem, true, Format::UpDown))
    } else if let Some(stem) = file_name.strip_suffix(".down.sql") {
        Some((stem, false, Format::Native))
    } else {
        file_name
            .strip_suffix(".sql")
            .map(|stem| (stem, true, Format::Native))
    }
}
