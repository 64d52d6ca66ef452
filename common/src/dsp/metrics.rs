//! The thesis' evaluation metrics (section 5.8), with every choice it leaves open fixed here:
//!
//! - **MSE**: mean over samples of (x̂ − x)²; tables report it ×10³.
//! - **Multi-resolution STFT MSE**: for each Hamming window of 400, 800, 1600 and 3200
//!   samples (hop a quarter window, FFT size = window, no centring), the mean over frames and
//!   one-sided bins of (|X̂| − |X|)², magnitudes scaled by 1/sqrt(Σw²) (see [`super::stft`])
//!   so that predicting silence scores about the signal's mean power, like the MSE; the four
//!   are averaged.
//! - **LSD**: P(ω) = mean over frames of |STFT|² (Hamming 1024, hop 256); then the mean over
//!   one-sided bins of (log10(P + ε) − log10(P̂ + ε))² with ε = 10⁻¹⁰; no square root, as the
//!   thesis writes it. Tables report it ×10.

use super::stft::stft_magnitudes;

/// The window sizes of the multi-resolution STFT MSE (thesis section 5.8).
pub const STFT_WINDOWS: [usize; 4] = [400, 800, 1600, 3200];

/// The window of the log-spectral distance.
pub const LSD_WINDOW: usize = 1024;

/// The floor added to powers before the logarithm of the log-spectral distance.
pub const LSD_EPSILON: f64 = 1e-10;

/// Mean squared error over samples (accumulated in f64).
pub fn mse(pred: &[f32], target: &[f32]) -> f64 {
    assert_eq!(pred.len(), target.len(), "signals differ in length");
    if pred.is_empty() {
        return 0.0;
    }
    pred.iter()
        .zip(target)
        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
        .sum::<f64>()
        / pred.len() as f64
}

/// Multi-resolution STFT magnitude MSE over [`STFT_WINDOWS`] (windows longer than the signal
/// are left out; 0 when none fits).
pub fn multi_stft_mse(pred: &[f32], target: &[f32]) -> f64 {
    assert_eq!(pred.len(), target.len(), "signals differ in length");
    let mut total = 0.0;
    let mut used = 0usize;
    for &win in STFT_WINDOWS.iter().filter(|&&w| w <= pred.len()) {
        let a = stft_magnitudes(pred, win, win / 4);
        let b = stft_magnitudes(target, win, win / 4);
        let mut sum = 0.0f64;
        let mut n = 0usize;
        for (fa, fb) in a.iter().zip(&b) {
            for (&x, &y) in fa.iter().zip(fb) {
                sum += (x as f64 - y as f64).powi(2);
                n += 1;
            }
        }
        total += sum / n as f64;
        used += 1;
    }
    if used == 0 {
        0.0
    } else {
        total / used as f64
    }
}

fn mean_power_spectrum(x: &[f32]) -> Vec<f64> {
    let frames = stft_magnitudes(x, LSD_WINDOW, LSD_WINDOW / 4);
    let mut p = vec![0.0f64; LSD_WINDOW / 2 + 1];
    for f in &frames {
        for (acc, &m) in p.iter_mut().zip(f) {
            *acc += (m as f64).powi(2);
        }
    }
    let n = frames.len().max(1) as f64;
    p.iter_mut().for_each(|v| *v /= n);
    p
}

/// Log-spectral distance between the frame-averaged power spectra (see the module doc).
pub fn lsd(pred: &[f32], target: &[f32]) -> f64 {
    assert_eq!(pred.len(), target.len(), "signals differ in length");
    let a = mean_power_spectrum(pred);
    let b = mean_power_spectrum(target);
    a.iter()
        .zip(&b)
        .map(|(&p, &q)| ((p + LSD_EPSILON).log10() - (q + LSD_EPSILON).log10()).powi(2))
        .sum::<f64>()
        / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, phase: f64, amp: f64) -> Vec<f32> {
        (0..16_000)
            .map(|i| {
                (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / 16e3 + phase).sin()) as f32
            })
            .collect()
    }

    fn noise(seed: u64) -> Vec<f32> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..16_000)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect()
    }

    #[test]
    fn mse_of_silence_is_mean_power() {
        let x = sine(440.0, 0.0, 0.5);
        let silence = vec![0.0f32; x.len()];
        // A full number of periods: mean power A²/2 = 0.125 exactly.
        assert!((mse(&silence, &x) - 0.125).abs() < 1e-6);
    }

    #[test]
    fn shifted_sine_mse_is_a_squared_times_one_minus_cos() {
        let a = sine(500.0, 0.0, 0.4);
        for phi in [0.3f64, std::f64::consts::FRAC_PI_2, std::f64::consts::PI] {
            let b = sine(500.0, phi, 0.4);
            let want = 0.16 * (1.0 - phi.cos());
            assert!((mse(&b, &a) - want).abs() < 1e-5, "phi {phi}");
            // Magnitudes ignore the phase (up to the windows' edge effects).
            assert!(multi_stft_mse(&b, &a) < 1e-3 * want.max(1e-3), "phi {phi}");
            assert!(lsd(&b, &a) < 1e-3, "phi {phi}");
        }
        assert_eq!(mse(&a, &a), 0.0);
        assert_eq!(multi_stft_mse(&a, &a), 0.0);
        assert_eq!(lsd(&a, &a), 0.0);
    }

    #[test]
    fn stft_mse_of_silence_is_about_the_mean_power() {
        // With power-normalised magnitudes, predicting silence scores about the signal's mean
        // power (the one-sided mean of |X|² equals the two-sided one), as the MSE does.
        let x = noise(1);
        let silence = vec![0.0f32; x.len()];
        let power = mse(&silence, &x);
        let s = multi_stft_mse(&silence, &x);
        assert!((s / power - 1.0).abs() < 0.05, "ratio {}", s / power);
    }

    #[test]
    fn lsd_of_a_scaled_signal_is_the_squared_log_gain() {
        // Doubling the amplitude quadruples every bin's power: LSD = log10(4)² exactly.
        let x = noise(2);
        let y: Vec<f32> = x.iter().map(|v| 2.0 * v).collect();
        let want = 4f64.log10().powi(2);
        assert!((lsd(&y, &x) - want).abs() < 1e-6, "{}", lsd(&y, &x));
        // Silence against signal is finite and large.
        let silence = vec![0.0f32; x.len()];
        let l = lsd(&silence, &x);
        assert!(l.is_finite() && l > 10.0, "{l}");
    }
}
