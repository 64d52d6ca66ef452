//! Runtime settings of mimalloc, the global allocator of the `trainer` and `xtask` binaries.
//!
//! A training step frees and allocates the same tensors (tens of MB) step after step. By
//! default mimalloc hands freed memory back to the kernel a second later, so a step of half a
//! second or more maps much of it again and the kernel zeroes every page on first touch.
//! Keeping freed memory removes nearly all of those page faults (the figures are in
//! BENCHMARKS.md, "Training throughput").

use std::os::raw::c_long;

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// mimalloc's `mi_option_purge_delay` in the `mi_option_e` of mimalloc v3 (the version
/// libmimalloc-sys 0.1.49 builds by default): how many ms freed memory waits before it goes
/// back to the kernel, -1 for never.
const PURGE_DELAY: mi_option_t = 15;
/// That option's default in mimalloc v3's `options.c` (its header still says 10): how it is
/// recognised before it is changed.
const DEFAULT_PURGE_DELAY_MS: c_long = 1000;

/// Keeps freed memory mapped for the rest of the process (mimalloc's purge delay to -1),
/// unless the option does not hold its default (set by `MIMALLOC_PURGE_DELAY`, or another
/// mimalloc whose options are numbered differently). Returns whether it changed the setting.
///
/// Call it at the start of `main`, before other threads exist: mimalloc's option calls are not
/// thread-safe. Peak memory is unchanged: what is kept is what the next step allocates again.
pub fn keep_freed_memory() -> bool {
    // SAFETY: both calls take and return plain integers; mimalloc ignores unknown options.
    // Called before any other thread runs, as mimalloc asks.
    unsafe {
        if mi_option_get(PURGE_DELAY) != DEFAULT_PURGE_DELAY_MS {
            return false;
        }
        mi_option_set(PURGE_DELAY, -1);
    }
    true
}

#[cfg(test)]
mod tests {
    use libmimalloc_sys::mi_option_get;

    use super::{keep_freed_memory, PURGE_DELAY};

    #[test]
    fn purging_is_switched_off_once() {
        // The only test in this binary that touches mimalloc's options.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        assert!(
            keep_freed_memory(),
            "the purge delay did not hold its default"
        );
        // SAFETY: reads an integer option.
        assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, -1);
        assert!(!keep_freed_memory(), "a second call changed it again");
    }
}
