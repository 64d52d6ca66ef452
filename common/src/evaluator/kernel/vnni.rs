//! The few-coordinate kernel on 16-bit integer panels with AVX-512 VNNI (`vpdpwssd`), for
//! compact presets (see [`crate::evaluator::quantized`] for the arithmetic and its bounds).
//!
//! It runs the whole network for a chunk of at most [`COORDS`] samples with activations kept
//! coordinate-major (`[coordinate][row]`), so that each layer's input is quantized with a few
//! vector operations and its output stored a vector at a time. Per layer and coordinate: the
//! largest input magnitude `m`, the inputs as `round(x · 32767 / m)` in i16 pairs; per tile of
//! `RV` panels × `C` coordinates, integer sums over chunks of [`CHUNK_PAIRS`] pairs (split over
//! several accumulator chains when the tile is small: integer sums do not depend on the
//! order), each chunk's sum added to an f32 sum, and at the end `y = sum · (s_r · m / 32767)`,
//! then the FiLM modulation, its ramp and the activation as in the f32 kernels. A non-finite
//! input makes the gain NaN, so it reaches the output as it does in the f32 kernels.

use std::arch::x86_64::*;

use super::avx512::Avx512;
use super::first;
use super::forward::{activate, Chunk, IDENTITY, LEAKY, SINE};
use super::simd::Simd;
use crate::evaluator::packed::PackedLayer;
use crate::evaluator::quantized::{Quantized, QuantizedLayer, CHUNK_PAIRS, INPUT_RANGE, ROWS};
use crate::evaluator::weights::Activation;

/// Most coordinates of a chunk this kernel runs: the narrow kernels' limit on AVX-512 (half
/// of its 16 lanes).
pub(crate) const COORDS: usize = crate::evaluator::scratch::COORDS;

/// Fewest independent accumulator chains a tile keeps, to cover `vpdpwssd`'s latency.
const MIN_CHAINS: usize = 4;

/// Whether this CPU runs the kernel: AVX-512F with the BW and VNNI extensions.
pub(crate) fn is_available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vnni")
        && is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
}

/// Runs the network on a chunk of at most [`COORDS`] samples.
///
/// # Safety
/// [`is_available`] must hold; `q` must be the chunk's network's quantized panels and the
/// chunk's scratch sized for that network (with its coordinate-major buffers).
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma")]
pub(crate) unsafe fn forward(chunk: Chunk<'_>, q: &Quantized) {
    let Chunk {
        net,
        first,
        params_soa,
        scratch,
        out,
        ..
    } = chunk;
    let n = out.len();
    let stride = scratch.coord_stride;
    let mut src = scratch.coords_a.as_mut_ptr();
    let mut dst = scratch.coords_b.as_mut_ptr();
    first::coordinate_major::<Avx512>(net, first, scratch, n, src, stride);
    let ints = scratch.quantized.as_mut_ptr();
    let (t, frac) = (scratch.t32, scratch.frac32);
    for (layer, ql) in net.layers.iter().zip(&q.layers) {
        let mut gains = [0.0f32; COORDS];
        for (c, gain) in gains.iter_mut().enumerate().take(n) {
            let x = src.add(c * stride);
            if layer.k > layer.in_features {
                *x.add(layer.in_features) = t[c];
            }
            *gain = quantize(x, layer.k, ints.add(c * stride / 2).cast());
        }
        let at = Layer {
            shape: layer,
            quantized: ql,
            panels: q.weights.as_ptr().add(ql.weights),
            scales: q.scales.as_ptr().add(ql.scales),
            params: params_soa.as_ptr().add(layer.soa),
            ints,
            gains: gains.as_ptr(),
            frac: frac.as_ptr(),
            dst,
            stride,
        };
        match layer.activation {
            Activation::Sine => dense::<SINE>(&at, n),
            Activation::LeakyRelu => dense::<LEAKY>(&at, n),
            Activation::Identity => dense::<IDENTITY>(&at, n),
        }
        std::mem::swap(&mut src, &mut dst);
    }
    for (c, y) in out.iter_mut().enumerate() {
        *y = *src.add(c * stride);
    }
}

/// Quantizes the `k` inputs at `x` into i16 at `q` (zero past `k`, up to a multiple of 16) and
/// returns the gain `m / 32767` that turns their products back into f32: NaN if an input is
/// NaN, infinite if one is infinite.
#[inline(always)]
unsafe fn quantize(x: *const f32, k: usize, q: *mut i16) -> f32 {
    let mask = |i: usize| -> __mmask16 {
        if k - i >= 16 {
            0xFFFF
        } else {
            (1u16 << (k - i)) - 1
        }
    };
    let (mut largest, mut nan) = (_mm512_setzero_ps(), 0);
    for i in (0..k).step_by(16) {
        let v = _mm512_maskz_loadu_ps(mask(i), x.add(i));
        largest = _mm512_max_ps(largest, _mm512_abs_ps(v));
        nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
    }
    let m = _mm512_reduce_max_ps(largest);
    let inv = _mm512_set1_ps(if m > 0.0 { INPUT_RANGE / m } else { 0.0 });
    for i in (0..k).step_by(16) {
        let v = _mm512_maskz_loadu_ps(mask(i), x.add(i));
        let ints = _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(v, inv)));
        _mm256_storeu_si256(q.add(i).cast(), ints);
    }
    if nan != 0 {
        f32::NAN
    } else {
        m / INPUT_RANGE
    }
}

