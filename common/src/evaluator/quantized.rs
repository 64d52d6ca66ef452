//! The matrices of a compact preset as 16-bit integers, for the AVX-512 VNNI kernels
//! ([`super::kernel`]'s `vnni` module).
//!
//! One sample at a time, the f16 matrix–vector kernel reads every weight once per sample and
//! is bound by widening them (`vcvtph2ps` costs two of the FMA ports' µops per 16 weights;
//! BENCHMARKS.md). `vpdpwssd` multiplies 32 pairs of 16-bit integers and adds them to 16 32-bit
//! sums in one µop, so integer panels of the same size run at the speed the L2 cache feeds
//! them, about twice as fast; in blocks, where the f32 kernel is bound by its FMAs, it does
//! twice the multiply-adds per instruction.
//!
//! Each output row `r` gets a scale `s_r`; its weights become `q = round(w / s_r)`. Integer sums
//! are exact, so the only rounding is that of the weights and of the inputs (quantized per
//! coordinate against their largest magnitude, to ±[`INPUT_RANGE`]). The sums are taken over
//! chunks of [`CHUNK_PAIRS`] input pairs and moved to f32 after each chunk; `s_r` is chosen so
//! that no chunk's sum can leave the 32-bit range:
//! `s_r = max(max |w| / 32767, max over chunks of Σ |w| / CHUNK_BUDGET)`.
//! With 16-input chunks that keeps 12–13 significant bits for a row's largest weights (f16 has
//! 11) and 16 for the inputs, so the compact presets' SNR against f32 stays that of the f16
//! kernels (tested in `tests/preset_equivalence.rs`).

use super::weights::SynthLayer;

/// Largest magnitude of a quantized input: the i16 range, symmetric.
pub(crate) const INPUT_RANGE: f32 = 32767.0;

/// Largest magnitude of a quantized weight: the same.
const WEIGHT_RANGE: f32 = 32767.0;

/// Input pairs (`vpdpwssd` lanes take two inputs each) summed in 32-bit integers before the
/// sum moves to f32. 16-pair chunks ran the demo model 7% faster in blocks but cost 1.8 dB of
/// SNR (one bit of the weights' or of the inputs' precision); these keep the f16 kernels' SNR.
pub(crate) const CHUNK_PAIRS: usize = 8;

/// Bound on `Σ |w| / s` over one chunk of a row before rounding: rounding adds at most
/// `2·CHUNK_PAIRS · ½`, and `(CHUNK_BUDGET + CHUNK_PAIRS) · INPUT_RANGE < 2³¹`.
const CHUNK_BUDGET: f32 = 65_520.0;

/// Narrowest widest layer input for which compact presets use the integer kernels. Their fixed
/// costs (quantizing each layer's inputs, moving chunk sums to f32) weigh more on narrow
/// layers: in blocks of 64 (`compact_speed`, the plugin benchmark) a 96-wide network runs
/// slower on them than on the f16/f32 kernels and a 128-wide one faster (figures in
/// docs/evaluator.md, "16-bit integer kernels"). The instrument renders 64-sample segments, so
/// narrower networks keep the f16/f32 kernels for both.
pub(crate) const MIN_WIDTH: usize = 128;

/// Rows per panel: one zmm of 32-bit sums.
pub(crate) const ROWS: usize = 16;

/// Where one layer's quantized panels and scales live.
pub(crate) struct QuantizedLayer {
    /// Input pairs: `k` inputs (the time column included) rounded up to even, halved.
    pub pairs: usize,
    /// Offset of the layer's first panel in [`Quantized::weights`].
    pub weights: usize,
    /// Offset of the layer's first row scale in [`Quantized::scales`].
    pub scales: usize,
}

/// All layers after the first, quantized: panels of [`ROWS`] rows, `[panel][pair][row][2]`
/// (each 32-bit lane holds a row's weights for inputs `2p` and `2p + 1`), rows past a layer's
/// width and the odd input's partner zero.
pub(crate) struct Quantized {
    /// The panels, layer after layer.
    pub weights: Vec<i16>,
    /// `s_r` of every panel row, layer after layer (zero for padding rows).
    pub scales: Vec<f32>,
    /// Per layer, in the order of [`super::packed::Packed::layers`].
    pub layers: Vec<QuantizedLayer>,
}

