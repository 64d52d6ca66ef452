//! Harmonic levels of a pitched clip and how well a reconstruction keeps them.
//!
//! For an item with a known fundamental f0 (from its MIDI pitch, [`midi_to_hz`]):
//!
//! - The **level** of harmonic k is measured on one Hann-windowed DFT of the whole clip: the
//!   power of the bins within a quarter tone of k·f0 (see [`harmonic_levels`]), in dB.
//!   Harmonics k·f0 below the Nyquist frequency (8 kHz at 16 kHz) are measured.
//! - **Considered** harmonics are those whose level in the original is within
//!   [`HARMONIC_RANGE_DB`] (40 dB) of the original's strongest harmonic.
//! - The **harmonic error** is the mean over the considered harmonics of
//!   |level_pred − level_orig| in dB; the **harmonic reach** is k·f0 of the highest considered
//!   harmonic up to which every considered harmonic is within [`HARMONIC_REACH_DB`] (3 dB) of
//!   the original (see [`harmonic_error`]).

use super::magnitude_spectrum;

/// Harmonics whose original level is more than this many dB below the original's strongest
/// harmonic are not considered.
pub const HARMONIC_RANGE_DB: f64 = 40.0;

/// A considered harmonic counts towards the reach while its level is within this many dB of
/// the original's.
pub const HARMONIC_REACH_DB: f64 = 3.0;

/// The power (the signal's squared units) below which a harmonic's level is taken as this
/// floor before the logarithm: −120 dB, so that silence has a finite level.
pub const HARMONIC_POWER_FLOOR: f64 = 1e-12;

/// The frequency (Hz) of MIDI pitch `pitch` in equal temperament: 440·2^((p − 69)/12).
pub fn midi_to_hz(pitch: u8) -> f64 {
    440.0 * ((f64::from(pitch) - 69.0) / 12.0).exp2()
}

/// The periodic Hann window of length `n` (`0.5 − 0.5 cos(2πk/n)`).
fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|k| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * k as f64 / n as f64).cos()) as f32)
        .collect()
}

/// The level in dB of every harmonic k·f0 (k = 1, 2, …) below the Nyquist frequency
/// `sample_rate / 2` (exclusive), lowest first; empty when f0 itself is not below it.
///
/// With w the periodic Hann window of the clip's length N and X the DFT of w·x (bin spacing
/// Δ = sample_rate/N, 1 Hz for a one-second clip), harmonic k's band is the bins j with
/// j·Δ ∈ [k·f0·2^(−1/24), k·f0·2^(1/24)] (± a quarter tone), plus the bin nearest k·f0 should
/// the band be narrower than a bin, up to the Nyquist bin. Its level is
///
/// L_k = 10·log10(max(P_k, 10⁻¹²)),  P_k = 2·Σ_band |X_j|² / (N·Σₙ w[n]²),
///
/// so that a sine of amplitude A on the harmonic has P_k ≈ A²/2, its power; the floor
/// ([`HARMONIC_POWER_FLOOR`]) puts silence at −120 dB. The FFT is rustfft's in f32
/// ([`magnitude_spectrum`]), the sums are f64.
pub fn harmonic_levels(x: &[f32], f0: f64, sample_rate: u32) -> Vec<f64> {
    assert!(f0 > 0.0 && f0.is_finite(), "f0 must be positive, got {f0}");
    let nyquist = f64::from(sample_rate) / 2.0;
    if x.is_empty() || f0 >= nyquist {
        return Vec::new();
    }
    let n = x.len();
    let window = hann(n);
    let windowed: Vec<f32> = x.iter().zip(&window).map(|(s, w)| s * w).collect();
    let power: Vec<f64> = magnitude_spectrum(&windowed)
        .iter()
        .map(|&m| (m as f64).powi(2))
        .collect();
    let scale = 2.0 / (n as f64 * window.iter().map(|&w| (w as f64).powi(2)).sum::<f64>());
    let bin_hz = f64::from(sample_rate) / n as f64;
    let last = power.len() - 1;
    let quarter_tone = (1.0f64 / 24.0).exp2();
    (1usize..)
        .map(|k| k as f64 * f0)
        .take_while(|&f| f < nyquist)
        .map(|f| {
            let nearest = ((f / bin_hz).round() as usize).min(last);
            let lo = ((f / quarter_tone / bin_hz).ceil() as usize).min(nearest);
            let hi = ((f * quarter_tone / bin_hz).floor() as usize).clamp(nearest, last);
            let p = power[lo..=hi].iter().sum::<f64>() * scale;
            10.0 * p.max(HARMONIC_POWER_FLOOR).log10()
        })
        .collect()
}