/// One layer's operands.
struct Layer<'a> {
    shape: &'a PackedLayer,
    quantized: &'a QuantizedLayer,
    /// The layer's first panel.
    panels: *const i16,
    /// The layer's first row scale.
    scales: *const f32,
    /// The layer's parameter-major modulation parameters (`[6][panels · 16]`).
    params: *const f32,
    /// Quantized inputs, `[coordinate][pair]`, `stride / 2` pairs per coordinate.
    ints: *const i32,
    /// Per coordinate, the gain of its quantized inputs.
    gains: *const f32,
    /// Per coordinate, the ramp fraction.
    frac: *const f32,
    /// Output rows, `[coordinate][row]`.
    dst: *mut f32,
    /// Row stride of `dst` (in f32) and of `ints` (in i16).
    stride: usize,
}

/// One layer for `n ≤ COORDS` coordinates: pairs of coordinates by four panels, a last single
/// coordinate by eight.
#[inline(always)]
unsafe fn dense<const ACT: u8>(at: &Layer<'_>, n: usize) {
    let panels = at.shape.vectors;
    let mut c = 0;
    while c + 2 <= n {
        let mut v = 0;
        while v + 4 <= panels {
            tile::<4, 2, ACT>(at, v, c);
            v += 4;
        }
        while v < panels {
            tile::<1, 2, ACT>(at, v, c);
            v += 1;
        }
        c += 2;
    }
    if c < n {
        let mut v = 0;
        while v + 8 <= panels {
            tile::<8, 1, ACT>(at, v, c);
            v += 8;
        }
        while v + 2 <= panels {
            tile::<2, 1, ACT>(at, v, c);
            v += 2;
        }
        if v < panels {
            tile::<1, 1, ACT>(at, v, c);
        }
    }
}

/// Panels `v..v + RV` for coordinates `c0..c0 + C`.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn tile<const RV: usize, const C: usize, const ACT: u8>(
    at: &Layer<'_>,
    v: usize,
    c0: usize,
) {
    let pairs = at.quantized.pairs;
    let panel_len = pairs * ROWS * 2;
    let panels = at.panels.add(v * panel_len);
    let ints = at.ints.add(c0 * at.stride / 2);
    let split = MIN_CHAINS.div_ceil(RV * C);
    let step = |acc: &mut [[__m512i; C]; RV], p: usize| {
        let w: [__m512i; RV] = std::array::from_fn(|r| {
            _mm512_loadu_si512(panels.add(r * panel_len + p * ROWS * 2).cast())
        });
        for c in 0..C {
            let x = _mm512_set1_epi32(*ints.add(c * at.stride / 2 + p));
            for r in 0..RV {
                acc[r][c] = _mm512_dpwssd_epi32(acc[r][c], w[r], x);
            }
        }
    };
    let mut sums = [[_mm512_setzero_ps(); C]; RV];
    let mut start = 0;
    while start < pairs {
        let end = (start + CHUNK_PAIRS).min(pairs);
        let mut acc = [[[_mm512_setzero_si512(); C]; RV]; MIN_CHAINS];
        let mut p = start;
        while p + split <= end {
            for (s, acc) in acc.iter_mut().take(split).enumerate() {
                step(acc, p + s);
            }
            p += split;
        }
        for (s, p) in (p..end).enumerate() {
            step(&mut acc[s], p);
        }
        for r in 0..RV {
            for c in 0..C {
                let mut total = acc[0][r][c];
                for chain in acc.iter().take(split).skip(1) {
                    total = _mm512_add_epi32(total, chain[r][c]);
                }
                sums[r][c] = _mm512_add_ps(sums[r][c], _mm512_cvtepi32_ps(total));
            }
        }
        start = end;
    }
    let soa = at.shape.vectors * ROWS;
    for r in 0..RV {
        let row = (v + r) * ROWS;
        let scale = Avx512::load(at.scales.add(row));
        let p = at.params.add(row);
        let [s0, ds, b0, db, h0, dh] = std::array::from_fn(|q| Avx512::load(p.add(q * soa)));
        for c in 0..C {
            let gain = Avx512::mul(scale, Avx512::splat(*at.gains.add(c0 + c)));
            let y = Avx512::mul(sums[r][c], gain);
            let f = Avx512::splat(*at.frac.add(c0 + c));
            let film = Avx512::mul_add(ds, f, s0);
            let shift = Avx512::mul_add(dh, f, h0);
            let pre = Avx512::mul_add(film, Avx512::add(y, Avx512::mul_add(db, f, b0)), shift);
            let out = at.dst.add((c0 + c) * at.stride + row);
            Avx512::store(out, activate::<Avx512, ACT>(pre));
        }
    }
}
