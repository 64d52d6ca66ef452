//! The AVX2+FMA (and F16C) kernel: 8 lanes, register tile of 6 output rows × 2 ymm
//! (16 coordinates), 12 accumulators, leaving ymm registers for the inputs and the broadcast
//! weight.

use std::arch::x86_64::*;

use super::chunk::Chunk;
use super::forward as generic;
use super::simd::Simd;
use crate::evaluator::sine::{PI_A, PI_B, PI_C};

/// Output rows per register tile.
pub(crate) const ROWS: usize = 6;

/// 8 f32 lanes in a ymm register.
pub(crate) struct Avx2;

impl Simd for Avx2 {
    const LANES: usize = 8;
    type V = __m256;

    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        _mm256_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_f16(p: *const u16) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p.cast()))
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        _mm256_storeu_ps(p, v);
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn sub(a: __m256, b: __m256) -> __m256 {
        _mm256_sub_ps(a, b)
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        _mm256_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn max(a: __m256, b: __m256) -> __m256 {
        _mm256_max_ps(a, b)
    }
    #[inline(always)]
    unsafe fn xor(a: __m256, b: __m256) -> __m256 {
        _mm256_xor_ps(a, b)
    }
    #[inline(always)]
    unsafe fn low_bit_to_sign(v: __m256) -> __m256 {
        _mm256_castsi256_ps(_mm256_slli_epi32::<31>(_mm256_castps_si256(v)))
    }
    #[inline(always)]
    unsafe fn reduce_pi(x: __m256, q: __m256) -> __m256 {
        let r = _mm256_fnmadd_ps(q, _mm256_set1_ps(PI_A), x);
        let r = _mm256_fnmadd_ps(q, _mm256_set1_ps(PI_B), r);
        _mm256_fnmadd_ps(q, _mm256_set1_ps(PI_C), r)
    }
}

/// Runs the network on one chunk with the AVX2+FMA kernel.
///
/// # Safety
/// AVX2, FMA and F16C must be available; the chunk's network must have been packed for
/// [`super::Isa::Avx2Fma`] and its scratch and parameters sized for that network.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn forward(chunk: Chunk<'_>) {
    generic::forward::<Avx2, ROWS, 2>(chunk);
}

/// Applies the sine to every value of `xs` with AVX2+FMA.
///
/// # Safety
/// AVX2, FMA and F16C must be available.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn sin_in_place(xs: &mut [f32]) {
    generic::sin_slice::<Avx2>(xs);
}

/// `Σ a[i]·b[i]` with AVX2+FMA.
///
/// # Safety
/// AVX2, FMA and F16C must be available.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    super::dot::dot::<Avx2>(a, b)
}
