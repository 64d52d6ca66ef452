//! What the editor shows of the audio thread: how many voices sound and how much of each
//! block's time `process` takes. The audio thread stores them once per block; the editor reads
//! them whenever it paints. Plain atomics: neither side ever waits for the other.

use std::sync::atomic::{AtomicU32, Ordering};

/// How long the load meter takes to fall back by a factor e after a peak, in seconds: long
/// enough to read a spike, short enough to follow a change of playing.
const LOAD_FALL_S: f64 = 0.3;

/// The audio thread's figures for the editor.
#[derive(Debug, Default)]
pub struct Meters {
    /// Voices sounding at the end of the last block.
    voices: AtomicU32,
    /// Time in `process` over the block's duration (f32 bits), held at its peaks and falling
    /// back over [`LOAD_FALL_S`].
    load: AtomicU32,
}

impl Meters {
    /// Records a block: `voices` sounding at its end, `busy_s` spent rendering it, `block_s`
    /// of audio it holds. Called on the audio thread: two atomic stores and an `exp`.
    pub fn record(&self, voices: usize, busy_s: f64, block_s: f64) {
        self.voices
            .store(u32::try_from(voices).unwrap_or(u32::MAX), Ordering::Relaxed);
        if block_s.is_nan() || block_s <= 0.0 || !busy_s.is_finite() {
            return;
        }
        let now = busy_s / block_s;
        let held = f64::from(self.load()) * (-block_s / LOAD_FALL_S).exp();
        self.load
            .store((now.max(held) as f32).to_bits(), Ordering::Relaxed);
    }

    /// Voices sounding at the end of the last block.
    pub fn voices(&self) -> usize {
        self.voices.load(Ordering::Relaxed) as usize
    }

    /// The audio thread's load: 1 means `process` took as long as the audio it produced.
    pub fn load(&self) -> f32 {
        f32::from_bits(self.load.load(Ordering::Relaxed))
    }

    /// Clears both figures (the plugin is deactivated: nothing sounds, nothing runs).
    pub fn clear(&self) {
        self.voices.store(0, Ordering::Relaxed);
        self.load.store(0f32.to_bits(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peak is held and falls back by e over `LOAD_FALL_S` of blocks; a higher load replaces
    /// it at once; a zero-length block changes nothing but the voice count.
    #[test]
    fn load_holds_peaks_and_falls_back_exponentially() {
        let m = Meters::default();
        m.record(3, 0.5e-3, 1e-3);
        assert_eq!(m.voices(), 3);
        assert!((m.load() - 0.5).abs() < 1e-6);
        // 300 blocks of 1 ms at no load: one time constant.
        for _ in 0..300 {
            m.record(0, 0.0, 1e-3);
        }
        let expected = 0.5 * (-1.0f64).exp();
        assert!(
            (f64::from(m.load()) - expected).abs() < 1e-4,
            "{} vs {expected}",
            m.load()
        );
        m.record(1, 0.9e-3, 1e-3);
        assert!((m.load() - 0.9).abs() < 1e-6);
        m.record(2, 1.0, 0.0);
        assert_eq!(m.voices(), 2);
        assert!((m.load() - 0.9).abs() < 1e-6);
        m.clear();
        assert_eq!((m.voices(), m.load()), (0, 0.0));
    }
}
