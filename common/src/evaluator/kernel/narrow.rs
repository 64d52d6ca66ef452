//! The few-coordinate kernel: output rows in the lanes, a register tile of `R` row vectors ×
//! `C` coordinates.
//!
//! For a chunk of a handful of samples (down to one), a coordinate vector would be mostly empty
//! lanes; here each step of the reduction loads `R` vectors of weights from the narrow panel and
//! broadcasts `C` inputs, so every lane does useful work. The sums go to a small stack buffer,
//! are modulated and activated there a vector at a time, then written to their rows of the
//! feature-major activation buffer. Every weight is read once per coordinate, so the panels'
//! storage matters: f32, or f16 widened as it is loaded ([`PanelWeight`]; see
//! [`Columns`](crate::evaluator::packed::Columns)). Integer panels (compact presets with AVX-512
//! VNNI) run the `vnni` kernel instead.

use super::activation::{modulate, IDENTITY, LEAKY, SINE};
use super::simd::{PanelWeight, Simd};
use crate::evaluator::packed::PackedLayer;
use crate::evaluator::scratch::BLOCK;
use crate::evaluator::weights::Activation;

/// Row vectors per tile for one to three coordinates with 32 vector registers (AVX-512): eight
/// independent accumulator chains per coordinate, so that FMA latency does not bound the
/// one-sample case, whose every weight is used once.
const R_FEW: usize = 8;

/// Row vectors per tile otherwise: four accumulators per coordinate.
const R: usize = 4;

/// Fewest independent accumulator chains a tile keeps: enough to cover the FMA latency
/// (four cycles at one or two per cycle) when a tile has few row vectors and coordinates.
const MIN_CHAINS: usize = 4;

/// Room for one tile's sums: at most 16 accumulators of at most 16 lanes (`R` × 4 or `R_FEW`
/// × 2 coordinates).
const SUMS: usize = 16 * 16;

/// One layer for `n` coordinates (`n ≤ LANES / 2`), its narrow panels (starting at `columns`)
/// stored as `W`: picks the kernel for the layer's activation.
///
/// # Safety
/// As [`dense`].
#[inline(always)]
pub(super) unsafe fn layer<S: Simd, W: PanelWeight>(
    layer: &PackedLayer,
    columns: *const W,
    params: *const f32,
    frac: *const f32,
    n: usize,
    src: *const f32,
    dst: *mut f32,
) {
    match layer.activation {
        Activation::Sine => dense::<S, W, SINE>(layer, columns, params, frac, n, src, dst),
        Activation::LeakyRelu => dense::<S, W, LEAKY>(layer, columns, params, frac, n, src, dst),
        Activation::Identity => dense::<S, W, IDENTITY>(layer, columns, params, frac, n, src, dst),
    }
}

/// One dense layer for `n` coordinates (`n ≤ LANES / 2`), its panels stored as `W` (f32 or
/// f16).
///
/// # Safety
/// `S` must be available (with F16C for f16 panels); pointers point at this layer's narrow
/// panels and parameter-major parameters, and at activation buffers of at least
/// `max(k, vectors·LANES)` rows of [`BLOCK`] values.
#[inline(always)]
unsafe fn dense<S: Simd, W: PanelWeight, const ACT: u8>(
    layer: &PackedLayer,
    columns: *const W,
    params: *const f32,
    frac: *const f32,
    n: usize,
    src: *const f32,
    dst: *mut f32,
) {
    let mut v = 0;
    if S::LANES >= 16 && n < 4 {
        while v + R_FEW <= layer.vectors {
            rows::<S, W, R_FEW, ACT>(layer, columns, params, frac, n, src, dst, v);
            v += R_FEW;
        }
    }
    while v + R <= layer.vectors {
        rows::<S, W, R, ACT>(layer, columns, params, frac, n, src, dst, v);
        v += R;
    }
    while v + 2 <= layer.vectors {
        rows::<S, W, 2, ACT>(layer, columns, params, frac, n, src, dst, v);
        v += 2;
    }
    while v < layer.vectors {
        rows::<S, W, 1, ACT>(layer, columns, params, frac, n, src, dst, v);
        v += 1;
    }
}

