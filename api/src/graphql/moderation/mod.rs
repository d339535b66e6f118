//! Moderation, over the service's blocks, bans, reports and the admin
//! key's audited reads.

/// Every admin-key operation written to the audit log.
mod audit;
/// `banMember`, `unbanMember`, `bans`.
mod bans;
/// `blockUser`, `unblockUser`, `blockedUsers`.
mod blocks;
/// The admin key's reads: conversations, messages, users, the audit log.
mod host_reads;
/// `reportMessage`, `reports`, `resolveReport`.
mod reports;

pub use audit::AuditHostApp;
pub use bans::{BanMutation, BanQuery};
pub use blocks::{BlockMutation, BlockQuery};
pub use host_reads::HostReadQuery;
pub use reports::{ReportMutation, ReportQuery};
