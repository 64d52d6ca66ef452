//! Which implementation runs the synthesis network's sine layers.

use serde::{Deserialize, Serialize};

/// The implementation of the FiLM-sine layers. All compute the same function; they differ in
/// speed and in the last bits of f32 rounding, so the choice is part of a run's settings.
///
/// A network of sine layers with a linear readout is one network op with a path per device
/// (the fused CPU op of `model::fused`, the composed candle op of `model::composed`); plain
/// candle layers are its slow reference, as candle-nn keeps a `_slow` op beside a fast one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SineLayers {
    /// The network op's path for the device: on the CPU in f32 the fused FiLM-sine op (one
    /// matrix product per layer, the tangent stacked under the values), on CUDA the composed
    /// op; plain candle for what neither covers. Runs written before this name say `fused`.
    #[default]
    #[serde(alias = "fused")]
    #[value(alias = "fused")]
    Fast,
    /// The composed op (the CUDA path) on any device: to test and measure that path on the CPU.
    Composed,
    /// Plain candle ops only: the slow reference the network op is tested against, and the
    /// training benchmark's baseline measured in the same run.
    Plain,
}

impl SineLayers {
    /// The name used on command lines and in run settings.
    pub fn name(self) -> &'static str {
        match self {
            SineLayers::Fast => "fast",
            SineLayers::Composed => "composed",
            SineLayers::Plain => "plain",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SineLayers;
    use clap::ValueEnum;

    /// `name` is what clap parses and what serde writes into a run's settings.
    #[test]
    fn names_agree_with_the_command_line_and_the_settings() {
        for k in SineLayers::value_variants() {
            let clap_name = k.to_possible_value().expect("every variant is a value");
            assert_eq!(clap_name.get_name(), k.name());
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
        assert_eq!(SineLayers::value_variants().len(), 3);
    }

    /// Runs whose settings were written under the old name `fused` still read, on the command
    /// line and from run.json.
    #[test]
    fn the_old_name_reads_as_fast() {
        assert_eq!(
            serde_json::from_str::<SineLayers>("\"fused\"").unwrap(),
            SineLayers::Fast
        );
        assert_eq!(
            SineLayers::from_str("fused", false).unwrap(),
            SineLayers::Fast
        );
    }
}
