//! Webhooks: the host app's endpoints, each a durable consumer of the
//! event log with its own cursor, delivered to outside the send path.

/// Registering, listing, updating, deleting and resuming endpoints.
mod endpoints;
/// Webhook event types and how log events map onto them.
mod kinds;
/// The members of a new message who had no live socket.
mod offline;
/// The HTTP client: private addresses refused, time and size capped, signed.
mod outbound;
/// The JSON bodies.
mod payload;
/// The settings, with their defaults.
mod settings;
/// The supervisor that leases endpoints, and one delivery task per endpoint.
mod worker;

pub use endpoints::{Endpoint, NewEndpoint, UpdateEndpoint};
pub use kinds::EventType;
pub(crate) use offline::OfflineProbe;
pub use outbound::{SIGNATURE_HEADER, sign};
pub use settings::{IdKind, WebhookSettings};
pub(crate) use worker::Hub;
