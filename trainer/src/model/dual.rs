//! A value together with its exact derivative with respect to the time coordinate t, carried in
//! forward mode through every layer (the `analytic` derivative loss, thesis eq. 4.7).

use candle_core::{Result, Tensor};

/// Activations `[B, n, width]` and, when the derivative is wanted, their d/dt of the same shape.
#[derive(Debug, Clone)]
pub struct Dual {
    /// The activations.
    pub value: Tensor,
    /// d(value)/dt, or `None` when only values are computed.
    pub tangent: Option<Tensor>,
}

impl Dual {
    /// A value whose derivative is not tracked.
    pub fn plain(value: Tensor) -> Dual {
        Dual {
            value,
            tangent: None,
        }
    }

    /// Multiplies value and tangent by the same factor (broadcast), as a mask or a constant
    /// scale does: d(c x)/dt = c dx/dt when c does not depend on t.
    pub fn scale(&self, factor: &Tensor) -> Result<Dual> {
        Ok(Dual {
            value: self.value.broadcast_mul(factor)?,
            tangent: self
                .tangent
                .as_ref()
                .map(|d| d.broadcast_mul(factor))
                .transpose()?,
        })
    }
}
