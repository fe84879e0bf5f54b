//! HTTP-level tests against the real roster binary, on both backends.

mod helpers;
mod images;

mod aws_layout;
mod create;
mod hostile;
mod lifecycle;
mod listing;
mod lookup;
mod operability;
mod privacy;
mod provisioned;
mod validation;
mod workflows;
