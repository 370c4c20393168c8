//! The moderation pipeline as a pure library: the `trellis moderate` contract, robustness on
//! hostile input, and the labelled corpus.

mod contract;
mod corpus;
mod fuzz_seeds;
mod generalisation;
#[path = "../support/repo.rs"]
mod repo;
mod robustness;
