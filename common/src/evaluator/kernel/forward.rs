//! The ISA-generic forward pass over one chunk of at most [`BLOCK`] coordinates.
//!
//! Activations live feature-major, `[row][BLOCK]`, so a register tile holds `M` output rows ×
//! `NV` vectors of coordinates; each step of the reduction loads `NV` input vectors once and
//! broadcasts `M` weights from the packed panel. The FiLM modulation, its per-sample ramp and the
//! activation (the sine included) are applied to the accumulators before they are stored.
//!
//! The first layer (input `t` alone) is computed in f64 and its sine argument reduced modulo 2π
//! there: its arguments reach 1e4–1e5, where one f32 rounding of the argument alone would cost
//! about 1e-3 of phase per unit.

use std::f64::consts::TAU;

use super::simd::Simd;
use crate::evaluator::packed::{Packed, PackedLayer, PARAMS_PER_ROW};
use crate::evaluator::scratch::{Scratch, BLOCK};
use crate::evaluator::sine::sin_v;
use crate::evaluator::weights::{Activation, SYNTH_LEAKY_SLOPE};

const SINE: u8 = 0;
const LEAKY: u8 = 1;
const IDENTITY: u8 = 2;

/// Everything one chunk's forward pass reads and writes.
pub(crate) struct Chunk<'a> {
    /// The packed network.
    pub net: &'a Packed,
    /// First-layer parameters per unit, f64: `[s0, ds, b0, db, β0, dβ]` (see [`PARAMS_PER_ROW`]).
    pub first: &'a [[f64; PARAMS_PER_ROW]],
    /// Later layers' parameters, f32, laid out as [`Packed`] says.
    pub params: &'a [f32],
    /// Activations and per-sample inputs (`t`, ramp fraction) already filled for the chunk.
    pub scratch: &'a mut Scratch,
    /// Output samples; its length (at most [`BLOCK`]) is the chunk length.
    pub out: &'a mut [f32],
}

/// The whole network on one chunk.
///
/// # Safety
/// `S` must be available, `M` must be the panel height the network was packed with, `NV ≤ 4`
/// with `NV · LANES` dividing [`BLOCK`], and the chunk's buffers must be sized for the network.
#[inline(always)]
pub(crate) unsafe fn forward<S: Simd, const M: usize, const NV: usize>(chunk: Chunk<'_>) {
    let Chunk {
        net,
        first,
        params,
        scratch,
        out,
    } = chunk;
    let vectors = out.len().div_ceil(S::LANES);
    let lanes = vectors * S::LANES;
    let mut src = scratch.h_a.as_mut_ptr();
    let mut dst = scratch.h_b.as_mut_ptr();
    first_layer::<S>(net, first, scratch, lanes, src);
    for layer in &net.layers {
        if layer.k > layer.in_features {
            std::ptr::copy_nonoverlapping(
                scratch.t32.as_ptr(),
                src.add(layer.in_features * BLOCK),
                lanes,
            );
        }
        let panels = net.panels.as_ptr().add(layer.panel);
        let params = params.as_ptr().add(layer.param);
        let frac = scratch.frac32.as_ptr();
        match layer.activation {
            Activation::Sine => {
                dense::<S, M, NV, SINE>(layer, panels, params, frac, vectors, src, dst)
            }
            Activation::LeakyRelu => {
                dense::<S, M, NV, LEAKY>(layer, panels, params, frac, vectors, src, dst)
            }
            Activation::Identity => {
                dense::<S, M, NV, IDENTITY>(layer, panels, params, frac, vectors, src, dst)
            }
        }
        std::mem::swap(&mut src, &mut dst);
    }
    std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len());
}

