//! The block kernel: a register tile of `M` output rows × `NV` vectors of coordinates.
//!
//! Each step of the reduction loads `NV` input vectors once and broadcasts `M` weights from the
//! wide panel (an FMA memory operand on AVX-512), so with `M = 6, NV = 4` every 24 FMAs cost 10
//! loads and the 24 accumulators stay in zmm registers; the sums are then stored and modulated
//! and activated in place while the tile is still in L1.

use super::activation::modulate;
use super::simd::Simd;
use crate::evaluator::packed::{PackedLayer, PARAMS_PER_ROW};
use crate::evaluator::scratch::BLOCK;

/// One dense layer: every panel of `M` rows over every tile of `NV` coordinate vectors.
///
/// # Safety
/// `S` must be available; pointers point at this layer's panels and row-major parameters, and at
/// activation buffers of at least `max(k, tiles·M)` rows of [`BLOCK`] values.
#[inline(always)]
pub(super) unsafe fn dense<S: Simd, const M: usize, const NV: usize, const ACT: u8>(
    layer: &PackedLayer,
    panels: *const f32,
    params: *const f32,
    frac: *const f32,
    vectors: usize,
    src: *const f32,
    dst: *mut f32,
) {
    let width = NV * S::LANES;
    let full = vectors / NV;
    let rest = vectors % NV;
    for j in 0..layer.tiles {
        let panel = panels.add(j * layer.k * M);
        let params = params.add(j * M * PARAMS_PER_ROW);
        let dst = dst.add(j * M * BLOCK);
        for c in 0..full {
            let at = c * width;
            let (src, frac, dst) = (src.add(at), frac.add(at), dst.add(at));
            tile::<S, M, NV, ACT>(panel, layer.k, src, params, frac, dst);
        }
        let at = full * width;
        let (src, frac, dst) = (src.add(at), frac.add(at), dst.add(at));
        match rest {
            0 => {}
            1 => tile::<S, M, 1, ACT>(panel, layer.k, src, params, frac, dst),
            2 => tile::<S, M, 2, ACT>(panel, layer.k, src, params, frac, dst),
            _ => tile::<S, M, 3, ACT>(panel, layer.k, src, params, frac, dst),
        }
    }
}

/// The register tile: `M` rows × `NV` vectors accumulated over `k` inputs and stored, then
/// modulated and activated in place while still in L1.
///
/// The sums are stored by a loop with a trivial body so that it is always fully unrolled: an
/// epilogue indexing the accumulators directly can stay rolled (the sine is large), which
/// leaves the accumulators in memory and adds a store to every FMA. Indexed loops for the same
/// reason.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn tile<S: Simd, const M: usize, const NV: usize, const ACT: u8>(
    panel: *const f32,
    k: usize,
    src: *const f32,
    params: *const f32,
    frac: *const f32,
    dst: *mut f32,
) {
    let mut acc = [[S::zero(); NV]; M];
    for i in 0..k {
        let row = src.add(i * BLOCK);
        let w = panel.add(i * M);
        let x: [S::V; NV] = std::array::from_fn(|v| S::load(row.add(v * S::LANES)));
        for m in 0..M {
            let w = S::splat(*w.add(m));
            for v in 0..NV {
                acc[m][v] = S::mul_add(w, x[v], acc[m][v]);
            }
        }
    }
    for m in 0..M {
        for v in 0..NV {
            S::store(dst.add(m * BLOCK + v * S::LANES), acc[m][v]);
        }
    }
    let f: [S::V; NV] = std::array::from_fn(|v| S::load(frac.add(v * S::LANES)));
    for m in 0..M {
        let p = params.add(m * PARAMS_PER_ROW);
        let row: [S::V; 6] = std::array::from_fn(|i| S::splat(*p.add(i)));
        for v in 0..NV {
            let at = dst.add(m * BLOCK + v * S::LANES);
            S::store(at, modulate::<S, ACT>(S::load(at), f[v], row));
        }
    }
}
