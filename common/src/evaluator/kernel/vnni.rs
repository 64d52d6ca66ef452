//! The kernels on 16-bit integer panels with AVX-512 VNNI (`vpdpwssd`), for compact presets
//! (see [`crate::evaluator::quantized`] for the arithmetic and its bounds).
//!
//! Per layer and coordinate: the largest input magnitude `m`, the inputs as
//! `round(x · 32767 / m)` in i16 pairs; per tile, integer sums over chunks of [`CHUNK_PAIRS`]
//! pairs (split over several accumulator chains when the tile is small: integer sums do not
//! depend on the order), each chunk's sum added to an f32 sum, and at the end
//! `y = sum · (s_r · m / 32767)`, then the FiLM modulation, its ramp and the activation as in the
//! f32 kernels. A NaN input makes the gain NaN and an infinite one infinite, so either reaches
//! the output as a non-finite value, as it does in the f32 kernels.
//!
//! - A chunk of at most [`COORDS`] samples ([`few`]) keeps activations coordinate-major
//!   (`[coordinate][row]`): each coordinate's inputs are quantized with a few vector
//!   operations, and a tile holds output rows in the lanes (matrix–vector products).
//! - A longer chunk ([`block`]) keeps them feature-major (`[row][BLOCK]`) like the f32 block
//!   kernel: inputs are quantized a coordinate vector at a time into `[pair][coordinate]`, and a
//!   tile holds coordinates in the lanes, broadcasting each row's weight pair.
//!
//! Both compute every value with the same operations in the same order, so a sample's output
//! does not depend on how the samples are cut into chunks (tested bit for bit).

use std::arch::x86_64::*;

use super::activation::{modulate, IDENTITY, LEAKY, SINE};
use super::avx512::Avx512;
use super::chunk::Chunk;
use super::first;
use super::simd::Simd;
use crate::evaluator::packed::PackedLayer;
use crate::evaluator::quantized::{Quantized, QuantizedLayer, CHUNK_PAIRS, INPUT_RANGE, ROWS};
use crate::evaluator::scratch::BLOCK;
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

/// Runs the network on one chunk.
///
/// # Safety
/// [`is_available`] must hold; `q` must be the chunk's network's quantized panels and the
/// chunk's scratch sized for that network (with its VNNI buffers).
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma")]
pub(crate) unsafe fn forward(chunk: Chunk<'_>, q: &Quantized) {
    if chunk.out.len() <= COORDS {
        few(chunk, q);
    } else {
        block(chunk, q);
    }
}

