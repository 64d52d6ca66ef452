//! An affine map `W x + b` whose weight is either a plain variable or weight-normalised
//! (`W = g * v / ||v||_row`, PyTorch `weight_norm` with dim 0; docs/reference-code.md,
//! "The layer").

use candle_core::{Result, Tensor, Var};

use super::dual::Dual;

/// How the weight is parameterised.
enum Weight {
    /// W itself is trained.
    Plain(Var),
    /// Gains `g` `[out, 1]` and directions `v` `[out, in]` are trained.
    Normalised {
        /// Row gains, initialised to the row norms of the initial W.
        g: Var,
        /// Row directions, initialised to the initial W.
        v: Var,
    },
}

/// An affine map from `in` to `out` features over the last axis.
pub struct Linear {
    weight: Weight,
    bias: Var,
}

impl Linear {
    /// Wraps an initial weight `[out, in]` and bias `[out]` as trainable variables; with
    /// `weight_norm` the weight is split into (g, v) without changing W.
    pub fn new(weight: &Tensor, bias: &Tensor, weight_norm: bool) -> Result<Linear> {
        let weight = if weight_norm {
            let g = weight.sqr()?.sum_keepdim(1)?.sqrt()?;
            Weight::Normalised {
                g: Var::from_tensor(&g)?,
                v: Var::from_tensor(weight)?,
            }
        } else {
            Weight::Plain(Var::from_tensor(weight)?)
        };
        Ok(Linear {
            weight,
            bias: Var::from_tensor(bias)?,
        })
    }

    /// The effective weight W `[out, in]` (folded from g and v under weight norm).
    pub fn weight(&self) -> Result<Tensor> {
        match &self.weight {
            Weight::Plain(w) => Ok(w.as_tensor().clone()),
            Weight::Normalised { g, v } => {
                let norm = v.as_tensor().sqr()?.sum_keepdim(1)?.sqrt()?;
                v.as_tensor().broadcast_mul(&g.as_tensor().div(&norm)?)
            }
        }
    }

    /// The bias `[out]`.
    pub fn bias(&self) -> &Tensor {
        self.bias.as_tensor()
    }

    /// The trained variables with their names relative to the layer (`weight`, or `weight_g` and
    /// `weight_v`, then `bias`).
    pub fn vars(&self) -> Vec<(&'static str, Var)> {
        let mut vars = match &self.weight {
            Weight::Plain(w) => vec![("weight", w.clone())],
            Weight::Normalised { g, v } => vec![("weight_g", g.clone()), ("weight_v", v.clone())],
        };
        vars.push(("bias", self.bias.clone()));
        vars
    }

    /// `W x + b` over the last axis of `x` (`[B, n, in]` or `[B, in]`), with tangent `W dx`.
    pub fn forward(&self, x: &Dual) -> Result<Dual> {
        let wx = self.product(x)?;
        Ok(Dual {
            value: wx.value.broadcast_add(self.bias.as_tensor())?,
            tangent: wx.tangent,
        })
    }

    /// `W x` without the bias, with tangent `W dx`: for layers that fold the bias into a
    /// per-item term (FiLM) instead of adding it at every point.
    pub fn product(&self, x: &Dual) -> Result<Dual> {
        let w = self.weight()?;
        Ok(Dual {
            value: matmul_last(&x.value, &w)?,
            tangent: x.tangent.as_ref().map(|d| matmul_last(d, &w)).transpose()?,
        })
    }
}

/// `x W^T` over the last axis of `x`, with the leading axes flattened into one 2-D product.
/// `w` may be a column slice of a larger weight (the concatenation layers' parts): it is made
/// contiguous first, as cuBLAS accepts no other stride for the transposed operand.
pub fn matmul_last(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let w = w.contiguous()?;
    let dims = x.dims();
    let inputs = dims[dims.len() - 1];
    let rows = x.elem_count() / inputs.max(1);
    let mut out_dims = dims.to_vec();
    *out_dims.last_mut().expect("rank >= 1") = w.dim(0)?;
    x.reshape((rows, inputs))?
        .matmul(&w.t()?)?
        .reshape(out_dims)
}
