//! roster: a user-management service with avatar images.

pub mod config;
pub mod domain;
pub mod http;
pub mod startup;
pub mod store;
pub mod telemetry;
