//! Which implementation runs the synthesis network's sine layers.

use serde::{Deserialize, Serialize};

/// The implementation of the FiLM-sine layers. All compute the same function; they differ in
/// speed and in the last bits of f32 rounding, so the choice is part of a run's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kernels {
    /// The fastest this project has for the device: on the CPU in f32 the fused FiLM-sine ops
    /// (one op and one matrix product per layer, the tangent stacked under the values); on
    /// other devices (CUDA) all-sine FiLM networks as the composed network op; plain candle
    /// for what neither covers.
    #[default]
    Fused,
    /// Plain candle ops only: the reference the fused layers are tested against, and the
    /// training benchmark's baseline measured in the same run.
    Plain,
    /// All-sine FiLM networks as one op written in candle tensor ops with a hand-derived
    /// backward (what `Fused` runs on CUDA), on the CPU or CUDA: to test and measure that path
    /// on the CPU.
    Composed,
}

impl Kernels {
    /// The name used on command lines and in run settings.
    pub fn name(self) -> &'static str {
        match self {
            Kernels::Fused => "fused",
            Kernels::Plain => "plain",
            Kernels::Composed => "composed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Kernels;
    use clap::ValueEnum;

    /// `name` is what clap parses and what serde writes into a run's settings.
    #[test]
    fn names_agree_with_the_command_line_and_the_settings() {
        for k in Kernels::value_variants() {
            let clap_name = k.to_possible_value().expect("every variant is a value");
            assert_eq!(clap_name.get_name(), k.name());
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
        assert_eq!(Kernels::value_variants().len(), 3);
    }
}