/// Row vectors `v..v + RV` for all `n` coordinates, four (AVX-512, at most four row vectors),
/// two or one at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn rows<S: Simd, W: PanelWeight, const RV: usize, const ACT: u8>(
    layer: &PackedLayer,
    columns: *const W,
    params: *const f32,
    frac: *const f32,
    n: usize,
    src: *const f32,
    dst: *mut f32,
    v: usize,
) {
    let mut sums = [0.0f32; SUMS];
    let sums = sums.as_mut_ptr();
    let stride = layer.vectors * S::LANES;
    let panel = columns.add(v * layer.k * S::LANES);
    let params = params.add(v * S::LANES);
    let dst = dst.add(v * S::LANES * BLOCK);
    let mut c = 0;
    // Four coordinates need 16 accumulators + 5 operands: only AVX-512 has the 32 registers.
    if S::LANES >= 16 && RV <= R {
        while c + 4 <= n {
            let at = (src.add(c), frac.add(c), dst.add(c));
            tile::<S, W, RV, 4, ACT>(panel, layer.k, at.0, params, stride, at.1, sums, at.2);
            c += 4;
        }
    }
    while c + 2 <= n {
        let at = (src.add(c), frac.add(c), dst.add(c));
        tile::<S, W, RV, 2, ACT>(panel, layer.k, at.0, params, stride, at.1, sums, at.2);
        c += 2;
    }
    if c < n {
        let at = (src.add(c), frac.add(c), dst.add(c));
        tile::<S, W, RV, 1, ACT>(panel, layer.k, at.0, params, stride, at.1, sums, at.2);
    }
}

/// The register tile: `RV` row vectors × `C` coordinates over `k` inputs, stored to `sums`
/// (by a trivially unrolled loop, which keeps the accumulators in registers; see the wide
/// tile), then modulated, activated and written row by row.
#[inline(always)]
#[allow(clippy::needless_range_loop, clippy::too_many_arguments)]
unsafe fn tile<S: Simd, W: PanelWeight, const RV: usize, const C: usize, const ACT: u8>(
    panel: *const W,
    k: usize,
    src: *const f32,
    params: *const f32,
    stride: usize,
    frac: *const f32,
    sums: *mut f32,
    dst: *mut f32,
) {
    let panel_len = k * S::LANES;
    // Each row vector and coordinate has its own accumulator. A tile with fewer than
    // `MIN_CHAINS` of them (a layer's last one or two row vectors, for one coordinate) would
    // wait on the FMA latency at every input, so it spreads consecutive inputs over `split`
    // chains and adds the chains at the end.
    let split = MIN_CHAINS.div_ceil(RV * C);
    let mut acc = [[[S::zero(); C]; RV]; MIN_CHAINS];
    let step = |acc: &mut [[S::V; C]; RV], i: usize| {
        let w: [S::V; RV] =
            std::array::from_fn(|r| W::load::<S>(panel.add(r * panel_len + i * S::LANES)));
        let x = src.add(i * BLOCK);
        for c in 0..C {
            let x = S::splat(*x.add(c));
            for r in 0..RV {
                acc[r][c] = S::mul_add(w[r], x, acc[r][c]);
            }
        }
    };
    let mut i = 0;
    while i + split <= k {
        for (s, acc) in acc.iter_mut().take(split).enumerate() {
            step(acc, i + s);
        }
        i += split;
    }
    for (s, i) in (i..k).enumerate() {
        step(&mut acc[s], i);
    }
    let (first, rest) = acc.split_at_mut(1);
    let acc = &mut first[0];
    for chain in rest.iter().take(split - 1) {
        for r in 0..RV {
            for c in 0..C {
                acc[r][c] = S::add(acc[r][c], chain[r][c]);
            }
        }
    }
    for r in 0..RV {
        for c in 0..C {
            S::store(sums.add((r * C + c) * S::LANES), acc[r][c]);
        }
    }
    for r in 0..RV {
        let p = params.add(r * S::LANES);
        let row: [S::V; 6] = std::array::from_fn(|q| S::load(p.add(q * stride)));
        for c in 0..C {
            let at = sums.add((r * C + c) * S::LANES);
            let f = S::splat(*frac.add(c));
            S::store(at, modulate::<S, ACT>(S::load(at), f, row));
            let out = dst.add(r * S::LANES * BLOCK + c);
            for l in 0..S::LANES {
                *out.add(l * BLOCK) = *at.add(l);
            }
        }
    }
}
