//! The activations and the FiLM modulation every layer kernel applies to its products: one
//! definition, read by the first-layer, narrow, wide and forward code alike (a leaf: it
//! imports only the ISA trait and the sine).

use super::simd::Simd;
use crate::evaluator::sine::sin_v;
use crate::evaluator::weights::SYNTH_LEAKY_SLOPE;

/// Activation code of a sine layer (a const generic parameter of the kernels).
pub(super) const SINE: u8 = 0;
/// Activation code of a LeakyReLU layer.
pub(super) const LEAKY: u8 = 1;
/// Activation code of an identity layer.
pub(super) const IDENTITY: u8 = 2;

/// A layer's output from its product `y` at ramp fraction `f` with the row's parameters
/// `[s0, ds, b0, db, β0, dβ]`: `ACT((s0 + ds f) · (y + b0 + db f) + β0 + dβ f)`, the same
/// operations in every kernel.
#[inline(always)]
pub(super) unsafe fn modulate<S: Simd, const ACT: u8>(y: S::V, f: S::V, p: [S::V; 6]) -> S::V {
    let [s0, ds, b0, db, h0, dh] = p;
    let scale = S::mul_add(ds, f, s0);
    let shift = S::mul_add(dh, f, h0);
    activate::<S, ACT>(S::mul_add(scale, S::add(y, S::mul_add(db, f, b0)), shift))
}

/// The activation `ACT` on one vector.
#[inline(always)]
pub(super) unsafe fn activate<S: Simd, const ACT: u8>(x: S::V) -> S::V {
    match ACT {
        SINE => sin_v::<S>(x),
        LEAKY => S::max(x, S::mul(x, S::splat(SYNTH_LEAKY_SLOPE))),
        _ => x,
    }
}
