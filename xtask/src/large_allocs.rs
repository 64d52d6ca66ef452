//! A global allocator wrapper that counts large allocations: in a training step each tensor op
//! allocates its output, so the allocations of at least [`LARGE`] bytes per step count (nearly
//! all of them; `gemm`'s packing buffers would count too) the ops over activation-sized
//! tensors and the bytes they write. That is the element-wise traffic
//! a GPU would see for the same ops (candle allocates an output per op on every device), which
//! the training benchmark reports next to its timings for the plain and composed paths. (The
//! CPU-fused path keeps its activations in a pool of its own, so its figure is not traffic.)

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU64, Ordering};

/// The smallest allocation counted: 1 MiB, far above the small bookkeeping allocations and
/// below any activation of a benchmark step.
pub const LARGE: usize = 1 << 20;

static COUNT: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Wraps the allocator `A`, counting every allocation (and growth by reallocation) of at least
/// [`LARGE`] bytes.
pub struct Counting<A>(pub A);

/// Allocations of at least [`LARGE`] bytes since the process started, and their bytes.
pub fn totals() -> (u64, u64) {
    (COUNT.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed))
}

/// Counts an allocation of `size` bytes if it is large.
fn note(size: usize) {
    if size >= LARGE {
        COUNT.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on unchanged to the wrapped allocator; the counters are atomics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract is the wrapped allocator's.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as above.
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            note(new_size);
        }
        // SAFETY: as above.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large allocations and growth are counted with their sizes; small ones are not.
    #[test]
    fn counts_large_allocations_only() {
        let counting = Counting(std::alloc::System);
        let (count, bytes) = totals();
        let small = Layout::from_size_align(LARGE - 1, 8).unwrap();
        let large = Layout::from_size_align(3 * LARGE, 8).unwrap();
        // SAFETY: each pointer is freed with the layout it was allocated (or grown) with.
        unsafe {
            let p = counting.alloc(small);
            counting.dealloc(p, small);
            let p = counting.alloc_zeroed(large);
            let p = counting.realloc(p, large, 4 * LARGE);
            counting.dealloc(p, Layout::from_size_align(4 * LARGE, 8).unwrap());
        }
        let (count_after, bytes_after) = totals();
        assert_eq!(count_after - count, 2);
        assert_eq!(bytes_after - bytes, 7 * LARGE as u64);
    }
}
