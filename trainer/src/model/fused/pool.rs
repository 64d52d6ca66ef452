//! Activation-sized f32 buffers reused from one training step to the next.
//!
//! A pi-GAN step with the tangent keeps about 25 buffers of 33 MB alive from the forward to the
//! backward. Allocations that large come fresh from the kernel every step, and the kernel
//! zeroes every page on first touch (measured: an eighth of the step). The fused ops take
//! their big buffers from here and give them back when their saved state is dropped, so that
//! after the first step they reuse memory that is already mapped.

use std::sync::{Mutex, MutexGuard};

/// Buffers smaller than this come from the allocator: reuse only pays for large ones.
const MIN_POOLED: usize = 1 << 16;
/// At most this many buffers wait in the pool; more are freed.
const MAX_POOLED: usize = 128;

/// The idle buffers.
static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// The pool, whatever a panicking holder left behind (the buffers carry no invariant).
fn pool() -> MutexGuard<'static, Vec<Vec<f32>>> {
    POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A buffer of `len` elements whose contents are unspecified (stale values of an earlier
/// step, or zeros): callers overwrite every element.
pub fn take(len: usize) -> Vec<f32> {
    if len < MIN_POOLED {
        return vec![0.0; len];
    }
    let reused = {
        let mut pool = pool();
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, v)| v.capacity() >= len)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        best.map(|i| pool.swap_remove(i))
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

/// Returns a buffer for reuse (small ones, and any beyond the pool's bound, are freed).
pub fn give(v: Vec<f32>) {
    if v.capacity() < MIN_POOLED {
        return;
    }
    let mut pool = pool();
    if pool.len() < MAX_POOLED {
        pool.push(v);
    }
}

/// Returns every buffer of `buffers` to the pool.
pub fn give_all(buffers: &mut Vec<Vec<f32>>) {
    buffers.drain(..).for_each(give);
}

#[cfg(test)]
mod tests {
    use super::{give, take, MIN_POOLED};

    #[test]
    fn a_returned_buffer_is_reused_at_the_asked_length() {
        // No other test of this binary asks for buffers this large.
        let len = MIN_POOLED * 3 + 17;
        let mut v = take(len);
        assert_eq!(v.len(), len);
        v.fill(7.0);
        let ptr = v.as_ptr();
        give(v);
        let longer = take(len + 10);
        assert_ne!(longer.as_ptr(), ptr, "a buffer too small was handed out");
        let shorter = take(len - 5);
        assert_eq!(shorter.len(), len - 5);
        assert_eq!(shorter.as_ptr(), ptr);
        assert!(shorter.iter().all(|&x| x == 7.0));
        give(shorter);
        give(longer);
        assert_eq!(take(10).len(), 10);
    }
}
