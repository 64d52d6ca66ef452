//! The vectorised sine: `sin(x)` for f32 `x` within 2e-6 of the f64 `sin` of the same argument
//! for every `|x| ≤ 1e5` (the bound the exhaustive test asserts, with margin over the
//! polynomial's and the reduction's own errors; the maximum it observes is in BENCHMARKS.md,
//! "Real-time evaluator"), computed in registers by the layer kernels.
//!
//! First-layer SIREN arguments reach tens of thousands (omega up to 10⁴ times `|W t + b|` up to
//! about 7), so the range reduction is the whole difficulty. With `q = round(x/π)` (at most
//! 31831, read off a magic-number addition that also yields its parity), `r = x - q·π` is
//! computed Cody–Waite style with π split into three f32 parts: with FMA the first step is exact
//! for `|x| ≤ 1e5` and the other two add at most two roundings of a value below 2, so `r` is
//! within about 1.2e-7 of the true remainder. Without FMA the reduction runs in f64. Then
//! `sin(x) = (-1)^q · sin(r)` with an odd degree-9 minimax polynomial on `[-π/2, π/2]`.
//! Beyond about
//! `|x| = 1.3e7` the quadrant no longer fits the magic-number rounding and the result is not a
//! sine; network arguments stay far below (hidden layers reach a few thousand).

use super::kernel::{self, Isa, Scalar, Simd};

/// `1.5 · 2^23`: adding it rounds to an integer held in the low mantissa bits.
pub(crate) const ROUND_MAGIC: f32 = 12_582_912.0;
/// `1/π` in f32.
pub(crate) const FRAC_1_PI: f32 = std::f32::consts::FRAC_1_PI;
/// π rounded to f32: the first Cody–Waite part.
#[cfg(target_arch = "x86_64")]
pub(crate) const PI_A: f32 = std::f32::consts::PI;
/// `π - PI_A` rounded to f32: the second part.
#[cfg(target_arch = "x86_64")]
pub(crate) const PI_B: f32 = -8.742_278e-8;
/// `π - PI_A - PI_B` rounded to f32: the third part (what is left is below 3e-23).
#[cfg(target_arch = "x86_64")]
pub(crate) const PI_C: f32 = -3.430_249e-15;

/// Odd minimax coefficients of `sin(r) ≈ r + r³(S3 + r²(S5 + r²(S7 + r² S9)))` on `[-π/2, π/2]`.
const S3: f32 = -0.166_666_6;
const S5: f32 = 0.008_333_079;
const S7: f32 = -0.000_198_106_9;
const S9: f32 = 2.608_316e-6;

/// The sine on one vector of any ISA (inlined into the kernels).
///
/// # Safety
/// As for every [`Simd`] method: the ISA of `S` must be available.
#[inline(always)]
pub(crate) unsafe fn sin_v<S: Simd>(x: S::V) -> S::V {
    let big = S::mul_add(x, S::splat(FRAC_1_PI), S::splat(ROUND_MAGIC));
    let q = S::sub(big, S::splat(ROUND_MAGIC));
    let r = S::reduce_pi(x, q);
    let r2 = S::mul(r, r);
    let mut u = S::mul_add(S::splat(S9), r2, S::splat(S7));
    u = S::mul_add(u, r2, S::splat(S5));
    u = S::mul_add(u, r2, S::splat(S3));
    let y = S::mul_add(S::mul(r2, r), u, r);
    S::xor(y, S::low_bit_to_sign(big))
}

/// The scalar reference path: exactly the vector algorithm on one lane, reducing in f64.
pub fn sin(x: f32) -> f32 {
    // SAFETY: the scalar ISA uses only baseline instructions.
    unsafe { sin_v::<Scalar>(x) }
}

/// Replaces every value of `xs` by its sine using the best kernel of this CPU.
pub fn sin_in_place(xs: &mut [f32]) {
    kernel::sin_in_place(Isa::detect(), xs);
}

/// Replaces every value of `xs` by its sine using the kernel of `isa`, which must be available
/// (see [`Isa::is_available`]); an unavailable `isa` falls back to [`Isa::Portable`].
pub fn sin_in_place_with(isa: Isa, xs: &mut [f32]) {
    let isa = if isa.is_available() {
        isa
    } else {
        Isa::Portable
    };
    kernel::sin_in_place(isa, xs);
}
