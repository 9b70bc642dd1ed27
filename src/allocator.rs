//! Bounding glibc's malloc arenas.
//!
//! glibc gives threads that allocate concurrently arenas of their own, up to
//! eight per core. The store allocates and frees on many threads at once (the
//! blocking pool, sled's flusher and I/O threads, the runtime's workers), and
//! memory freed into one arena is not reused by another. Under a steady
//! write load the process then grew by about 15 KB per stored article: the
//! bench process that builds a 40,000-article store reached 766 MB with
//! glibc's default (`MALLOC_ARENA_MAX=16` on two cores) and 330 MB with two
//! arenas, at the same build rate (see BENCHMARKS.md).
//! [`limit_malloc_arenas`] caps the arenas, unless the operator chose a
//! number with `MALLOC_ARENA_MAX`.

/// The arenas the service keeps when the operator sets none.
pub const DEFAULT_MALLOC_ARENAS: i32 = 2;

/// Caps glibc's malloc arenas at [`DEFAULT_MALLOC_ARENAS`] unless
/// `MALLOC_ARENA_MAX` is set (glibc reads that itself). Call it first thing
/// in `main`, before any thread starts. Does nothing on other C libraries.
pub fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a malloc tunable, takes no pointers, and
        // is called before the process starts any thread.
        let accepted = unsafe { libc::mallopt(libc::M_ARENA_MAX, DEFAULT_MALLOC_ARENAS) };
        if accepted == 0 {
            eprintln!("dialogwatch: glibc refused M_ARENA_MAX; malloc arenas not capped");
        }
    }
}
