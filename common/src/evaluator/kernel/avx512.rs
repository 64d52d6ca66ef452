//! The AVX-512F kernel: 16 lanes, register tile of 6 output rows × 4 zmm (64 coordinates),
//! 24 accumulators with the weights broadcast straight from the packed panel.

use std::arch::x86_64::*;

use super::chunk::Chunk;
use super::forward as generic;
use super::simd::Simd;
use crate::evaluator::sine::{PI_A, PI_B, PI_C};

/// Output rows per register tile.
pub(crate) const ROWS: usize = 6;

/// 16 f32 lanes in a zmm register.
pub(crate) struct Avx512;

impl Simd for Avx512 {
    const LANES: usize = 16;
    type V = __m512;

    #[inline(always)]
    unsafe fn zero() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        _mm512_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_f16(p: *const u16) -> __m512 {
        _mm512_cvtph_ps(_mm256_loadu_si256(p.cast()))
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        _mm512_storeu_ps(p, v);
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn sub(a: __m512, b: __m512) -> __m512 {
        _mm512_sub_ps(a, b)
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        _mm512_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn mul_add(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn max(a: __m512, b: __m512) -> __m512 {
        _mm512_max_ps(a, b)
    }
    #[inline(always)]
    unsafe fn xor(a: __m512, b: __m512) -> __m512 {
        _mm512_castsi512_ps(_mm512_xor_si512(
            _mm512_castps_si512(a),
            _mm512_castps_si512(b),
        ))
    }
    #[inline(always)]
    unsafe fn low_bit_to_sign(v: __m512) -> __m512 {
        _mm512_castsi512_ps(_mm512_slli_epi32::<31>(_mm512_castps_si512(v)))
    }
    #[inline(always)]
    unsafe fn reduce_pi(x: __m512, q: __m512) -> __m512 {
        let r = _mm512_fnmadd_ps(q, _mm512_set1_ps(PI_A), x);
        let r = _mm512_fnmadd_ps(q, _mm512_set1_ps(PI_B), r);
        _mm512_fnmadd_ps(q, _mm512_set1_ps(PI_C), r)
    }
}

/// Runs the network on one chunk with the AVX-512F kernel.
///
/// # Safety
/// AVX-512F, AVX2 and FMA must be available; the chunk's network must have been packed for
/// [`super::Isa::Avx512`] and its scratch and parameters sized for that network.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn forward(chunk: Chunk<'_>) {
    generic::forward::<Avx512, ROWS, 4>(chunk);
}

/// Applies the sine to every value of `xs` with AVX-512F.
///
/// # Safety
/// AVX-512F, AVX2 and FMA must be available.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn sin_in_place(xs: &mut [f32]) {
    generic::sin_slice::<Avx512>(xs);
}

/// `Σ a[i]·b[i]` with AVX-512F.
///
/// # Safety
/// AVX-512F, AVX2 and FMA must be available.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    super::dot::dot::<Avx512>(a, b)
}
