//! The `Native` render rate's back end: voices are summed at the model's 16 kHz into a ring of
//! stereo frames, and each host sample is read from it at its exact fractional position with a Kaiser-windowed
//! sinc (64 taps, 512 phases, linear between phases).
//!
//! Why not a resampler crate: rubato and friends convert fixed-size chunks pushed through them,
//! so their output timing depends on the chunking. Here every host sample is a pure function of
//! the 16 kHz stream and its own position, so the output is the same for any host block size,
//! which the plugin–offline equivalence relies on, and the latency is fixed and known.

/// Taps on each side of the read position.
pub const HALF_TAPS: usize = 32;
const TAPS: usize = 2 * HALF_TAPS;
/// Fractional positions tabulated between two input samples.
const PHASES: usize = 512;
/// Cut-off, in cycles per input sample (0.5 is the 8 kHz Nyquist of the 16 kHz stream).
const CUTOFF: f64 = 0.5;
/// Kaiser window shape (about 80 dB stop-band attenuation).
const KAISER_BETA: f64 = 8.0;
/// Ring capacity in input samples (a power of two, larger than the taps plus the look-ahead).
pub const RING: usize = 256;

/// Interpolation table and the 16 kHz ring it reads.
pub struct Interpolator {
    /// `(PHASES + 1) × TAPS`: row p holds the kernel for fraction p / PHASES.
    table: Vec<f32>,
    ring: Box<[[f32; 2]; RING]>,
}

impl Interpolator {
    /// Builds the table (allocates).
    pub fn new() -> Interpolator {
        let i0_beta = bessel_i0(KAISER_BETA);
        let mut table = vec![0.0f32; (PHASES + 1) * TAPS];
        for p in 0..=PHASES {
            let frac = p as f64 / PHASES as f64;
            let row = &mut table[p * TAPS..(p + 1) * TAPS];
            let mut sum = 0.0;
            let mut values = [0.0f64; TAPS];
            for (j, v) in values.iter_mut().enumerate() {
                // Tap j reads input i + j − HALF_TAPS + 1 for a read position i + frac.
                let x = (j as f64 - HALF_TAPS as f64 + 1.0) - frac;
                let w = x / HALF_TAPS as f64;
                let window = if w.abs() >= 1.0 {
                    0.0
                } else {
                    bessel_i0(KAISER_BETA * (1.0 - w * w).sqrt()) / i0_beta
                };
                *v = 2.0 * CUTOFF * sinc(2.0 * CUTOFF * x) * window;
                sum += *v;
            }
            // Unit gain at DC for every phase.
            for (r, v) in row.iter_mut().zip(values) {
                *r = (v / sum) as f32;
            }
        }
        Interpolator {
            table,
            ring: Box::new([[0.0; 2]; RING]),
        }
    }

    /// Clears the stream (silence before and after).
    pub fn reset(&mut self) {
        self.ring.fill([0.0; 2]);
    }

    /// Stores input frame `k`, left and right (frames are written in order; older ones are
    /// overwritten).
    #[inline]
    pub fn write(&mut self, k: u64, value: [f32; 2]) {
        self.ring[(k as usize) & (RING - 1)] = value;
    }

    /// The band-limited stream, left and right, at input position `position` (in input
    /// samples; negative positions read the silence before the stream). Inputs up to
    /// `floor(position) + HALF_TAPS` must have been written, and none later than
    /// `RING − HALF_TAPS` beyond it.
    #[inline]
    pub fn read(&self, position: f64) -> [f32; 2] {
        let base = position.floor();
        let frac = position - base;
        let phase = frac * PHASES as f64;
        let p = (phase as usize).min(PHASES - 1);
        let mix = (phase - p as f64) as f32;
        let (lo, hi) = (
            &self.table[p * TAPS..(p + 1) * TAPS],
            &self.table[(p + 1) * TAPS..(p + 2) * TAPS],
        );
        let first = base as i64 - HALF_TAPS as i64 + 1;
        let mut acc = [0.0f32; 2];
        for j in 0..TAPS {
            let k = first + j as i64;
            let [l, r] = if k < 0 {
                [0.0; 2]
            } else {
                self.ring[(k as usize) & (RING - 1)]
            };
            let tap = lo[j] + mix * (hi[j] - lo[j]);
            acc[0] += l * tap;
            acc[1] += r * tap;
        }
        acc
    }
}

impl Default for Interpolator {
    fn default() -> Interpolator {
        Interpolator::new()
    }
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// Modified Bessel function of the first kind, order 0 (power series; converges for the
/// arguments a Kaiser window uses).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..64 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a 16 kHz sine of `freq` (left; its negation right) at 48 kHz positions and
    /// returns the largest error against the exact sine at those positions (after the
    /// start-up transient).
    fn max_error(freq: f64) -> f64 {
        let mut interp = Interpolator::new();
        let ratio = 16_000.0 / 48_000.0;
        let mut written = 0u64;
        let mut worst = 0.0f64;
        for m in 0..3000u64 {
            let position = m as f64 * ratio;
            while written as f64 <= position + HALF_TAPS as f64 {
                let t = written as f64 / 16_000.0;
                let x = (2.0 * std::f64::consts::PI * freq * t).sin() as f32;
                interp.write(written, [x, -x]);
                written += 1;
            }
            if position < 2.0 * HALF_TAPS as f64 {
                continue;
            }
            let want = (2.0 * std::f64::consts::PI * freq * position / 16_000.0).sin();
            let [l, r] = interp.read(position);
            worst = worst
                .max((f64::from(l) - want).abs())
                .max((f64::from(r) + want).abs());
        }
        worst
    }

    #[test]
    fn bessel_i0_matches_published_values() {
        // Abramowitz & Stegun table 9.8: I0(1) = 1.2660658778, I0(5) = 27.239871823.
        assert!((bessel_i0(1.0) - 1.266_065_877_8).abs() < 1e-9);
        assert!((bessel_i0(5.0) - 27.239_871_823).abs() < 1e-7);
    }

    #[test]
    fn passband_sines_come_through_within_minus_60_db() {
        for freq in [100.0, 1000.0, 4000.0, 6000.0] {
            let err = max_error(freq);
            assert!(err < 1e-3, "{freq} Hz: max error {err}");
        }
    }

    #[test]
    fn integer_positions_reproduce_the_stream() {
        let mut interp = Interpolator::new();
        for k in 0..200u64 {
            interp.write(k, [((k * 37) % 11) as f32 - 5.0, (k % 3) as f32]);
        }
        for k in 100..150u64 {
            let want = [((k * 37) % 11) as f32 - 5.0, (k % 3) as f32];
            let got = interp.read(k as f64);
            for side in 0..2 {
                let (g, w) = (got[side], want[side]);
                assert!((g - w).abs() < 2e-3 * 5.0, "{k}, side {side}: {g} vs {w}");
            }
        }
    }
}
