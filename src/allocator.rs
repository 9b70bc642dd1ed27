//! The memory allocator.
//!
//! With the `jemalloc` feature (on by default) every binary that links this
//! library allocates with jemalloc (`tikv-jemallocator`), configured by
//! [`JEMALLOC_CONFIG`]. Without it, the system allocator is used; on glibc,
//! [`limit_malloc_arenas`] then caps its arenas.
//!
//! Why jemalloc: the store allocates and frees on many threads at once (the
//! submission writer, the blocking pool's completions, sled's flusher and
//! I/O threads, the runtime's workers), and sled copies and drops tree nodes
//! on every write. glibc's malloc serialised those threads on its arena
//! locks: with two arenas, 10 % of the end-to-end benchmark's CPU samples
//! were futex calls under `malloc`/`free`, and the submission writer spent
//! 8,129 of its 18,956 context switches in 4 s waiting for an arena lock.
//! More arenas did not help for long: memory freed into one arena is not
//! reused by another, and with glibc's default of eight per core the
//! process grew by about 15 KB per stored article (a 40,000-article store
//! build reached 766 MB against 330 MB with two arenas). jemalloc's
//! thread caches take most of that traffic off the arenas, and its decay
//! returns freed pages to the system, so the store's memory stays where
//! glibc's two arenas kept it while the writers no longer wait (measured in
//! BENCHMARKS.md, thirteenth session).

/// jemalloc's options, read once when it starts (before `main`).
///
/// - `narenas:4`: two per core of the two-core machines it is sized for,
///   where the default (four per core) kept more memory for no more speed;
/// - `dirty_decay_ms:500`, `muzzy_decay_ms:0`: freed pages go back to the
///   system half a second after their last use, not ten seconds, so a burst
///   of writes does not leave the process at its peak.
///
/// An operator overrides any of them with the environment variable
/// `_RJEM_MALLOC_CONF` (jemalloc's `MALLOC_CONF`, under the prefix this
/// build's symbols carry), e.g. `_RJEM_MALLOC_CONF=narenas:8`.
pub const JEMALLOC_CONFIG: &str = match std::str::from_utf8(JEMALLOC_CONFIG_C.to_bytes()) {
    Ok(config) => config,
    Err(_) => panic!("jemalloc's options are ASCII"),
};

/// [`JEMALLOC_CONFIG`] as the C string jemalloc reads (written once, here).
const JEMALLOC_CONFIG_C: &std::ffi::CStr = c"narenas:4,dirty_decay_ms:500,muzzy_decay_ms:0";

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL_ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The options jemalloc reads at start: its `malloc_conf` symbol, under the
/// `_rjem_` prefix of tikv-jemalloc-sys.
#[cfg(feature = "jemalloc")]
#[export_name = "_rjem_malloc_conf"]
#[used]
static JEMALLOC_MALLOC_CONF: Option<&'static std::ffi::c_char> = Some(
    // SAFETY: a pointer to the first byte of a NUL-terminated 'static string,
    // which is what jemalloc reads `malloc_conf` as.
    unsafe { &*JEMALLOC_CONFIG_C.as_ptr() },
);

/// The allocator this build uses, for logs and benchmark reports.
pub fn describe() -> String {
    if cfg!(feature = "jemalloc") {
        match std::env::var("_RJEM_MALLOC_CONF") {
            Ok(overrides) if !overrides.is_empty() => {
                format!("jemalloc ({JEMALLOC_CONFIG}, then {overrides})")
            }
            _ => format!("jemalloc ({JEMALLOC_CONFIG})"),
        }
    } else {
        match std::env::var("MALLOC_ARENA_MAX") {
            Ok(arenas) => format!("system malloc (MALLOC_ARENA_MAX={arenas})"),
            Err(_) => format!("system malloc ({DEFAULT_MALLOC_ARENAS} arenas on glibc)"),
        }
    }
}

/// The glibc malloc arenas kept when jemalloc is not built in and the
/// operator sets none.
pub const DEFAULT_MALLOC_ARENAS: i32 = 2;

/// Without the `jemalloc` feature: caps glibc's malloc arenas at
/// [`DEFAULT_MALLOC_ARENAS`] unless `MALLOC_ARENA_MAX` is set (glibc reads
/// that itself). Call it first thing in `main`, before any thread starts.
/// Does nothing with jemalloc, or on other C libraries.
pub fn limit_malloc_arenas() {
    if cfg!(feature = "jemalloc") || std::env::var_os("MALLOC_ARENA_MAX").is_some() {
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

#[cfg(all(test, feature = "jemalloc"))]
mod tests {
    use super::*;

    /// The value of a jemalloc option (`opt.*`), read with `mallctl`.
    fn jemalloc_option<Value: Copy + Default>(name: &std::ffi::CStr) -> Value {
        let mut value = Value::default();
        let mut length = std::mem::size_of::<Value>();
        // SAFETY: `value` is a writable `Value` of `length` bytes, the type
        // jemalloc documents for the options read below; no new value is set.
        let status = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                std::ptr::from_mut(&mut value).cast(),
                &mut length,
                std::ptr::null_mut(),
                0,
            )
        };
        assert_eq!(status, 0, "mallctl {name:?}");
        assert_eq!(length, std::mem::size_of::<Value>(), "mallctl {name:?}");
        value
    }

    #[test]
    fn the_c_string_is_the_documented_configuration() {
        assert_eq!(JEMALLOC_CONFIG_C.to_str(), Ok(JEMALLOC_CONFIG));
    }

    #[test]
    fn jemalloc_runs_with_the_configuration() {
        if std::env::var_os("_RJEM_MALLOC_CONF").is_some() {
            return; // the operator's options win; nothing to compare
        }
        assert_eq!(jemalloc_option::<u32>(c"opt.narenas"), 4);
        assert_eq!(jemalloc_option::<isize>(c"opt.dirty_decay_ms"), 500);
        assert_eq!(jemalloc_option::<isize>(c"opt.muzzy_decay_ms"), 0);
    }
}
