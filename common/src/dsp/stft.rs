//! Short-time Fourier transform magnitudes with a periodic Hamming window.
//!
//! Frames start at 0 and advance by `hop`; the last frame is the last one that fits (no
//! centring, no padding). Magnitudes are divided by `sqrt(Σ w²)`, so the mean of |X|² over all
//! `win` bins of a frame equals the frame's mean power: a metric on these magnitudes has the
//! same scale at every window size.

use rustfft::{num_complex::Complex, FftPlanner};

/// The periodic Hamming window of length `n` (`0.54 − 0.46 cos(2πk/n)`).
pub fn hamming(n: usize) -> Vec<f32> {
    (0..n)
        .map(|k| (0.54 - 0.46 * (2.0 * std::f64::consts::PI * k as f64 / n as f64).cos()) as f32)
        .collect()
}

/// One-sided STFT magnitudes of `x`: one row of `win / 2 + 1` bins per frame. A signal
/// shorter than one window gives no frames.
pub fn stft_magnitudes(x: &[f32], win: usize, hop: usize) -> Vec<Vec<f32>> {
    assert!(win > 0 && hop > 0, "window and hop must be positive");
    if x.len() < win {
        return Vec::new();
    }
    let window = hamming(win);
    let norm = 1.0 / window.iter().map(|w| w * w).sum::<f32>().sqrt();
    let fft = FftPlanner::<f32>::new().plan_fft_forward(win);
    let mut buf = vec![Complex::new(0.0f32, 0.0); win];
    let mut frames = Vec::with_capacity((x.len() - win) / hop + 1);
    let mut start = 0;
    while start + win <= x.len() {
        for ((b, &s), &w) in buf.iter_mut().zip(&x[start..start + win]).zip(&window) {
            *b = Complex::new(s * w, 0.0);
        }
        fft.process(&mut buf);
        frames.push(buf[..win / 2 + 1].iter().map(|c| c.norm() * norm).collect());
        start += hop;
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_float64_dft() {
        let x: Vec<f32> = (0..1000)
            .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
            .collect();
        let (win, hop) = (64, 48);
        let got = stft_magnitudes(&x, win, hop);
        assert_eq!(got.len(), (1000 - 64) / 48 + 1);
        let w: Vec<f64> = (0..win)
            .map(|k| 0.54 - 0.46 * (2.0 * std::f64::consts::PI * k as f64 / win as f64).cos())
            .collect();
        let norm = w.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (f, frame) in got.iter().enumerate() {
            for (k, &m) in frame.iter().enumerate() {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for n in 0..win {
                    let v = x[f * hop + n] as f64 * w[n];
                    let a = -2.0 * std::f64::consts::PI * (k * n) as f64 / win as f64;
                    re += v * a.cos();
                    im += v * a.sin();
                }
                let want = (re * re + im * im).sqrt() / norm;
                assert!(
                    (m as f64 - want).abs() < 1e-5,
                    "frame {f} bin {k}: {m} vs {want}"
                );
            }
        }
    }

    #[test]
    fn mean_bin_power_is_frame_power() {
        let x: Vec<f32> = (0..4000)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
            .collect();
        let frames = stft_magnitudes(&x, 400, 100);
        // Two-sided mean of |X|² = power of the windowed frame relative to the window's.
        let frame = &frames[3];
        let two_sided: f64 = frame.iter().map(|&m| (m as f64).powi(2)).sum::<f64>() * 2.0
            - (frame[0] as f64).powi(2)
            - (frame[200] as f64).powi(2);
        let w = hamming(400);
        let seg = &x[300..700];
        let windowed: f64 = seg
            .iter()
            .zip(&w)
            .map(|(s, w)| ((s * w) as f64).powi(2))
            .sum();
        let wsum: f64 = w.iter().map(|&v| (v as f64).powi(2)).sum();
        assert!((two_sided / 400.0 - windowed / wsum).abs() < 1e-4);
    }
}
