//! The search space of `trainer tune`: the first- and hidden-layer omegas and the learning
//! rate, each log-uniform over a range, mapped to the unit cube the surrogate works in.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// The number of searched dimensions (omega_first, omega_hidden, lr).
pub const DIMENSIONS: usize = 3;

/// Significant digits a searched value is rounded to: far finer than the search resolves, and
/// short enough that `tune.json` and `best.toml` hold the value exactly (serde_json reads a
/// number of at most 15 digits exactly; longer ones may come back an ulp off).
pub const SIGNIFICANT_DIGITS: usize = 6;

/// `x` rounded to [`SIGNIFICANT_DIGITS`] significant digits.
fn round_significant(x: f64) -> f64 {
    format!("{:.*e}", SIGNIFICANT_DIGITS - 1, x)
        .parse()
        .unwrap_or(x)
}

/// A closed range `[low, high]` searched on a log scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogRange {
    /// The smallest value.
    pub low: f64,
    /// The largest value.
    pub high: f64,
}

impl LogRange {
    /// Parses `LOW-HIGH` for the flag `--{flag}` (exponents such as `1e-5-1e-3` are read
    /// whole), checking `0 < low < high < ∞` and `high <= max` where a maximum is given.
    pub fn parse(flag: &str, text: &str, max: Option<f64>) -> Result<Self> {
        let bad = |why: &str| -> Result<Self> { bail!("--{flag} {text}: {why}") };
        // Split at the first '-' that is neither a leading sign nor an exponent's sign and
        // leaves a number on both sides.
        let split = text
            .char_indices()
            .filter(|&(i, c)| c == '-' && i > 0)
            .find_map(|(i, _)| {
                let (low, high) = (&text[..i], &text[i + 1..]);
                if low.ends_with(['e', 'E']) {
                    return None;
                }
                Some((
                    low.trim().parse::<f64>().ok()?,
                    high.trim().parse::<f64>().ok()?,
                ))
            });
        let Some((low, high)) = split else {
            return bad("expected LOW-HIGH, two numbers such as 100-20000 or 1e-5-1e-3");
        };
        if !(low.is_finite() && high.is_finite()) {
            return bad("both ends must be finite");
        }
        if low <= 0.0 {
            return bad("both ends must be positive (the range is searched on a log scale)");
        }
        if low >= high {
            return bad("the low end must be below the high end");
        }
        if let Some(max) = max {
            if high > max {
                return bad(&format!("the model takes omegas up to {max}"));
            }
        }
        Ok(Self { low, high })
    }

    /// The value at position `u` in `[0, 1]` of the log range, rounded to
    /// [`SIGNIFICANT_DIGITS`] significant digits (and kept within the range).
    pub fn from_unit(&self, u: f64) -> f64 {
        let (a, b) = (self.low.ln(), self.high.ln());
        let x = (a + u.clamp(0.0, 1.0) * (b - a)).exp();
        round_significant(x).clamp(self.low, self.high)
    }

    /// The position in `[0, 1]` of `x` in the log range.
    pub fn to_unit(&self, x: f64) -> f64 {
        let (a, b) = (self.low.ln(), self.high.ln());
        ((x.ln() - a) / (b - a)).clamp(0.0, 1.0)
    }
}

impl std::fmt::Display for LogRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.low, self.high)
    }
}

/// The three searched ranges.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SearchSpace {
    /// First-layer omega.
    pub omega_first: LogRange,
    /// Hidden-layer omega.
    pub omega_hidden: LogRange,
    /// Learning rate of the synthesis network.
    pub lr: LogRange,
}

impl Default for SearchSpace {
    /// omega_first 100–20000, omega_hidden 10–1000, lr 1e-5–1e-3.
    fn default() -> Self {
        Self {
            omega_first: LogRange {
                low: 100.0,
                high: 20_000.0,
            },
            omega_hidden: LogRange {
                low: 10.0,
                high: 1000.0,
            },
            lr: LogRange {
                low: 1e-5,
                high: 1e-3,
            },
        }
    }
}

