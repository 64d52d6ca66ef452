//! A voice's amplitude envelope: linear attack, sustain, exponential release to −80 dB, and a
//! 5 ms linear "kill" fade for stolen voices. Every stage ends at exactly zero, so no decaying
//! state ever reaches the denormal range.

/// Level at which an exponential release is considered silent (−80 dB).
const SILENT: f32 = 1e-4;
/// Length of the fade given to a stolen or cut voice, seconds.
pub const KILL_SECONDS: f32 = 0.005;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Attack { step: f32 },
    Sustain,
    Release { factor: f32 },
    Kill { step: f32 },
    Done,
}

/// The envelope state of one voice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Envelope {
    level: f32,
    stage: Stage,
}

impl Envelope {
    /// A finished (silent) envelope.
    pub const fn done() -> Envelope {
        Envelope {
            level: 0.0,
            stage: Stage::Done,
        }
    }

    /// Starts from silence, rising linearly to 1 over `attack_s` seconds.
    pub fn start(attack_s: f32, sample_rate: f32) -> Envelope {
        let samples = attack_s * sample_rate;
        if samples < 1.0 {
            return Envelope {
                level: 1.0,
                stage: Stage::Sustain,
            };
        }
        Envelope {
            level: 0.0,
            stage: Stage::Attack {
                step: 1.0 / samples,
            },
        }
    }

    /// Starts the release: from the current level down 60 dB in `release_s` seconds
    /// (exponentially), ending at −80 dB. A killed or finished envelope stays as it is.
    pub fn release(&mut self, release_s: f32, sample_rate: f32) {
        if matches!(self.stage, Stage::Kill { .. } | Stage::Done) {
            return;
        }
        let samples = (release_s * sample_rate).max(1.0);
        self.stage = Stage::Release {
            factor: 10f32.powf(-3.0 / samples),
        };
    }

    /// Fades linearly from the current level to zero in [`KILL_SECONDS`].
    pub fn kill(&mut self, sample_rate: f32) {
        if self.stage == Stage::Done {
            return;
        }
        self.stage = Stage::Kill {
            step: 1.0 / (KILL_SECONDS * sample_rate).max(1.0),
        };
    }

    /// Whether the envelope has ended.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Whether the note is still held (attack or sustain).
    pub fn is_held(&self) -> bool {
        matches!(self.stage, Stage::Attack { .. } | Stage::Sustain)
    }

    /// Whether a kill fade is running.
    pub fn is_killed(&self) -> bool {
        matches!(self.stage, Stage::Kill { .. })
    }

    /// The level for the next sample, advancing the envelope.
    pub fn next_level(&mut self) -> f32 {
        match self.stage {
            Stage::Attack { step } => {
                self.level += step;
                if self.level >= 1.0 {
                    self.level = 1.0;
                    self.stage = Stage::Sustain;
                }
            }
            Stage::Sustain => {}
            Stage::Release { factor } => {
                self.level *= factor;
                if self.level < SILENT {
                    self.finish();
                }
            }
            Stage::Kill { step } => {
                self.level -= step;
                if self.level <= 0.0 {
                    self.finish();
                }
            }
            Stage::Done => {}
        }
        self.level
    }

    /// Ends the envelope now.
    pub fn finish(&mut self) {
        self.level = 0.0;
        self.stage = Stage::Done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_reaches_one_in_the_attack_time() {
        let mut env = Envelope::start(0.01, 1000.0);
        let levels: Vec<f32> = (0..12).map(|_| env.next_level()).collect();
        assert!((levels[0] - 0.1).abs() < 1e-6);
        assert_eq!(levels[9], 1.0);
        assert_eq!(levels[11], 1.0);
        assert!(env.is_held());
    }

    #[test]
    fn release_falls_sixty_db_in_the_release_time_then_ends_at_zero() {
        let rate = 48_000.0;
        let mut env = Envelope::start(0.0, rate);
        env.release(0.1, rate);
        let n = (0.1 * rate) as usize;
        let mut level = 1.0;
        for _ in 0..n {
            level = env.next_level();
        }
        // 10^(-3) after exactly the release time, within f32 accumulation (1%).
        assert!((level / 1e-3 - 1.0).abs() < 0.01, "level {level}");
        let mut steps = 0;
        while !env.is_done() {
            let l = env.next_level();
            assert!(
                l == 0.0 || l >= SILENT * 0.99,
                "no level below −80 dB but zero"
            );
            steps += 1;
            assert!(steps < 1_000_000);
        }
        assert_eq!(env.next_level(), 0.0);
    }

    #[test]
    fn kill_fades_linearly_to_zero_in_five_ms() {
        let rate = 1000.0 / KILL_SECONDS; // 5 samples per kill
        let mut env = Envelope::start(0.0, rate);
        env.kill(rate);
        let levels: Vec<f32> = (0..6).map(|_| env.next_level()).collect();
        assert!((levels[0] - (1.0 - 1.0 / 1000.0)).abs() < 1e-6);
        assert!(!env.is_done());
        let mut env = Envelope::start(0.0, 200.0);
        env.kill(200.0);
        assert_eq!(env.next_level(), 0.0);
        assert!(env.is_done());
    }
}
