//! Parley's API: the GraphQL schema, the axum server and its configuration.
//! The `parley` binary in `main.rs` only parses the command line and calls
//! into this crate.

// Unit tests may unwrap; the code they test may not.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod graphql;
pub mod http;
pub mod startup;
pub mod telemetry;

pub use config::{Cli, Command, Config};
pub use startup::{Application, StartupError};