/// One point of the search space.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrialConfig {
    /// First-layer omega.
    pub omega_first: f64,
    /// Hidden-layer omega.
    pub omega_hidden: f64,
    /// Learning rate of the synthesis network.
    pub lr: f64,
}

impl SearchSpace {
    /// The ranges in dimension order.
    fn ranges(&self) -> [LogRange; DIMENSIONS] {
        [self.omega_first, self.omega_hidden, self.lr]
    }

    /// The configuration at unit-cube position `u`.
    pub fn from_unit(&self, u: &[f64; DIMENSIONS]) -> TrialConfig {
        let [f, h, l] = self.ranges();
        TrialConfig {
            omega_first: f.from_unit(u[0]),
            omega_hidden: h.from_unit(u[1]),
            lr: l.from_unit(u[2]),
        }
    }

    /// The unit-cube position of a configuration.
    pub fn to_unit(&self, c: &TrialConfig) -> [f64; DIMENSIONS] {
        let [f, h, l] = self.ranges();
        [
            f.to_unit(c.omega_first),
            h.to_unit(c.omega_hidden),
            l.to_unit(c.lr),
        ]
    }

    /// The first range that differs from `other`'s: its flag's name, this range and the other.
    pub fn difference(&self, other: &SearchSpace) -> Option<(&'static str, LogRange, LogRange)> {
        let names = ["omega-first", "omega-hidden", "lr"];
        names
            .into_iter()
            .zip(self.ranges().into_iter().zip(other.ranges()))
            .find(|(_, (a, b))| a != b)
            .map(|(name, (a, b))| (name, a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_with_exponents_and_reject_bad_ends() {
        let r = LogRange::parse("lr", "1e-5-1e-3", None).unwrap();
        assert_eq!((r.low, r.high), (1e-5, 1e-3));
        let r = LogRange::parse("omega-first", "100-20000", Some(1e5)).unwrap();
        assert_eq!((r.low, r.high), (100.0, 20_000.0));
        for (text, why) in [
            ("300-100", "below the high end"),
            ("5-5", "below the high end"),
            ("-5-10", "positive"),
            ("0-10", "positive"),
            ("1-inf", "finite"),
            ("abc", "LOW-HIGH"),
            ("10", "LOW-HIGH"),
            ("10-2e5", "up to 100000"),
        ] {
            let e = LogRange::parse("omega-first", text, Some(1e5)).unwrap_err();
            assert!(e.to_string().contains(why), "{text}: {e}");
            assert!(e.to_string().starts_with(&format!("--omega-first {text}:")));
        }
    }

    #[test]
    fn unit_positions_round_trip_on_a_log_scale() {
        let s = SearchSpace::default();
        let mid = s.from_unit(&[0.5, 0.5, 0.5]);
        // √(100 · 20000) = 1414.2135..., to 6 digits; read back exactly from JSON.
        assert_eq!(mid.omega_first, 1414.21);
        assert_eq!(mid.lr, 1e-4);
        let json = serde_json::to_string(&mid).unwrap();
        assert_eq!(serde_json::from_str::<TrialConfig>(&json).unwrap(), mid);
        let u = s.to_unit(&mid);
        assert!(u.iter().all(|x| (x - 0.5).abs() < 1e-6));
        assert_eq!(s.from_unit(&[0.0, 1.0, 1.0]).omega_first, 100.0);
        assert_eq!(s.from_unit(&[0.0, 1.0, 1.0]).lr, 1e-3);
        let mut other = s;
        other.lr.high = 1e-2;
        let (name, a, b) = s.difference(&other).unwrap();
        assert_eq!(
            format!("--{name} {a} vs {b}"),
            "--lr 0.00001-0.001 vs 0.00001-0.01"
        );
        assert_eq!(s.difference(&s), None);
    }
}
