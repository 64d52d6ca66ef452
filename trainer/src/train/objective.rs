//! The training loss (docs/reference-code.md, "The loss"; thesis eq. 4.7): an amplitude term
//! plus a
//! derivative term on the sampled coordinates, and optionally a multi-resolution STFT term on
//! contiguous windows ([`super::spectral`]).

use candle_core::{DType, Device, Result, Tensor, D};

use super::settings::{DerivativeForm, Reduction, TrainSettings};
use super::spectral::SpectralLoss;
use crate::model::{Decoder, ModelError};

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
    /// The spectral term's value (0 without one).
    pub spectral: f64,
}

/// The weights, forms and normalisation of the loss.
pub struct Objective {
    derivative: DerivativeForm,
    reduction: Reduction,
    amplitude_weight: f64,
    derivative_weight: f64,
    /// Model-time distance between consecutive sampled points (2 · stride / 16000).
    grid_dt: f64,
    /// Strided points per item: the first `points` columns of a step's tensors; the STFT
    /// windows follow them.
    points: usize,
    /// Samples per STFT window.
    window: usize,
    /// The spectral term and its weight, when on.
    spectral: Option<(SpectralLoss, f64)>,
}

impl Objective {
    /// The objective a run's settings describe, its STFT kernels (if any) in `dtype` on
    /// `device`.
    pub fn new(s: &TrainSettings, dtype: DType, device: &Device) -> Result<Self> {
        let grid = s.grid();
        let spectral = if s.stft_weight > 0.0 {
            Some((
                SpectralLoss::new(&s.stft_sizes, s.stft_window, dtype, device)?,
                s.stft_weight,
            ))
        } else {
            None
        };
        Ok(Self {
            derivative: s.derivative,
            reduction: s.reduction,
            amplitude_weight: s.amplitude_weight,
            derivative_weight: s.derivative_weight,
            grid_dt: grid.spacing(sirenade_common::CLIP_LEN),
            points: grid.points,
            window: grid.window,
            spectral,
        })
    }

    /// Whether the network must also produce its time derivative.
    pub fn needs_analytic_derivative(&self) -> bool {
        self.derivative == DerivativeForm::Analytic
    }

    /// The decoder's output for latents `z` at coordinates `t`, with its exact time derivative
    /// when this objective uses it: the one forward pass training and inversion share.
    pub fn predict(
        &self,
        decoder: &Decoder,
        z: &Tensor,
        t: &Tensor,
    ) -> std::result::Result<(Tensor, Option<Tensor>), ModelError> {
        Ok(if self.needs_analytic_derivative() {
            let (y, dy) = decoder.forward_with_derivative(z, t)?;
            (y, Some(dy))
        } else {
            (decoder.forward(z, t)?, None)
        })
    }

    /// The loss for predictions `pred` `[B, n]` against `target` `[B, n]`; `dpred` is the
    /// network's d/dt at the same points (required for the analytic form). With the STFT term
    /// on, each row is the item's strided points followed by its windows; otherwise every
    /// column is a strided point.
    ///
    /// Derivative term: target slope is the forward difference `x[j+1] − x[j]` on the sampled
    /// grid; the prediction's is the same difference (`fd`) or the exact derivative at t_j
    /// times the grid spacing (`analytic`, so both are in units of amplitude per grid step).
    /// The STFT term reads each window as a signal ([`SpectralLoss`]).
    pub fn loss(
        &self,
        pred: &Tensor,
        dpred: Option<&Tensor>,
        target: &Tensor,
    ) -> Result<LossTerms> {
        let (pred_all, target_all) = (pred, target);
        let (pred, target, dpred) = if self.spectral.is_some() {
            let strided = |x: &Tensor| x.narrow(D::Minus1, 0, self.points);
            (
                &strided(pred)?,
                &strided(target)?,
                dpred.map(strided).transpose()?,
            )
        } else {
            (pred, target, dpred.cloned())
        };
        let err = (pred - target)?;
        let sq = err.sqr()?;
        let amplitude = match self.reduction {
            Reduction::Reference => sq.sum(D::Minus1)?.mean_all()?,
            Reduction::Mean => sq.mean_all()?,
        };
        let mut total = (&amplitude * self.amplitude_weight)?;
        let mut derivative = amplitude.zeros_like()?;
        let mut spectral = amplitude.zeros_like()?;
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
        if let Some((loss, weight)) = &self.spectral {
            let windows = |x: &Tensor| {
                let rest = x.dim(D::Minus1)? - self.points;
                x.narrow(D::Minus1, self.points, rest)?
                    .reshape(((), self.window))
            };
            spectral = loss.forward(&windows(pred_all)?, &windows(target_all)?)?;
            total = (total + (&spectral * *weight)?)?;
        }
        // The values in one transfer: on a GPU each read waits for the device.
        let values = Tensor::stack(&[&total, &amplitude, &derivative, &spectral], 0)?
            .to_dtype(DType::F64)?
            .to_vec1::<f64>()?;
        Ok(LossTerms {
            total,
            value: values[0],
            amplitude: values[1],
            derivative: values[2],
            spectral: values[3],
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

    fn objective(s: &TrainSettings) -> Objective {
        Objective::new(s, DType::F64, &Device::Cpu).unwrap()
    }

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
        let terms = objective(&s).loss(&pred, None, &target).unwrap();
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
        let terms = objective(&mean).loss(&pred, None, &target).unwrap();
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
        let terms = objective(&s).loss(&target, Some(&slope), &target).unwrap();
        assert!(terms.derivative < 1e-20, "{}", terms.derivative);
        assert!(objective(&s).loss(&target, None, &target).is_err());
    }

    #[test]
    fn the_spectral_term_reads_the_windows_after_the_strided_points() {
        // Two strided points, then two windows of 4.
        let s = TrainSettings {
            points: 2,
            stft_weight: 2.0,
            stft_sizes: vec![4],
            stft_window: 4,
            stft_windows: 2,
            ..TrainSettings::default()
        };
        let pred = t(&[&[1.0, 3.0, 0.0, 1.0, 0.0, -1.0, 5.0, 5.0, 5.0, 5.0]]);
        let mut target = pred.to_vec2::<f64>().unwrap();
        target[0][..2].copy_from_slice(&[0.0, 0.0]);
        let target = t(&[&target[0]]);
        let terms = objective(&s).loss(&pred, None, &target).unwrap();
        // Amplitude and derivative from the two strided points only; the windows agree.
        assert!(
            (terms.amplitude - 10.0).abs() < 1e-12,
            "{}",
            terms.amplitude
        );
        assert!(
            (terms.derivative - 4.0).abs() < 1e-12,
            "{}",
            terms.derivative
        );
        assert!(terms.spectral.abs() < 1e-12);
        let silent = t(&[&[1.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]);
        let terms = objective(&s).loss(&pred, None, &silent).unwrap();
        assert!(terms.amplitude < 1e-12 && terms.spectral > 1.0);
        let want = terms.amplitude + terms.derivative + 2.0 * terms.spectral;
        assert!((terms.value - want).abs() < 1e-9 * want);
    }
}
