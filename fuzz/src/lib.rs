//! The moderation library of Trellis, compiled on its own for fuzzing.
#[path = "../../src/moderation/mod.rs"]
pub mod moderation;
