//! One test binary that spawns the real app (see helpers.rs).

mod access_rules;
mod api_input;
mod auth;
mod authorization;
mod authorization_writes;
mod cli;
mod crash_safety;
mod dashboards;
mod demo_data;
mod helpers;
mod jobs;
mod lifecycle;
mod load_seed;
mod messaging;
mod migrations;
mod openapi;
mod pages;
mod plumbing;
#[path = "../support/repo.rs"]
mod repo;
mod smtp;
mod tokens;
