//! The first layer, whose only input is `t`: `a = (s0 + ds f)(w t + b0 + db f) + β0 + dβ f`
//! per unit, computed in f64 and, for a sine, reduced modulo 2π there, then activated in f32.
//!
//! Its arguments reach 1e4–1e5 (omega up to 10⁴ times `|w t + b|` up to about 7), where a
//! single f32 rounding of the argument would already cost about 1e-3 of phase per unit; in f64
//! the reduced phase is exact to f32 precision. The layer is about 1/1000 of the work, so the
//! f64 lanes cost nothing measurable.

use std::f64::consts::TAU;

use super::activation::{activate, LEAKY};
use super::simd::Simd;
use crate::evaluator::packed::{Packed, PARAMS_PER_ROW};
use crate::evaluator::scratch::{Scratch, BLOCK};
use crate::evaluator::sine::sin_v;
use crate::evaluator::weights::Activation;

/// The parameter-major first-layer parameters split into their six arrays.
fn split(params: &[f64], units: usize) -> [&[f64]; PARAMS_PER_ROW] {
    std::array::from_fn(|q| &params[q * units..(q + 1) * units])
}

/// The pre-activation, reduced to `[-π, π]` when `REDUCE`, as f32.
#[inline(always)]
fn phase<const REDUCE: bool>(p: [f64; PARAMS_PER_ROW], w: f64, t: f64, f: f64) -> f32 {
    let [s0, ds, b0, db, h0, dh] = p;
    let a = (s0 + ds * f) * (w * t + (b0 + db * f)) + (h0 + dh * f);
    if REDUCE {
        (a - (a * (1.0 / TAU)).round_ties_even() * TAU) as f32
    } else {
        a as f32
    }
}

/// Activates `len` values (a multiple of `S::LANES`) at `at` in place.
#[inline(always)]
unsafe fn activate_run<S: Simd>(act: Activation, at: *mut f32, len: usize) {
    for v in (0..len).step_by(S::LANES) {
        let p = at.add(v);
        match act {
            Activation::Sine => S::store(p, sin_v::<S>(S::load(p))),
            Activation::LeakyRelu => S::store(p, activate::<S, LEAKY>(S::load(p))),
            Activation::Identity => {}
        }
    }
}

/// All `lanes` coordinates of the chunk, one unit (row) at a time, lanes across coordinates.
///
/// # Safety
/// `S` must be available, `lanes ≤ BLOCK` a multiple of `S::LANES`, `params` holds
/// `6 × units` values and `dst` has a row of [`BLOCK`] values per unit.
#[inline(always)]
pub(super) unsafe fn wide<S: Simd>(
    net: &Packed,
    params: &[f64],
    scratch: &Scratch,
    lanes: usize,
    dst: *mut f32,
) {
    let units = net.first_weight.len();
    let p = split(params, units);
    let (t, frac) = (&scratch.t64[..lanes], &scratch.frac64[..lanes]);
    for (o, &w) in net.first_weight.iter().enumerate() {
        let row = std::slice::from_raw_parts_mut(dst.add(o * BLOCK), lanes);
        let (w, q) = (f64::from(w), std::array::from_fn(|i| p[i][o]));
        let args = row.iter_mut().zip(t).zip(frac);
        if net.first_activation == Activation::Sine {
            args.for_each(|((y, &t), &f)| *y = phase::<true>(q, w, t, f));
        } else {
            args.for_each(|((y, &t), &f)| *y = phase::<false>(q, w, t, f));
        }
        activate_run::<S>(net.first_activation, row.as_mut_ptr(), lanes);
    }
}

/// `n` coordinates one at a time, lanes across units, scattered into the rows.
///
/// # Safety
/// As for [`wide`], with `n ≤ BLOCK`.
#[inline(always)]
pub(super) unsafe fn narrow<S: Simd>(
    net: &Packed,
    params: &[f64],
    scratch: &mut Scratch,
    n: usize,
    dst: *mut f32,
) {
    by_coordinate::<S>(net, params, scratch, n, |c, values| {
        for (o, &y) in values.iter().enumerate() {
            *dst.add(o * BLOCK + c) = y;
        }
    });
}

/// `n` coordinates one at a time, lanes across units, each coordinate's units contiguous at
/// `dst + c · stride` (the VNNI kernel's layout).
///
/// # Safety
/// As for [`narrow`], with `dst` holding `n` rows of `stride ≥ units` values.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn coordinate_major<S: Simd>(
    net: &Packed,
    params: &[f64],
    scratch: &mut Scratch,
    n: usize,
    dst: *mut f32,
    stride: usize,
) {
    by_coordinate::<S>(net, params, scratch, n, |c, values| {
        std::ptr::copy_nonoverlapping(values.as_ptr(), dst.add(c * stride), values.len());
    });
}

/// The first layer's activated values of each of `n` coordinates, handed to `sink` with the
/// coordinate's index.
#[inline(always)]
unsafe fn by_coordinate<S: Simd>(
    net: &Packed,
    params: &[f64],
    scratch: &mut Scratch,
    n: usize,
    mut sink: impl FnMut(usize, &[f32]),
) {
    let units = net.first_weight.len();
    let padded = units.div_ceil(S::LANES) * S::LANES;
    let p = split(params, units);
    let col = scratch.col.as_mut_ptr();
    for c in 0..n {
        let (t, f) = (scratch.t64[c], scratch.frac64[c]);
        let values = std::slice::from_raw_parts_mut(col, units);
        let args = values.iter_mut().zip(&net.first_weight).enumerate();
        if net.first_activation == Activation::Sine {
            args.for_each(|(o, (y, &w))| {
                let q = std::array::from_fn(|i| p[i][o]);
                *y = phase::<true>(q, f64::from(w), t, f);
            });
        } else {
            args.for_each(|(o, (y, &w))| {
                let q = std::array::from_fn(|i| p[i][o]);
                *y = phase::<false>(q, f64::from(w), t, f);
            });
        }
        activate_run::<S>(net.first_activation, col, padded);
        sink(c, values);
    }
}
