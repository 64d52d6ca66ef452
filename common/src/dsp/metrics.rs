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
//!
//! Two fidelity measures beyond the thesis, for the instrument's own targets:
//!
//! - **SNR**: 10·log10(Σx² / Σ(x̂ − x)²) in dB, clamped to ±[`SNR_CAP_DB`] (see [`snr_db`]).
//! - **Spectral convergence** (Parallel WaveGAN, arXiv 1910.11480): ‖|X̂| − |X|‖_F / ‖|X|‖_F
//!   of the STFT magnitudes at each of [`STFT_WINDOWS`] (as above), averaged over the windows
//!   (see [`spectral_convergence`]).
//!
//! The harmonic error of pitched items is in [`super::harmonics`].

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

/// The bound of [`snr_db`]: ±200 dB, far beyond what f32 signals can resolve (their rounding
/// alone limits an SNR to about 150 dB), so a capped value means "equal up to rounding" (or
/// "nothing but error").
pub const SNR_CAP_DB: f64 = 200.0;

/// Signal-to-noise ratio of a reconstruction, in dB:
///
/// SNR = 10·log10(Σₙ x[n]² / Σₙ (x̂[n] − x[n])²), with x = `target`, x̂ = `pred`, sums in f64,
///
/// clamped to [−[`SNR_CAP_DB`], +[`SNR_CAP_DB`]] so that it is always finite (JSON has no
/// infinity). A perfect reconstruction (zero error) scores +200 dB, a silent target too when
/// the prediction is silent; a silent target with any non-silent prediction scores −200 dB.
/// Empty signals count as perfect.
pub fn snr_db(pred: &[f32], target: &[f32]) -> f64 {
    assert_eq!(pred.len(), target.len(), "signals differ in length");
    let (signal, error) = pred
        .iter()
        .zip(target)
        .fold((0.0f64, 0.0f64), |(s, e), (&p, &t)| {
            let (p, t) = (p as f64, t as f64);
            (s + t * t, e + (p - t).powi(2))
        });
    if error == 0.0 {
        return SNR_CAP_DB;
    }
    (10.0 * (signal / error).log10()).clamp(-SNR_CAP_DB, SNR_CAP_DB)
}

/// The bound of [`spectral_convergence`] at one window: 10¹⁰, the amplitude ratio of
/// [`SNR_CAP_DB`]; only reached when the target is silent and the prediction is not.
pub const SPECTRAL_CONVERGENCE_CAP: f64 = 1e10;

/// Spectral convergence (Parallel WaveGAN, arXiv 1910.11480), averaged over [`STFT_WINDOWS`]:
///
/// SC_w = ‖|X̂_w| − |X_w|‖_F / ‖|X_w|‖_F, SC = mean over windows w of SC_w,
///
/// where |X_w| are the [`stft_magnitudes`] of `target` (Hamming window w, hop w/4, the same
/// frames as [`multi_stft_mse`]) and |X̂_w| those of `pred`, and ‖·‖_F the Frobenius norm over
/// all frames and one-sided bins (sums in f64). The magnitudes' common scale cancels. Predicting
/// silence scores 1, a prediction scaled by a (any phase) scores |1 − a|. At a window where the
/// target is silent, SC_w is 0 for a silent prediction and [`SPECTRAL_CONVERGENCE_CAP`]
/// otherwise (every SC_w is clamped to it). Windows longer than the signal are left out; 0 when
/// none fits.
pub fn spectral_convergence(pred: &[f32], target: &[f32]) -> f64 {
    assert_eq!(pred.len(), target.len(), "signals differ in length");
    let mut total = 0.0;
    let mut used = 0usize;
    for &win in STFT_WINDOWS.iter().filter(|&&w| w <= pred.len()) {
        let a = stft_magnitudes(pred, win, win / 4);
        let b = stft_magnitudes(target, win, win / 4);
        let (mut diff, mut norm) = (0.0f64, 0.0f64);
        for (fa, fb) in a.iter().zip(&b) {
            for (&x, &y) in fa.iter().zip(fb) {
                diff += (x as f64 - y as f64).powi(2);
                norm += (y as f64).powi(2);
            }
        }
        total += if diff == 0.0 {
            0.0
        } else {
            (diff.sqrt() / norm.sqrt()).min(SPECTRAL_CONVERGENCE_CAP)
        };
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

    #[test]
    fn snr_of_hand_computed_cases() {
        // Tolerances: the sums are f64 over f32 samples; 1e-9 dB where the ratio is exact
        // (scaling by 0.5 is exact in f32), 1e-4 dB where it rests on sines' sums of squares.
        let x = noise(3);
        // x̂ = 0.5·x: the error is −0.5·x, power ratio 4, 10·log10(4) = 6.0206 dB.
        let half: Vec<f32> = x.iter().map(|v| 0.5 * v).collect();
        assert!((snr_db(&half, &x) - 10.0 * 4f64.log10()).abs() < 1e-9);
        assert!((snr_db(&half, &x) - 6.0206).abs() < 1e-4);
        // A tone of amplitude 1 plus an orthogonal one of 0.1: power ratio 100, 20 dB.
        let tone = sine(500.0, 0.0, 1.0);
        let hum = sine(1500.0, 0.0, 0.1);
        let noisy: Vec<f32> = tone.iter().zip(&hum).map(|(a, b)| a + b).collect();
        assert!(
            (snr_db(&noisy, &tone) - 20.0).abs() < 1e-4,
            "{}",
            snr_db(&noisy, &tone)
        );
        // Predicting silence: the error is the signal, 0 dB.
        let silence = vec![0.0f32; x.len()];
        assert!(snr_db(&silence, &x).abs() < 1e-12);
        // The caps: a perfect copy, a silent target predicted silent or not.
        assert_eq!(snr_db(&x, &x), SNR_CAP_DB);
        assert_eq!(snr_db(&silence, &silence), SNR_CAP_DB);
        assert_eq!(snr_db(&x, &silence), -SNR_CAP_DB);
        assert_eq!(snr_db(&[], &[]), SNR_CAP_DB);
    }

    #[test]
    fn spectral_convergence_of_hand_computed_cases() {
        // Scaling by a power of two is exact in f32 and in the FFT, so 0.5 comes out exactly
        // (tolerance 1e-12); other gains within f32 rounding of the magnitudes (1e-6).
        let x = noise(4);
        let scaled = |a: f32| -> Vec<f32> { x.iter().map(|v| a * v).collect() };
        assert!((spectral_convergence(&scaled(0.5), &x) - 0.5).abs() < 1e-12);
        assert!((spectral_convergence(&scaled(1.5), &x) - 0.5).abs() < 1e-6);
        // Magnitudes only: an inverted signal converges perfectly.
        assert!(spectral_convergence(&scaled(-1.0), &x).abs() < 1e-12);
        assert_eq!(spectral_convergence(&x, &x), 0.0);
        // Silence scores 1 at every window.
        let silence = vec![0.0f32; x.len()];
        assert!((spectral_convergence(&silence, &x) - 1.0).abs() < 1e-12);
        // A silent target: 0 for silence, the cap for anything else.
        assert_eq!(spectral_convergence(&silence, &silence), 0.0);
        assert_eq!(spectral_convergence(&x, &silence), SPECTRAL_CONVERGENCE_CAP);
        // Too short for any window.
        assert_eq!(spectral_convergence(&x[..100], &silence[..100]), 0.0);
    }
}
