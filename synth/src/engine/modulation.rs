//! Per-voice offsets of the sound controls: what a CLAP host's polyphonic modulation (Bitwig's
//! per-voice modulators, for instance) adds to `Latent 1`…`Latent 8` and `Morph` for one note.

use super::controls::{LATENT_CONTROLS, LATENT_RANGE};

/// Which control a per-voice modulation offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModTarget {
    /// `Latent k + 1` (k < [`LATENT_CONTROLS`]), offset in standard deviations.
    Latent(usize),
    /// `Morph`, offset as a fraction (0..1 is the control's whole range).
    Morph,
}

/// One voice's offsets, added to the controls at each of its segments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Modulation {
    latents: [f32; LATENT_CONTROLS],
    morph: f32,
}

impl Modulation {
    /// No offsets.
    pub const NONE: Modulation = Modulation {
        latents: [0.0; LATENT_CONTROLS],
        morph: 0.0,
    };

    /// Sets the offset of `target` (non-finite offsets and unknown latents are ignored).
    pub fn set(&mut self, target: ModTarget, offset: f32) {
        if !offset.is_finite() {
            return;
        }
        match target {
            ModTarget::Latent(k) => {
                if let Some(slot) = self.latents.get_mut(k) {
                    *slot = offset;
                }
            }
            ModTarget::Morph => self.morph = offset,
        }
    }

    /// The morph and latent controls this voice plays: the global ones plus its offsets,
    /// clamped to the controls' ranges (as the host clamps a modulated parameter). Without
    /// offsets these are the controls themselves.
    pub fn applied(
        &self,
        morph: f32,
        latents: &[f32; LATENT_CONTROLS],
    ) -> (f32, [f32; LATENT_CONTROLS]) {
        if *self == Modulation::NONE {
            return (morph, *latents);
        }
        let mut out = *latents;
        for (o, &m) in out.iter_mut().zip(&self.latents) {
            *o = (*o + m).clamp(-LATENT_RANGE, LATENT_RANGE);
        }
        ((morph + self.morph).clamp(0.0, 1.0), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_add_to_the_controls_within_their_ranges() {
        let latents = [0.5, -1.0, 2.5, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(Modulation::NONE.applied(0.3, &latents), (0.3, latents));
        let mut m = Modulation::NONE;
        m.set(ModTarget::Latent(0), 1.0);
        m.set(ModTarget::Latent(2), 2.0);
        m.set(ModTarget::Latent(1), f32::NAN);
        m.set(ModTarget::Latent(99), 1.0);
        m.set(ModTarget::Morph, 0.9);
        let (morph, out) = m.applied(0.3, &latents);
        assert_eq!(morph, 1.0, "clamped to the morph range");
        assert_eq!(out[..3], [1.5, -1.0, 3.0], "added, ignored, clamped");
        m.set(ModTarget::Morph, -0.1);
        assert!((m.applied(0.3, &latents).0 - 0.2).abs() < 1e-7);
    }
}