/// First layer: `a = (s0 + ds f)(w t + b0 + db f) + β0 + dβ f` in f64, reduced modulo 2π for a
/// sine, then the activation in f32 on the rows.
#[inline(always)]
unsafe fn first_layer<S: Simd>(
    net: &Packed,
    params: &[[f64; PARAMS_PER_ROW]],
    scratch: &Scratch,
    lanes: usize,
    dst: *mut f32,
) {
    let t = &scratch.t64[..lanes];
    let frac = &scratch.frac64[..lanes];
    let sine = net.first_activation == Activation::Sine;
    for (o, (&w, p)) in net.first_weight.iter().zip(params).enumerate() {
        let row = std::slice::from_raw_parts_mut(dst.add(o * BLOCK), lanes);
        let w = f64::from(w);
        let args = row.iter_mut().zip(t).zip(frac);
        if sine {
            for ((y, &t), &f) in args {
                let a = (p[0] + p[1] * f) * (w * t + (p[2] + p[3] * f)) + (p[4] + p[5] * f);
                *y = (a - (a * (1.0 / TAU)).round_ties_even() * TAU) as f32;
            }
        } else {
            for ((y, &t), &f) in args {
                let a = (p[0] + p[1] * f) * (w * t + (p[2] + p[3] * f)) + (p[4] + p[5] * f);
                *y = a as f32;
            }
        }
    }
    let act = match net.first_activation {
        Activation::Sine => SINE,
        Activation::LeakyRelu => LEAKY,
        Activation::Identity => return,
    };
    for o in 0..net.first_weight.len() {
        for v in (0..lanes).step_by(S::LANES) {
            let p = dst.add(o * BLOCK + v);
            let x = S::load(p);
            S::store(
                p,
                if act == SINE {
                    sin_v::<S>(x)
                } else {
                    activate::<S, LEAKY>(x)
                },
            );
        }
    }
}

/// One dense layer: every panel of `M` rows over every tile of `NV` coordinate vectors.
#[inline(always)]
unsafe fn dense<S: Simd, const M: usize, const NV: usize, const ACT: u8>(
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
            tile::<S, M, NV, ACT>(
                panel,
                layer.k,
                src.add(at),
                params,
                frac.add(at),
                dst.add(at),
            );
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

/// The register tile: `M` rows × `NV` vectors accumulated over `k` inputs, then modulated,
/// activated and stored.
#[inline(always)]
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
        #[allow(clippy::needless_range_loop)]
        for m in 0..M {
            let w = S::splat(*w.add(m));
            for v in 0..NV {
                acc[m][v] = S::mul_add(w, x[v], acc[m][v]);
            }
        }
    }
    let f: [S::V; NV] = std::array::from_fn(|v| S::load(frac.add(v * S::LANES)));
    #[allow(clippy::needless_range_loop)]
    for m in 0..M {
        let p = params.add(m * PARAMS_PER_ROW);
        let [s0, ds, b0, db, h0, dh] = std::array::from_fn(|i| S::splat(*p.add(i)));
        for v in 0..NV {
            let scale = S::mul_add(ds, f[v], s0);
            let shift = S::mul_add(dh, f[v], h0);
            let pre = S::mul_add(scale, S::add(acc[m][v], S::mul_add(db, f[v], b0)), shift);
            S::store(dst.add(m * BLOCK + v * S::LANES), activate::<S, ACT>(pre));
        }
    }
}

#[inline(always)]
unsafe fn activate<S: Simd, const ACT: u8>(x: S::V) -> S::V {
    match ACT {
        SINE => sin_v::<S>(x),
        LEAKY => S::max(x, S::mul(x, S::splat(SYNTH_LEAKY_SLOPE))),
        _ => x,
    }
}

/// The sine of every value of `xs`, whole vectors in place and the tail through a stack buffer.
///
/// # Safety
/// `S` must be available.
#[inline(always)]
pub(crate) unsafe fn sin_slice<S: Simd>(xs: &mut [f32]) {
    let mut chunks = xs.chunks_exact_mut(S::LANES);
    for c in &mut chunks {
        S::store(c.as_mut_ptr(), sin_v::<S>(S::load(c.as_ptr())));
    }
    let tail = chunks.into_remainder();
    let mut buf = [0.0f32; 16];
    buf[..tail.len()].copy_from_slice(tail);
    S::store(buf.as_mut_ptr(), sin_v::<S>(S::load(buf.as_ptr())));
    tail.copy_from_slice(&buf[..tail.len()]);
}
