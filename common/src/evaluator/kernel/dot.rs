//! The dot product of the per-latent work (mapping network, concat conditioning), in the same
//! ISA as the layer kernels.

use super::simd::Simd;

/// `Σ a[i]·b[i]` over the shorter length, with four vector accumulators.
///
/// # Safety
/// `S` must be available.
#[inline(always)]
pub(crate) unsafe fn dot<S: Simd>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let step = 4 * S::LANES;
    let mut acc = [S::zero(); 4];
    let mut i = 0;
    while i + step <= n {
        for (j, acc) in acc.iter_mut().enumerate() {
            let at = i + j * S::LANES;
            *acc = S::mul_add(
                S::load(a.as_ptr().add(at)),
                S::load(b.as_ptr().add(at)),
                *acc,
            );
        }
        i += step;
    }
    let sum = S::add(S::add(acc[0], acc[1]), S::add(acc[2], acc[3]));
    let mut lanes = [0.0f32; 16];
    S::store(lanes.as_mut_ptr(), sum);
    let tail: f32 = a[i..n].iter().zip(&b[i..n]).map(|(x, y)| x * y).sum();
    lanes[..S::LANES].iter().sum::<f32>() + tail
}
