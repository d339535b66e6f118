//! Black-box tests: a real server on port 0 over a fresh database, real
//! HTTP and WebSocket clients. Set `TEST_DATABASE_URL` to a PostgreSQL URL
//! to run them there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod authz;
mod cluster;
mod conversations;
mod cors;
mod data_rights;
mod demo;
mod events;
mod explorer;
mod groups;
mod history_visibility;
mod host_app;
mod http;
mod identity;
mod lifecycle;
mod live;
mod mentions;
mod message_actions;
mod messages;
mod moderation;
mod persisted_queries;
mod privacy;
mod profile;
mod reaction_limits;
mod receipts;
mod rich_messages;
mod schema;
mod search;
mod security;
mod send_batches;
mod streaming_sweep;
mod subscriptions;
mod webhooks;
mod websocket;
mod websocket_clients;