/// How well a reconstruction keeps the harmonics of a pitched original.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HarmonicScore {
    /// Mean over the considered harmonics of |L_pred − L_orig| (dB).
    pub error_db: f64,
    /// k·f0 (Hz) of the highest considered harmonic such that every considered harmonic up to
    /// and including it is within [`HARMONIC_REACH_DB`]; 0 when the lowest one is not.
    pub reach_hz: f64,
}

/// The harmonic error and reach of `pred` against `target` for fundamental `f0` (Hz).
///
/// The levels L are [`harmonic_levels`] of both signals. The considered harmonics are those
/// with L_orig,k ≥ max_j L_orig,j − [`HARMONIC_RANGE_DB`]; then
///
/// - error = mean over considered k of |L_pred,k − L_orig,k| (dB);
/// - reach = k·f0 of the last considered harmonic of the longest run, from the lowest
///   considered one upwards, with |L_pred,k − L_orig,k| ≤ [`HARMONIC_REACH_DB`]; 0 when the
///   lowest one already misses.
///
/// A silent original has every level at the floor, so all its harmonics are considered.
/// `None` when no harmonic lies below the Nyquist frequency (f0 ≥ `sample_rate / 2`) or the
/// signals are empty.
pub fn harmonic_error(
    pred: &[f32],
    target: &[f32],
    f0: f64,
    sample_rate: u32,
) -> Option<HarmonicScore> {
    assert_eq!(pred.len(), target.len(), "signals differ in length");
    let orig = harmonic_levels(target, f0, sample_rate);
    if orig.is_empty() {
        return None;
    }
    let strongest = orig.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let recon = harmonic_levels(pred, f0, sample_rate);
    let considered: Vec<(f64, f64)> = orig
        .iter()
        .zip(&recon)
        .enumerate()
        .filter(|(_, (&o, _))| o >= strongest - HARMONIC_RANGE_DB)
        .map(|(i, (&o, &r))| ((i + 1) as f64 * f0, (r - o).abs()))
        .collect();
    let error_db = considered.iter().map(|&(_, e)| e).sum::<f64>() / considered.len() as f64;
    let reach_hz = considered
        .iter()
        .take_while(|&&(_, e)| e <= HARMONIC_REACH_DB)
        .last()
        .map_or(0.0, |&(f, _)| f);
    Some(HarmonicScore { error_db, reach_hz })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: u32 = 16_000;

    /// One second of Σ_k a_k·sin(2π·k·f0·t + k) (the phases keep the peak moderate).
    fn tones(f0: f64, amps: &[f64]) -> Vec<f32> {
        (0..SR as usize)
            .map(|i| {
                let t = i as f64 / f64::from(SR);
                amps.iter()
                    .enumerate()
                    .map(|(k, a)| {
                        let k = (k + 1) as f64;
                        a * (2.0 * std::f64::consts::PI * k * f0 * t + k).sin()
                    })
                    .sum::<f64>() as f32
            })
            .collect()
    }

    /// 6 dB down as an amplitude factor.
    fn minus_6db() -> f64 {
        10f64.powf(-6.0 / 20.0)
    }

    #[test]
    fn midi_pitches_map_to_equal_temperament() {
        assert_eq!(midi_to_hz(69), 440.0);
        assert_eq!(midi_to_hz(81), 880.0);
        assert!((midi_to_hz(60) - 261.625_565_300_6).abs() < 1e-9);
    }

    #[test]
    fn a_sine_on_a_harmonic_has_its_power_as_level() {
        // Amplitude 0.5 → power 0.125 → −9.03 dB; absent harmonics sit at the −120 dB floor.
        // Tolerance 1e-4 dB: a bin-centred sine's Hann main lobe lies inside the band.
        let levels = harmonic_levels(&tones(1000.0, &[0.5]), 1000.0, SR);
        assert_eq!(levels.len(), 7, "1..7 kHz, 8 kHz is Nyquist");
        assert!(
            (levels[0] - 10.0 * 0.125f64.log10()).abs() < 1e-4,
            "{levels:?}"
        );
        assert!(
            levels[1..].iter().all(|&l| (l + 120.0).abs() < 1e-9),
            "{levels:?}"
        );
    }

    #[test]
    fn one_harmonic_6_db_lower_gives_6_over_n_and_stops_the_reach() {
        // f0 = 250 Hz, 8 harmonics from 0 to −34 dB (all within 40 dB of the strongest);
        // harmonics 9..31 are absent from both, at the floor, hence not considered. Bin-centred
        // harmonics put all of their power in their bands: tolerance 1e-3 dB (f32 rounding).
        let amps = [1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02];
        let mut lower = amps;
        lower[4] *= minus_6db();
        let s = harmonic_error(&tones(250.0, &lower), &tones(250.0, &amps), 250.0, SR).unwrap();
        assert!((s.error_db - 6.0 / 8.0).abs() < 1e-3, "{s:?}");
        assert_eq!(s.reach_hz, 4.0 * 250.0, "the 5th harmonic (1250 Hz) misses");
        // The fundamental 6 dB lower: no reach at all.
        let mut first = amps;
        first[0] *= minus_6db();
        let s = harmonic_error(&tones(250.0, &first), &tones(250.0, &amps), 250.0, SR).unwrap();
        assert!((s.error_db - 6.0 / 8.0).abs() < 1e-3, "{s:?}");
        assert_eq!(s.reach_hz, 0.0);
    }

    #[test]
    fn a_copy_scores_zero_and_reaches_the_highest_harmonic_below_8_khz() {
        // A4 = 440 Hz with 1/k amplitudes (down to −25 dB): 18 harmonics, the last at 7920 Hz.
        let amps: Vec<f64> = (1..=18).map(|k| 1.0 / k as f64).collect();
        let x = tones(midi_to_hz(69), &amps);
        let s = harmonic_error(&x, &x, midi_to_hz(69), SR).unwrap();
        assert_eq!(s.error_db, 0.0);
        assert_eq!(s.reach_hz, 18.0 * 440.0);
    }

    #[test]
    fn harmonics_more_than_40_db_down_are_ignored() {
        // The 4th harmonic at −46 dB is missing from the prediction: not considered, so the
        // error is 0 (exactly: the other bands hold the same power) and the reach is the 3rd.
        let pred = tones(500.0, &[1.0, 0.5, 0.25]);
        let orig = tones(500.0, &[1.0, 0.5, 0.25, 0.005]);
        let s = harmonic_error(&pred, &orig, 500.0, SR).unwrap();
        assert!(s.error_db < 1e-3, "{s:?}");
        assert_eq!(s.reach_hz, 1500.0);
        // At −34 dB it is considered: the prediction's floor (−120 dB) against its −37 dB
        // level, averaged over the 4 considered harmonics (tolerance 1e-2 dB).
        let orig = tones(500.0, &[1.0, 0.5, 0.25, 0.02]);
        let s = harmonic_error(&pred, &orig, 500.0, SR).unwrap();
        let want = (120.0 + 10.0 * (0.02f64.powi(2) / 2.0).log10()) / 4.0;
        assert!((s.error_db - want).abs() < 1e-2, "{s:?} vs {want}");
        assert_eq!(s.reach_hz, 1500.0);
    }

    #[test]
    fn a_copy_detuned_by_10_cents_stays_inside_the_quarter_tone_bands() {
        // 10 cents sharp: every harmonic stays within ±50 cents, so little power leaves its
        // band (tolerance 0.5 dB); 60 cents sharp it falls outside and the error is large.
        let amps = [1.0, 0.5, 0.3, 0.2];
        let f0 = midi_to_hz(60);
        let orig = tones(f0, &amps);
        let cents = |c: f64| tones(f0 * (c / 1200.0).exp2(), &amps);
        let s = harmonic_error(&cents(10.0), &orig, f0, SR).unwrap();
        assert!(s.error_db < 0.5, "{s:?}");
        assert_eq!(s.reach_hz, 4.0 * f0);
        let s = harmonic_error(&cents(60.0), &orig, f0, SR).unwrap();
        assert!(s.error_db > 10.0, "{s:?}");
        assert_eq!(s.reach_hz, 0.0);
    }

    #[test]
    fn no_harmonic_below_nyquist_gives_none() {
        let x = tones(100.0, &[1.0]);
        assert_eq!(harmonic_error(&x, &x, 8000.0, SR), None);
        assert_eq!(harmonic_error(&x, &x, midi_to_hz(121), SR), None);
        assert!(harmonic_levels(&x, 8500.0, SR).is_empty());
        assert_eq!(harmonic_error(&[], &[], 100.0, SR), None);
        // Just below Nyquist: one harmonic.
        assert_eq!(harmonic_levels(&x, 7999.0, SR).len(), 1);
    }

    #[test]
    fn silence_against_a_tone_misses_everything() {
        // The prediction sits at the −120 dB floor: error = level + 120 for the one harmonic.
        let orig = tones(1000.0, &[0.5]);
        let silence = vec![0.0f32; orig.len()];
        let s = harmonic_error(&silence, &orig, 1000.0, SR).unwrap();
        assert!(
            (s.error_db - (120.0 + 10.0 * 0.125f64.log10())).abs() < 1e-3,
            "{s:?}"
        );
        assert_eq!(s.reach_hz, 0.0);
    }
}
