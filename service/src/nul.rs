//! NUL characters: PostgreSQL cannot store them in text and SQLite cuts
//! strings at them in places, so text that carries one is refused, the same
//! way on both databases, as bad input on the field it came in.

use crate::error::{Error, Result};

/// `BAD_USER_INPUT` on `field` when `text` has a NUL character.
pub(crate) fn reject_nul(field: &'static str, text: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(Error::invalid(field, "must not contain NUL characters"));
    }
    Ok(())
}
