//! Activation-sized f32 buffers reused from one training step to the next.
//!
//! A pi-GAN step with the tangent keeps about 25 buffers of 33 MB alive from the forward to the
//! backward. Allocations that large come fresh from the kernel every step, and the kernel
//! zeroes every page on first touch, a sizeable part of the step. The fused ops take
//! their big buffers from here and give them back when their saved state is dropped, so that
//! after the first step they reuse memory that is already mapped.

use std::sync::{Mutex, MutexGuard};

/// Buffers smaller than this come from the allocator: reuse only pays for large ones.
const MIN_POOLED: usize = 1 << 16;
/// At most this many buffers wait in the pool; beyond it the smallest are freed (the packed
/// weights and partial sums share the pool with the activations, and must not crowd out the
/// large buffers whose fresh pages cost the most).
const MAX_POOLED: usize = 256;

/// A set of idle buffers.
struct Pool(Mutex<Vec<Vec<f32>>>);

/// The process-wide pool the fused ops use.
static POOL: Pool = Pool::new();

impl Pool {
    const fn new() -> Pool {
        Pool(Mutex::new(Vec::new()))
    }

    /// The idle buffers, whatever a panicking holder left behind (they carry no invariant).
    fn idle(&self) -> MutexGuard<'_, Vec<Vec<f32>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// See [`take`].
    fn take(&self, len: usize) -> Vec<f32> {
        if len < MIN_POOLED {
            return vec![0.0; len];
        }
        let reused = {
            let mut idle = self.idle();
            let best = idle
                .iter()
                .enumerate()
                .filter(|(_, v)| v.capacity() >= len)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(i, _)| i);
            best.map(|i| idle.swap_remove(i))
        };
        match reused {
            Some(mut v) => {
                if v.len() >= len {
                    v.truncate(len);
                } else {
                    v.resize(len, 0.0);
                }
                v
            }
            None => vec![0.0; len],
        }
    }

    /// See [`give`].
    fn give(&self, v: Vec<f32>) {
        if v.capacity() < MIN_POOLED {
            return;
        }
        let mut idle = self.idle();
        idle.push(v);
        if idle.len() > MAX_POOLED {
            let smallest = idle
                .iter()
                .enumerate()
                .min_by_key(|(_, v)| v.capacity())
                .map(|(i, _)| i);
            if let Some(i) = smallest {
                idle.swap_remove(i);
            }
        }
    }
}

/// A buffer of `len` elements whose contents are unspecified (stale values of an earlier
/// step, or zeros): callers overwrite every element.
pub fn take(len: usize) -> Vec<f32> {
    POOL.take(len)
}

/// Returns a buffer for reuse (small ones are freed, and the smallest pooled one when the pool
/// is full).
pub fn give(v: Vec<f32>) {
    POOL.give(v);
}

/// Returns every buffer of `buffers` to the pool.
pub fn give_all(buffers: &mut Vec<Vec<f32>>) {
    buffers.drain(..).for_each(give);
}

#[cfg(test)]
mod tests {
    use super::{Pool, MAX_POOLED, MIN_POOLED};

    #[test]
    fn a_returned_buffer_is_reused_at_the_asked_length() {
        let pool = Pool::new();
        let len = MIN_POOLED * 3 + 17;
        let mut v = pool.take(len);
        assert_eq!(v.len(), len);
        v.fill(7.0);
        let ptr = v.as_ptr();
        pool.give(v);
        let longer = pool.take(len + 10);
        assert_ne!(longer.as_ptr(), ptr, "a buffer too small was handed out");
        let shorter = pool.take(len - 5);
        assert_eq!(shorter.len(), len - 5);
        assert_eq!(shorter.as_ptr(), ptr);
        assert!(shorter.iter().all(|&x| x == 7.0));
        pool.give(shorter);
        pool.give(longer);
        assert_eq!(pool.take(10).len(), 10);
    }

    #[test]
    fn a_full_pool_frees_its_smallest_buffers_first() {
        let pool = Pool::new();
        for _ in 0..MAX_POOLED + 8 {
            pool.give(vec![0.0; MIN_POOLED]);
        }
        let big_len = MIN_POOLED * 5 + 3;
        let mut big = pool.take(big_len);
        big.fill(7.0);
        pool.give(big);
        assert_eq!(pool.idle().len(), MAX_POOLED);
        let again = pool.take(big_len);
        assert!(
            again.iter().all(|&x| x == 7.0),
            "the large buffer was not kept"
        );
    }
}
