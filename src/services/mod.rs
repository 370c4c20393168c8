//! Domain services: one module per domain. They take a connection and an actor, check access
//! through `crate::access`, and make each user action one transaction with its audit row.

pub mod accounts;
pub mod analytics;
pub mod dashboard;
pub mod demo;
pub mod digest;
pub mod goals;
pub mod lifecycle;
pub mod load_seed;
pub mod matching;
pub mod messaging;
pub mod messaging_runtime;
pub mod oversight;
pub mod review;
