//! Deleting an account: the person's own (`deleteMyAccount`) or by the
//! host app (`deleteUser`).

/// What becomes of a deleted account's messages
/// (`PARLEY_DELETED_ACCOUNT_MESSAGES`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletedMessages {
    /// Kept as "deleted user" tombstones: no sender, body erased, so that
    /// replies and threads keep their shape (the default).
    #[default]
    Tombstone,
    /// Removed with everything that hangs off them.
    Erase,
}
