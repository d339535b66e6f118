//! Who people are and how they sign in: accounts and passwords, profiles,
//! sessions, host-app identities (JWTs, external ids, the admin key).

/// Password hashes on a small pool of threads that reuse their buffers.
mod argon2_pool;
/// The admin key's reads and the audit log.
mod audit;
/// Registering, signing in and out, and authenticating a token.
mod auth;
/// Blocking: whom a person hides, applied by every read path.
mod blocks;
/// Deleting an account and everything that names its person.
mod deletion;
/// A person's own data, in pages.
mod export;
/// Users the host app brings along, by its own ids.
mod external_ids;
/// What the host app may do with the admin key.
mod host_app;
/// Verifying the host app's JWTs.
mod jwt;
/// Keeping `lastSeenAt` fresh without a write per request.
mod last_seen;
/// Hashing and verifying passwords off the async threads.
mod password;
/// Who may see a person's presence and find them.
mod privacy;
/// Changing one's own profile and password.
mod profile;
/// Limits on password guessing and registrations.
mod rate_limit;
/// Ending live connections of sessions that ended.
mod revocation;
/// Sessions recently checked, so most requests need no lookup.
mod session_cache;
/// Listing and revoking one's sessions.
mod sessions;
/// Looking users up and searching them.
mod users;

pub use audit::HOST_APP_ACTOR;
pub use auth::{Register, SignedIn, hash_token, new_token};
pub(crate) use blocks::{
    BlockCache, blocks_sender, counts_for, either_blocks, hides_blocked, hides_blocked_sql,
};
pub use blocks::{CACHE_TTL as BLOCK_CACHE_TTL, DIRECT_BLOCKED};
pub use deletion::DeletedMessages;
pub use export::{EXPORT_PAGE_DEFAULT, EXPORT_PAGE_MAX, Export, ExportCursor};
pub use external_ids::GENERATED_USERNAME_PREFIX;
pub(crate) use external_ids::{NewExternalUser, display_name_for};
pub use host_app::{AdminKey, MIN_ADMIN_KEY_BYTES, UpsertUser, host_app_only};
pub use jwt::{JwtVerifier, MAX_TOKEN_BYTES, MIN_SECRET_BYTES, looks_like_jwt};
pub use last_seen::INTERVAL;
pub(crate) use last_seen::mark_seen;
pub(crate) use password::Hasher;
pub use privacy::Audience;
pub(crate) use privacy::{contacts_of_query, live_conversations_of};
pub use profile::UpdateProfile;
pub(crate) use profile::validate_profile;
pub(crate) use rate_limit::Limiters;
pub use rate_limit::{Rate, RateLimits, address_key};
pub(crate) use session_cache::SessionCache;
