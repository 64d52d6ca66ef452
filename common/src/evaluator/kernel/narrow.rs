//! The few-coordinate kernel: output rows in the lanes, a register tile of `R` row vectors ×
//! `C` coordinates.
//!
//! For a chunk of a handful of samples (down to one), a coordinate vector would be mostly empty
//! lanes; here each step of the reduction loads `R` vectors of weights from the narrow panel and
//! broadcasts `C` inputs, so every lane does useful work. Results are modulated and activated in
//! registers, then written to their rows of the feature-major activation buffer.

use super::forward::activate;
use super::simd::Simd;
use crate::evaluator::packed::PackedLayer;
use crate::evaluator::scratch::BLOCK;

/// Row vectors per tile: four independent accumulators per coordinate hide the FMA latency.
const R: usize = 4;

/// One dense layer for `n` coordinates (`n ≤ LANES / 2`).
///
/// # Safety
/// `S` must be available; pointers point at this layer's narrow panels and parameter-major
/// parameters, and at activation buffers of at least `max(k, vectors·LANES)` rows of [`BLOCK`]
/// values.
#[inline(always)]
pub(super) unsafe fn dense<S: Simd, const ACT: u8>(
    layer: &PackedLayer,
    columns: *const f32,
    params: *const f32,
    frac: *const f32,
    n: usize,
    src: *const f32,
    dst: *mut f32,
) {
    let mut v = 0;
    while v + R <= layer.vectors {
        rows::<S, R, ACT>(layer, columns, params, frac, n, src, dst, v);
        v += R;
    }
    while v < layer.vectors {
        rows::<S, 1, ACT>(layer, columns, params, frac, n, src, dst, v);
        v += 1;
    }
}

/// Row vectors `v..v + RV` for all `n` coordinates, four, two or one at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn rows<S: Simd, const RV: usize, const ACT: u8>(
    layer: &PackedLayer,
    columns: *const f32,
    params: *const f32,
    frac: *const f32,
    n: usize,
    src: *const f32,
    dst: *mut f32,
    v: usize,
) {
    let stride = layer.vectors * S::LANES;
    let panel = columns.add(v * layer.k * S::LANES);
    let params = params.add(v * S::LANES);
    let dst = dst.add(v * S::LANES * BLOCK);
    let mut c = 0;
    while c + 4 <= n {
        let at = (src.add(c), frac.add(c), dst.add(c));
        tile::<S, RV, 4, ACT>(panel, layer.k, at.0, params, stride, at.1, at.2);
        c += 4;
    }
    if c + 2 <= n {
        let at = (src.add(c), frac.add(c), dst.add(c));
        tile::<S, RV, 2, ACT>(panel, layer.k, at.0, params, stride, at.1, at.2);
        c += 2;
    }
    if c < n {
        let at = (src.add(c), frac.add(c), dst.add(c));
        tile::<S, RV, 1, ACT>(panel, layer.k, at.0, params, stride, at.1, at.2);
    }
}

/// The register tile: `RV` row vectors × `C` coordinates over `k` inputs, then modulated,
/// activated and written row by row. (Indexed loops keep the accumulators in registers.)
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn tile<S: Simd, const RV: usize, const C: usize, const ACT: u8>(
    panel: *const f32,
    k: usize,
    src: *const f32,
    params: *const f32,
    stride: usize,
    frac: *const f32,
    dst: *mut f32,
) {
    let panel_len = k * S::LANES;
    let mut acc = [[S::zero(); C]; RV];
    for i in 0..k {
        let w: [S::V; RV] =
            std::array::from_fn(|r| S::load(panel.add(r * panel_len + i * S::LANES)));
        let x = src.add(i * BLOCK);
        for c in 0..C {
            let x = S::splat(*x.add(c));
            for r in 0..RV {
                acc[r][c] = S::mul_add(w[r], x, acc[r][c]);
            }
        }
    }
    let mut lanes = [0.0f32; 16];
    for r in 0..RV {
        let p = params.add(r * S::LANES);
        let [s0, ds, b0, db, h0, dh] = std::array::from_fn(|q| S::load(p.add(q * stride)));
        for c in 0..C {
            let f = S::splat(*frac.add(c));
            let scale = S::mul_add(ds, f, s0);
            let shift = S::mul_add(dh, f, h0);
            let pre = S::mul_add(scale, S::add(acc[r][c], S::mul_add(db, f, b0)), shift);
            S::store(lanes.as_mut_ptr(), activate::<S, ACT>(pre));
            let out = dst.add(r * S::LANES * BLOCK + c);
            for (l, &y) in lanes[..S::LANES].iter().enumerate() {
                *out.add(l * BLOCK) = y;
            }
        }
    }
}
