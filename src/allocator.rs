//! Process-wide allocator settings, applied once at start-up.
//!
//! glibc raises its mmap threshold to the size of the largest block freed so far (up to
//! 32 MiB). After the first argon2 verification (a 19 MiB buffer) or classifier batch, such
//! buffers come from per-thread arenas instead of `mmap` and stay resident after `free`: a
//! server that had signed in 500 users sat at 600-700 MB instead of ~130 MB. A fixed
//! threshold keeps large buffers on `mmap`, so freeing them returns the memory. Measured in
//! docs/PERFORMANCE.md ("Memory under load"); latency did not change.

/// Blocks of this size and above are always mapped (and unmapped on free).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1 << 20;

/// Apply the settings (glibc only; a no-op elsewhere).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
