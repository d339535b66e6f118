//! Black-box tests: a real server on port 0 over a fresh database, real
//! HTTP and WebSocket clients. Set `TEST_DATABASE_URL` to a PostgreSQL URL
//! to run them there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod authz;
mod cluster;
mod conversations;
mod cors;
mod demo;
mod events;
mod explorer;
mod groups;
mod host_app;
mod http;
mod identity;
mod lifecycle;
mod live;
mod message_actions;
mod messages;
mod persisted_queries;
mod profile;
mod rich_messages;
mod schema;
mod search;
mod security;
mod subscriptions;
mod webhooks;
mod websocket;
mod websocket_clients;
