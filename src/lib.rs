//! roster: a user-management service with avatar images.
//!
//! The layers, each knowing only the ones below it: `http` (the server, routes and the
//! API's wire format) reads requests into `domain` types and calls the `service`, which
//! owns every workflow once and combines the narrow traits of `store`, implemented by one
//! module per backend. `config` parses the settings, `startup` wires it all together, and
//! `telemetry` sets up logs, traces and metrics.

pub mod config;
pub mod domain;
pub mod http;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
