//! Whole-signal magnitude spectra and the dominant frequency (thesis figure 5.2 sorts items
//! by it).

use rustfft::{num_complex::Complex, FftPlanner};

/// Magnitudes of the one-sided DFT of `x` (bins 0..=len/2), computed in f32 with `rustfft`.
pub fn magnitude_spectrum(x: &[f32]) -> Vec<f32> {
    if x.is_empty() {
        return Vec::new();
    }
    let mut planner = FftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(x.len());
    let mut buf: Vec<Complex<f32>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
    fft.process(&mut buf);
    buf.truncate(x.len() / 2 + 1);
    buf.iter().map(|c| c.norm()).collect()
}

/// The frequency (Hz) of the largest non-DC bin of the DFT over the whole signal, refined by
/// parabolic interpolation of the log magnitudes around the peak. Returns 0 for silence.
pub fn dominant_frequency(x: &[f32], sample_rate: u32) -> f64 {
    let mag = magnitude_spectrum(x);
    if mag.len() < 3 {
        return 0.0;
    }
    let (k, &peak) = mag
        .iter()
        .enumerate()
        .skip(1)
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("spectrum has at least three bins");
    if peak <= 0.0 {
        return 0.0;
    }
    let mut pos = k as f64;
    if k + 1 < mag.len() {
        let l = (mag[k - 1] as f64).max(1e-30).ln();
        let c = (peak as f64).ln();
        let r = (mag[k + 1] as f64).max(1e-30).ln();
        let denom = l - 2.0 * c + r;
        if denom < 0.0 {
            pos += 0.5 * (l - r) / denom;
        }
    }
    pos * sample_rate as f64 / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectrum_of_a_bin_centred_sine_matches_the_closed_form() {
        // A sine of amplitude A exactly on bin k has |X_k| = A * N / 2 (float64 reference).
        let n = 1600;
        let x: Vec<f32> = (0..n)
            .map(|i| (0.5 * (2.0 * std::f64::consts::PI * 20.0 * i as f64 / n as f64).sin()) as f32)
            .collect();
        let m = magnitude_spectrum(&x);
        assert_eq!(m.len(), n / 2 + 1);
        assert!(
            (m[20] as f64 - 0.5 * n as f64 / 2.0).abs() < 1e-2,
            "{}",
            m[20]
        );
        assert!(m[19] < 1e-2 && m[21] < 1e-2);
    }

    #[test]
    fn dominant_frequency_between_bins() {
        let x: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f64::consts::PI * 261.63 * i as f64 / 16_000.0).sin() as f32)
            .collect();
        let f = dominant_frequency(&x, 16_000);
        assert!((f - 261.63).abs() < 0.5, "{f}");
        assert_eq!(dominant_frequency(&[0.0; 100], 16_000), 0.0);
    }
}