/// A chunk of at most [`COORDS`] samples, coordinate-major.
#[inline(always)]
unsafe fn few(chunk: Chunk<'_>, q: &Quantized) {
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
    let (t, frac) = (scratch.t32.as_ptr(), scratch.frac32.as_ptr());
    for (layer, ql) in net.layers.iter().zip(&q.layers) {
        let mut gains = [0.0f32; COORDS];
        for (c, gain) in gains.iter_mut().enumerate().take(n) {
            let x = src.add(c * stride);
            if layer.k > layer.in_features {
                *x.add(layer.in_features) = *t.add(c);
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
            frac,
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

/// A chunk of more than [`COORDS`] samples, feature-major.
#[inline(always)]
unsafe fn block(chunk: Chunk<'_>, q: &Quantized) {
    let Chunk {
        net,
        first,
        params_soa,
        scratch,
        out,
        ..
    } = chunk;
    let n = out.len();
    let vectors = n.div_ceil(ROWS);
    let lanes = vectors * ROWS;
    let mut src = scratch.h_a.as_mut_ptr();
    let mut dst = scratch.h_b.as_mut_ptr();
    first::wide::<Avx512>(net, first, scratch, lanes, src);
    let ints = scratch.quantized.as_mut_ptr();
    let (t, frac) = (scratch.t32.as_ptr(), scratch.frac32.as_ptr());
    for (layer, ql) in net.layers.iter().zip(&q.layers) {
        if layer.k > layer.in_features {
            std::ptr::copy_nonoverlapping(t, src.add(layer.in_features * BLOCK), lanes);
        }
        let mut gains = [_mm512_setzero_ps(); BLOCK / ROWS];
        for (v, gain) in gains.iter_mut().enumerate().take(vectors) {
            *gain = quantize_vector(src.add(v * ROWS), layer.k, ints.add(v * ROWS));
        }
        let at = BlockLayer {
            shape: layer,
            quantized: ql,
            panels: q.weights.as_ptr().add(ql.weights),
            scales: q.scales.as_ptr().add(ql.scales),
            params: params_soa.as_ptr().add(layer.soa),
            ints,
            gains: &gains,
            frac,
            dst,
        };
        match layer.activation {
            Activation::Sine => dense_block::<SINE>(&at, vectors),
            Activation::LeakyRelu => dense_block::<LEAKY>(&at, vectors),
            Activation::Identity => dense_block::<IDENTITY>(&at, vectors),
        }
        std::mem::swap(&mut src, &mut dst);
    }
    std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), n);
}

/// Quantizes one vector of coordinates: the `k` rows at `x` (row stride [`BLOCK`]) into i16
/// pairs at `q` (`[pair][BLOCK]` 32-bit words, the first input of a pair in the low half) and
/// returns the coordinates' gains, as [`quantize`] does for one coordinate.
#[inline(always)]
unsafe fn quantize_vector(x: *const f32, k: usize, q: *mut i32) -> __m512 {
    // Four chains hide `vmaxps`' latency; a NaN is tracked apart, since `vmaxps` drops it.
    let (mut chains, mut nan) = ([_mm512_setzero_ps(); 4], 0);
    for i in 0..k {
        let v = _mm512_loadu_ps(x.add(i * BLOCK));
        chains[i % 4] = _mm512_max_ps(chains[i % 4], _mm512_abs_ps(v));
        nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
    }
    let largest = _mm512_max_ps(
        _mm512_max_ps(chains[0], chains[1]),
        _mm512_max_ps(chains[2], chains[3]),
    );
    let positive = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(largest, _mm512_setzero_ps());
    let inv = _mm512_maskz_div_ps(positive, _mm512_set1_ps(INPUT_RANGE), largest);
    let int = |i: usize| {
        if i < k {
            _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x.add(i * BLOCK)), inv))
        } else {
            _mm512_setzero_si512()
        }
    };
    let low_half = _mm512_set1_epi32(0xFFFF);
    for p in 0..k.div_ceil(2) {
        let high = _mm512_slli_epi32::<16>(int(2 * p + 1));
        // (low & 0xFFFF) | high
        let pair = _mm512_ternarylogic_epi32::<0xEA>(int(2 * p), low_half, high);
        _mm512_storeu_si512(q.add(p * BLOCK).cast(), pair);
    }
    let gain = _mm512_div_ps(largest, _mm512_set1_ps(INPUT_RANGE));
    _mm512_mask_blend_ps(nan, gain, _mm512_set1_ps(f32::NAN))
}

/// One layer's operands in the block kernel.
struct BlockLayer<'a> {
    shape: &'a PackedLayer,
    quantized: &'a QuantizedLayer,
    /// The layer's first panel.
    panels: *const i16,
    /// The layer's first row scale.
    scales: *const f32,
    /// The layer's parameter-major modulation parameters (`[6][panels · 16]`).
    params: *const f32,
    /// Quantized inputs, `[pair][BLOCK]`.
    ints: *const i32,
    /// Per coordinate vector, the gains of its quantized inputs.
    gains: &'a [__m512; BLOCK / ROWS],
    /// Per coordinate, the ramp fraction.
    frac: *const f32,
    /// Output rows, `[row][BLOCK]`.
    dst: *mut f32,
}

/// Output rows per block tile: a quarter of a panel.
const BLOCK_ROWS: usize = 4;

/// One layer for `vectors` coordinate vectors: tiles of four rows by three coordinate vectors,
/// then the rest.
#[inline(always)]
unsafe fn dense_block<const ACT: u8>(at: &BlockLayer<'_>, vectors: usize) {
    // Rows past the layer's width (a panel's padding) are not needed by the next layer.
    for row in (0..at.shape.out).step_by(BLOCK_ROWS) {
        let mut v = 0;
        while v + 3 <= vectors {
            block_tile::<3, ACT>(at, row, v);
            v += 3;
        }
        match vectors - v {
            2 => block_tile::<2, ACT>(at, row, v),
            1 => block_tile::<1, ACT>(at, row, v),
            _ => {}
        }
    }
}

