//! The training loss (reference-impl §4, thesis eq. 4.7): an amplitude term plus a
//! derivative term on the sampled coordinates.

use candle_core::{Result, Tensor, D};

use super::settings::{DerivativeForm, Reduction, TrainSettings};

/// The loss and its two terms for one batch.
pub struct LossTerms {
    /// `amplitude_weight * amplitude + derivative_weight * derivative`, a scalar tensor.
    pub total: Tensor,
    /// `total`'s value.
    pub value: f64,
    /// The amplitude term's value.
    pub amplitude: f64,
    /// The derivative term's value (0 without one).
    pub derivative: f64,
}

/// The weights, forms and normalisation of the loss.
#[derive(Debug, Clone, Copy)]
pub struct Objective {
    derivative: DerivativeForm,
    reduction: Reduction,
    amplitude_weight: f64,
    derivative_weight: f64,
    /// Model-time distance between consecutive sampled points (2 · stride / 16000).
    grid_dt: f64,
}

impl Objective {
    /// The objective a run's settings describe.
    pub fn new(s: &TrainSettings) -> Self {
        Self {
            derivative: s.derivative,
            reduction: s.reduction,
            amplitude_weight: s.amplitude_weight,
            derivative_weight: s.derivative_weight,
            grid_dt: 2.0 * s.stride() as f64 / sirenade_common::CLIP_LEN as f64,
        }
    }

    /// Whether the network must also produce its time derivative.
    pub fn needs_analytic_derivative(&self) -> bool {
        self.derivative == DerivativeForm::Analytic
    }

    /// The loss for predictions `pred` `[B, n]` against `target` `[B, n]`; `dpred` is the
    /// network's d/dt at the same points (required for the analytic form).
    ///
    /// Derivative term: target slope is the forward difference `x[j+1] − x[j]` on the sampled
    /// grid; the prediction's is the same difference (`fd`) or the exact derivative at t_j
    /// times the grid spacing (`analytic`, so both are in units of amplitude per grid step).
    pub fn loss(
        &self,
        pred: &Tensor,
        dpred: Option<&Tensor>,
        target: &Tensor,
    ) -> Result<LossTerms> {
        let err = (pred - target)?;
        let sq = err.sqr()?;
        let amplitude = match self.reduction {
            Reduction::Reference => sq.sum(D::Minus1)?.mean_all()?,
            Reduction::Mean => sq.mean_all()?,
        };
        let mut total = (&amplitude * self.amplitude_weight)?;
        let mut derivative = amplitude.zeros_like()?;
        if self.derivative != DerivativeForm::None {
            let n = target.dim(D::Minus1)?;
            let target_slope = forward_difference(target)?;
            let pred_slope = match (self.derivative, dpred) {
                (DerivativeForm::Analytic, Some(d)) => {
                    (d.narrow(D::Minus1, 0, n - 1)? * self.grid_dt)?
                }
                (DerivativeForm::Analytic, None) => {
                    return Err(candle_core::Error::Msg(
                        "the analytic derivative loss needs the network's derivative".into(),
                    ))
                }
                _ => forward_difference(pred)?,
            };
            derivative = (pred_slope - target_slope)?.sqr()?.mean_all()?;
            total = (total + (&derivative * self.derivative_weight)?)?;
        }
        // The three values in one transfer: on a GPU each read waits for the device.
        let values = Tensor::stack(&[&total, &amplitude, &derivative], 0)?
            .to_dtype(candle_core::DType::F64)?
            .to_vec1::<f64>()?;
        Ok(LossTerms {
            total,
            value: values[0],
            amplitude: values[1],
            derivative: values[2],
        })
    }
}

/// `x[.., j+1] − x[.., j]` along the last axis.
fn forward_difference(x: &Tensor) -> Result<Tensor> {
    let n = x.dim(D::Minus1)?;
    x.narrow(D::Minus1, 1, n - 1)? - x.narrow(D::Minus1, 0, n - 1)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn t(rows: &[&[f64]]) -> Tensor {
        let n = rows[0].len();
        let flat: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_vec(flat, (rows.len(), n), &Device::Cpu).unwrap()
    }

    #[test]
    fn reference_reduction_matches_hand_values() {
        let pred = t(&[&[1.0, 2.0, 4.0], &[0.0, 0.0, 0.0]]);
        let target = t(&[&[1.0, 1.0, 1.0], &[1.0, 0.0, 1.0]]);
        let s = TrainSettings {
            points: 2000,
            ..TrainSettings::default()
        };
        let terms = Objective::new(&s).loss(&pred, None, &target).unwrap();
        // Amplitude: row sums (0+1+9) and (1+0+1), batch mean 6.
        assert!((terms.amplitude - 6.0).abs() < 1e-12);
        // FD: pred diffs (1,2),(0,0); target (0,0),(-1,1): squared (1,4,1,1), mean 1.75.
        assert!((terms.derivative - 1.75).abs() < 1e-12);
        let total: f64 = terms.total.to_scalar().unwrap();
        assert!((total - 7.75).abs() < 1e-12);
        let mean = TrainSettings {
            reduction: Reduction::Mean,
            derivative: DerivativeForm::None,
            ..s
        };
        let terms = Objective::new(&mean).loss(&pred, None, &target).unwrap();
        assert!((terms.amplitude - 2.0).abs() < 1e-12);
        assert_eq!(terms.derivative, 0.0);
    }

    #[test]
    fn analytic_form_scales_the_derivative_by_the_grid_spacing() {
        // A line x(t) = 3t sampled every grid step: its exact slope times the spacing equals
        // its forward difference, so the analytic term is zero.
        let s = TrainSettings {
            derivative: DerivativeForm::Analytic,
            ..TrainSettings::default()
        };
        let dt = 2.0 * 8.0 / 16_000.0;
        let x: Vec<f64> = (0..5).map(|j| 3.0 * (j as f64 * dt)).collect();
        let target = t(&[&x]);
        let slope = t(&[&[3.0; 5]]);
        let terms = Objective::new(&s)
            .loss(&target, Some(&slope), &target)
            .unwrap();
        assert!(terms.derivative < 1e-20, "{}", terms.derivative);
        assert!(Objective::new(&s).loss(&target, None, &target).is_err());
    }
}
