//! The synthesis network's layers: FiLM-conditioned, concat-conditioned, and the final linear.
//! Each has `forward` as its one verb, acting on a [`Dual`] so that the same code computes values
//! and, when asked, their exact time derivative.

use candle_core::{Result, Tensor};
use sirenade_common::model_config::Activation;

use super::activation;
use super::dual::Dual;
use super::fused;
use super::linear::{matmul_last, Linear};

/// The FiLM parameters of a batch: gamma and beta `[B, 1, M]`. Each layer takes `out` entries
/// from its own offset: 0 for every layer when the pair is shared (the thesis' form), the
/// widths of the layers before it with per-layer FiLM.
pub struct Film {
    gamma: Tensor,
    beta: Tensor,
}

impl Film {
    /// Splits the mapping output `[B, 2M]` into gamma (first half) and beta (second half).
    pub fn split(mapping_output: &Tensor) -> Result<Film> {
        let half = mapping_output.dim(1)? / 2;
        let m = mapping_output.unsqueeze(1)?;
        Ok(Film {
            gamma: m.narrow(2, 0, half)?,
            beta: m.narrow(2, half, half)?,
        })
    }
}

/// A FiLM-conditioned synthesis layer: `act((omega + gamma) * (W x + b) + beta)`.
pub struct FilmLayer {
    /// The affine map.
    pub linear: Linear,
    /// Where this layer's gammas (and betas) start in the mapping output's halves.
    pub film_offset: usize,
    /// Per-unit omega `[out]`, fixed (never trained).
    pub omega: Tensor,
    /// The activation.
    pub activation: Activation,
}

impl FilmLayer {
    /// Applies the layer to `x` `[B, n, in]`; tangent `(omega + gamma) * W dx` through the activation.
    ///
    /// A sine layer without a tangent on f32 CPU tensors runs as one fused op
    /// (`fused::film_sine`); everything else, and the tests' reference, is
    /// [`FilmLayer::forward_plain`]. (The decoder runs all-sine networks as one fused op of its
    /// own, with or without the tangent.)
    pub fn forward(&self, x: &Dual, film: &Film) -> Result<Dual> {
        if self.activation == Activation::Sine && x.tangent.is_none() && fused::supports(&x.value) {
            let (scale, shift) = self.scale_shift(film)?;
            let packed = Tensor::cat(&[&scale, &shift], 1)?;
            let w = self.linear.weight()?;
            return Ok(Dual::plain(fused::film_sine(&x.value, &w, &packed)?));
        }
        self.forward_plain(x, film)
    }

    /// The layer in plain candle ops, for any dtype and device.
    ///
    /// Computed as `(omega + gamma) * (W x) + ((omega + gamma) * b + beta)`: the same function,
    /// with the bias folded into a per-item `[B, 1, out]` shift so that only two element-wise
    /// passes run over the n points.
    pub fn forward_plain(&self, x: &Dual, film: &Film) -> Result<Dual> {
        let (scale, shift) = self.scale_shift(film)?;
        let z = self.linear.product(x)?.scale(&scale)?;
        let a = Dual {
            value: z.value.broadcast_add(&shift)?,
            tangent: z.tangent,
        };
        activation::apply(self.activation, a)
    }

    /// The per-item scale `omega + gamma` and shift `(omega + gamma) * b + beta`, `[B, 1, out]`.
    pub fn scale_shift(&self, film: &Film) -> Result<(Tensor, Tensor)> {
        let out = self.omega.dim(0)?;
        let at = self.film_offset;
        let scale = film.gamma.narrow(2, at, out)?.broadcast_add(&self.omega)?;
        let shift = scale
            .broadcast_mul(self.linear.bias())?
            .add(&film.beta.narrow(2, at, out)?)?;
        Ok((scale, shift))
    }
}

/// What a concat-conditioned layer concatenates to its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConcatRole {
    /// The first layer: input `[t; c]`.
    First,
    /// A conditioned hidden layer: input `[h; c; t]`.
    Skip,
    /// An unconditioned hidden layer: input `h`.
    Plain,
}

/// The per-batch inputs that concat-conditioned layers append.
pub struct ConcatInputs {
    /// The conditioning vector c `[B, 1, C]`.
    pub c: Tensor,
    /// The coordinate t `[B, n, 1]` with its tangent (1).
    pub t: Dual,
}

/// A concat-conditioned synthesis layer: `act(omega * (W [x; c; t] + b))`, no FiLM.
///
/// The product with the concatenation is computed as a sum over column blocks of W
/// (`W_x x + W_c c + W_t t`), which is the same function without repeating c over the n points.
pub struct ConcatLayer {
    /// The affine map over the concatenated input.
    pub linear: Linear,
    /// Per-unit omega `[out]`, fixed.
    pub omega: Tensor,
    /// The activation.
    pub activation: Activation,
    /// What is concatenated.
    pub role: ConcatRole,
}

impl ConcatLayer {
    /// Applies the layer to `x` (t itself for the first layer, else `h` `[B, n, in]`).
    pub fn forward(&self, x: &Dual, inputs: &ConcatInputs) -> Result<Dual> {
        let w = self.linear.weight()?;
        let x_cols = x.value.dim(2)?;
        let mut z = Dual {
            value: matmul_last(&x.value, &w.narrow(1, 0, x_cols)?)?,
            tangent: x
                .tangent
                .as_ref()
                .map(|d| matmul_last(d, &w.narrow(1, 0, x_cols)?))
                .transpose()?,
        };
        // The bias and the c term are constant over the n points: one per-item shift.
        let mut shift = self.linear.bias().clone();
        if self.role != ConcatRole::Plain {
            let c_cols = inputs.c.dim(2)?;
            let from_c = matmul_last(&inputs.c, &w.narrow(1, x_cols, c_cols)?)?;
            shift = from_c.broadcast_add(&shift)?;
            if self.role == ConcatRole::Skip {
                let w_t = w.narrow(1, x_cols + c_cols, 1)?;
                z.value = (z.value + matmul_last(&inputs.t.value, &w_t)?)?;
                if let (Some(dz), Some(dt)) = (&z.tangent, &inputs.t.tangent) {
                    z.tangent = Some((dz + matmul_last(dt, &w_t)?)?);
                }
            }
        }
        z.value = z.value.broadcast_add(&shift)?;
        activation::apply(self.activation, z.scale(&self.omega)?)
    }
}

/// The final linear to one output, omega 1, no conditioning: `act(W h + b)`.
pub struct OutputLayer {
    /// The affine map to one unit.
    pub linear: Linear,
    /// The activation (`none`, or `sine` for the "sine last" ablation).
    pub activation: Activation,
}

impl OutputLayer {
    /// Applies the layer to `h` `[B, n, in]`, giving `[B, n, 1]`.
    pub fn forward(&self, h: &Dual) -> Result<Dual> {
        activation::apply(self.activation, self.linear.forward(h)?)
    }
}