/// Rows `row0..row0 + 4` for coordinate vectors `v0..v0 + NV`.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn block_tile<const NV: usize, const ACT: u8>(at: &BlockLayer<'_>, row0: usize, v0: usize) {
    let pairs = at.quantized.pairs;
    // Rows `row0..row0 + 4` lie in one panel; their weights for pair `p` are four consecutive
    // 32-bit words.
    let words = at
        .panels
        .add((row0 / ROWS) * pairs * ROWS * 2 + (row0 % ROWS) * 2)
        .cast::<i32>();
    let ints = at.ints.add(v0 * ROWS);
    // Enough chains to cover `vpdpwssd`'s latency at about 1.5 per cycle.
    let split = (2 * MIN_CHAINS).div_ceil(BLOCK_ROWS * NV);
    let step = |acc: &mut [[__m512i; NV]; BLOCK_ROWS], p: usize| {
        let x: [__m512i; NV] =
            std::array::from_fn(|v| _mm512_loadu_si512(ints.add(p * BLOCK + v * ROWS).cast()));
        for r in 0..BLOCK_ROWS {
            let w = _mm512_set1_epi32(*words.add(p * ROWS + r));
            for v in 0..NV {
                acc[r][v] = dpwssd(acc[r][v], w, x[v]);
            }
        }
    };
    let sums = chunk_sums::<BLOCK_ROWS, NV, 2>(pairs, split, step);
    let soa = at.shape.vectors * ROWS;
    for r in 0..BLOCK_ROWS {
        let row = row0 + r;
        let scale = Avx512::splat(*at.scales.add(row));
        let params: [__m512; 6] =
            std::array::from_fn(|q| Avx512::splat(*at.params.add(q * soa + row)));
        for v in 0..NV {
            let gain = Avx512::mul(scale, at.gains[v0 + v]);
            let y = Avx512::mul(sums[r][v], gain);
            let f = Avx512::load(at.frac.add((v0 + v) * ROWS));
            let out = at.dst.add(row * BLOCK + (v0 + v) * ROWS);
            Avx512::store(out, modulate::<Avx512, ACT>(y, f, params));
        }
    }
}

/// The f32 sums of a tile of `A × B` accumulators over `pairs` input pairs: `step(acc, p)` adds
/// pair `p`'s products to one set of accumulators; each chunk of [`CHUNK_PAIRS`] pairs spreads
/// consecutive pairs over `split ≤ CHAINS` sets (independent chains for small tiles), adds the
/// sets in integers (exact, whatever the split) and the chunk's sum to the f32 sums.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn chunk_sums<const A: usize, const B: usize, const CHAINS: usize>(
    pairs: usize,
    split: usize,
    mut step: impl FnMut(&mut [[__m512i; B]; A], usize),
) -> [[__m512; B]; A] {
    let mut sums = [[_mm512_setzero_ps(); B]; A];
    let mut start = 0;
    while start < pairs {
        let end = (start + CHUNK_PAIRS).min(pairs);
        let mut acc = [[[_mm512_setzero_si512(); B]; A]; CHAINS];
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
        for a in 0..A {
            for b in 0..B {
                let mut total = acc[0][a][b];
                for chain in acc.iter().take(split).skip(1) {
                    total = _mm512_add_epi32(total, chain[a][b]);
                }
                sums[a][b] = _mm512_add_ps(sums[a][b], _mm512_cvtepi32_ps(total));
            }
        }
        start = end;
    }
    sums
}

/// `acc + Σ` of the products of the i16 pairs of `a` and `b` in each 32-bit lane, as one
/// `vpdpwssd`. Written in assembly because LLVM's machine combiner splits the intrinsic into
/// `vpmaddwd` + `vpaddd` (two µops) to shorten accumulator chains, which costs these
/// throughput-bound loops far more than the latency it saves.
#[inline]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn dpwssd(acc: __m512i, a: __m512i, b: __m512i) -> __m512i {
    let mut acc = acc;
    std::arch::asm!(
        "vpdpwssd {acc}, {a}, {b}",
        acc = inout(zmm_reg) acc,
        a = in(zmm_reg) a,
        b = in(zmm_reg) b,
        options(pure, nomem, nostack, preserves_flags),
    );
    acc
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
                acc[r][c] = dpwssd(acc[r][c], w[r], x);
            }
        }
    };
    let sums = chunk_sums::<RV, C, MIN_CHAINS>(pairs, split, step);
    let soa = at.shape.vectors * ROWS;
    for r in 0..RV {
        let row = (v + r) * ROWS;
        let scale = Avx512::load(at.scales.add(row));
        let p = at.params.add(row);
        let params: [__m512; 6] = std::array::from_fn(|q| Avx512::load(p.add(q * soa)));
        for c in 0..C {
            let gain = Avx512::mul(scale, Avx512::splat(*at.gains.add(c0 + c)));
            let y = Avx512::mul(sums[r][c], gain);
            let f = Avx512::splat(*at.frac.add(c0 + c));
            let out = at.dst.add((c0 + c) * at.stride + row);
            Avx512::store(out, modulate::<Avx512, ACT>(y, f, params));
        }
    }
}