impl Quantized {
    /// Quantizes `layers` (every layer after the first).
    pub(crate) fn new(layers: &[SynthLayer]) -> Quantized {
        let mut q = Quantized {
            weights: Vec::new(),
            scales: Vec::new(),
            layers: Vec::with_capacity(layers.len()),
        };
        for layer in layers {
            let time = layer.concat.as_ref().and_then(|c| c.time.as_deref());
            let k = layer.in_features + usize::from(time.is_some());
            let pairs = k.div_ceil(2);
            let panels = layer.out_features.div_ceil(ROWS);
            let (w0, s0) = (q.weights.len(), q.scales.len());
            q.weights.resize(w0 + panels * pairs * ROWS * 2, 0);
            q.scales.resize(s0 + panels * ROWS, 0.0);
            let mut row_w = vec![0.0f32; 2 * pairs];
            for (r, w) in layer.weight.chunks_exact(layer.in_features).enumerate() {
                row_w[..w.len()].copy_from_slice(w);
                if let Some(t) = time {
                    row_w[w.len()] = t[r];
                }
                let (scale, ints) = quantize_row(&row_w);
                q.scales[s0 + r] = scale;
                let base = w0 + (r / ROWS) * pairs * ROWS * 2 + (r % ROWS) * 2;
                for (p, pair) in ints.chunks_exact(2).enumerate() {
                    let at = base + p * ROWS * 2;
                    q.weights[at..at + 2].copy_from_slice(pair);
                }
            }
            q.layers.push(QuantizedLayer {
                pairs,
                weights: w0,
                scales: s0,
            });
        }
        q
    }
}

/// `s` and `round(w / s)` for one row (its length even), `s` as the module describes.
pub(crate) fn quantize_row(w: &[f32]) -> (f32, Vec<i16>) {
    let largest = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let heaviest_chunk = w
        .chunks(2 * CHUNK_PAIRS)
        .map(|c| c.iter().map(|v| v.abs()).sum::<f32>())
        .fold(0.0f32, f32::max);
    let scale = (largest / WEIGHT_RANGE).max(heaviest_chunk / CHUNK_BUDGET);
    let ints = w
        .iter()
        .map(|v| {
            if scale > 0.0 {
                (v / scale).round().clamp(-WEIGHT_RANGE, WEIGHT_RANGE) as i16
            } else {
                0
            }
        })
        .collect();
    (scale, ints)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product of a chunk's weights with inputs of the largest magnitude, in i64.
    fn worst_chunk_sum(ints: &[i16]) -> i64 {
        ints.chunks(2 * CHUNK_PAIRS)
            .map(|c| {
                c.iter()
                    .map(|&q| i64::from(q).abs() * INPUT_RANGE as i64)
                    .sum::<i64>()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn no_chunk_can_overflow_and_weights_keep_their_precision() {
        let mut state = 7u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        };
        // Uniform rows, rows of equal magnitudes (the worst case for the chunk bound) and rows
        // with one outlier (the largest weight sets the scale).
        let rows: Vec<Vec<f32>> = vec![
            (0..256).map(|_| uniform() * 0.05).collect(),
            (0..256)
                .map(|i| if i % 2 == 0 { 0.3 } else { -0.3 })
                .collect(),
            (0..366)
                .map(|i| if i == 17 { 2.5 } else { uniform() * 0.01 })
                .collect(),
        ];
        for w in rows {
            let (scale, ints) = quantize_row(&w);
            assert!(
                worst_chunk_sum(&ints) < i64::from(i32::MAX),
                "chunk overflow"
            );
            let largest = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (v, q) in w.iter().zip(&ints) {
                let err = (f64::from(*q) * f64::from(scale) - f64::from(*v)).abs();
                assert!(err <= f64::from(scale) * 0.5 + 1e-12, "{v}: {err}");
            }
            // 16-input chunks leave at least 12 bits for the largest weight.
            assert!(largest / scale >= 2048.0, "{largest} / {scale}");
        }
    }

    #[test]
    fn zero_rows_quantize_to_zero() {
        let (scale, ints) = quantize_row(&[0.0; 8]);
        assert_eq!(scale, 0.0);
        assert!(ints.iter().all(|&q| q == 0));
    }
}
