//! Where the repository's files are, decided when the test runs.

use std::path::PathBuf;

/// The repository root. Cargo sets `CARGO_MANIFEST_DIR` for the test process; `env!` would
/// bake in the path of whichever checkout compiled the binary, and a target directory shared
/// between checkouts (as CI's cache is) would then send tests to files that are not there.
pub fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
