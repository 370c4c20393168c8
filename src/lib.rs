//! Trellis: a youth-safe e-mentoring platform. See DESIGN.md for the picture and README.md for
//! the map of this crate.

pub mod access;
pub mod allocator;
pub mod api;
pub mod app;
pub mod audit;
pub mod classifier;
pub mod cli;
pub mod configuration;
pub mod db;
pub mod error;
pub mod job_queue;
pub mod jobs;
pub mod mail;
pub mod moderation;
pub mod programme_policy;
pub mod services;
pub mod telemetry;
pub mod web;
