//! The mapping network psi: latent z to the FiLM parameters or the concat conditioning vector.

use candle_core::{Result, Tensor};
use sirenade_common::model_config::MAPPING_LEAKY_SLOPE;

use super::dual::Dual;
use super::linear::Linear;

/// `[Linear, LeakyReLU(0.2)] x hidden -> Linear`; always trained (unlike the reference code's
/// ablations, whose mapping networks were frozen by an attribute-name bug: docs/reference-code.md,
/// "Frozen mapping networks in the ablations").
pub struct MappingNetwork {
    /// The linear maps, input first; all but the last are followed by LeakyReLU(0.2).
    pub layers: Vec<Linear>,
}

impl MappingNetwork {
    /// Maps z `[B, latent]` to `[B, output_size]`.
    pub fn forward(&self, z: &Tensor) -> Result<Tensor> {
        let last = self.layers.len() - 1;
        let mut h = z.clone();
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&Dual::plain(h))?.value;
            if i < last {
                h = candle_nn::ops::leaky_relu(&h, MAPPING_LEAKY_SLOPE)?;
            }
        }
        Ok(h)
    }
}
