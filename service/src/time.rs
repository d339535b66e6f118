//! Timestamps as the database keeps them.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, cut to the microsecond: PostgreSQL keeps no more, so a timestamp
/// read back equals the one written (cursors depend on that).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
