//! Per-voice conditioning: the latent's FiLM (or concat) values resolved into per-unit
//! modulation parameters, and their linear ramp across the block after a latent change.

use super::error::EvaluatorError;
use super::kernel::{self, Isa};
use super::mapping::MappingScratch;
use super::packed::{Packed, PARAMS_PER_ROW};
use super::weights::{Conditioning, NetworkWeights};

/// One unit's modulation: `scale · (W h + bias) + shift`.
#[derive(Clone, Copy, Default)]
struct UnitFilm {
    scale: f64,
    bias: f64,
    shift: f64,
}

/// The conditioning state of one voice, all buffers allocated at construction.
pub(crate) struct LatentState {
    mapping: MappingScratch,
    cond: Vec<f32>,
    current: Vec<UnitFilm>,
    target: Vec<UnitFilm>,
    ramping: bool,
    /// First-layer parameters for the kernels, f64, parameter-major (`[6][units]`).
    pub first: Vec<f64>,
    /// Later layers' parameters for the wide kernel, row-major as the packed network says.
    pub params: Vec<f32>,
    /// Later layers' parameters for the narrow kernel, parameter-major per layer.
    pub params_soa: Vec<f32>,
}

impl LatentState {
    /// The state for validated `weights` packed as `packed`, conditioned on the zero latent.
    pub(crate) fn new(weights: &NetworkWeights, packed: &Packed) -> LatentState {
        let units = weights.layers.iter().map(|l| l.out_features).sum();
        let mut state = LatentState {
            mapping: MappingScratch::new(&weights.mapping),
            cond: vec![0.0; weights.cond_dim()],
            current: vec![UnitFilm::default(); units],
            target: vec![UnitFilm::default(); units],
            ramping: false,
            first: vec![0.0; PARAMS_PER_ROW * weights.layers[0].out_features],
            params: vec![0.0; packed.param_len],
            params_soa: vec![0.0; packed.soa_len],
        };
        let zero = vec![0.0; weights.latent_dim];
        state.load_target(weights, packed, &zero);
        state.settle(packed);
        state
    }

    /// Conditions the voice on `latent` at once (note-on).
    pub(crate) fn prepare(
        &mut self,
        weights: &NetworkWeights,
        packed: &Packed,
        latent: &[f32],
    ) -> Result<(), EvaluatorError> {
        check_latent(weights, latent)?;
        self.load_target(weights, packed, latent);
        self.settle(packed);
        Ok(())
    }

    /// Makes the next render move from the current conditioning to `latent`'s linearly.
    pub(crate) fn set_latent(
        &mut self,
        weights: &NetworkWeights,
        packed: &Packed,
        latent: &[f32],
    ) -> Result<(), EvaluatorError> {
        check_latent(weights, latent)?;
        self.load_target(weights, packed, latent);
        self.write_params(packed);
        self.ramping = true;
        Ok(())
    }

    /// Ends a ramp after the block that carried it.
    pub(crate) fn finish_block(&mut self, packed: &Packed) {
        if self.ramping {
            self.settle(packed);
        }
    }

    fn settle(&mut self, packed: &Packed) {
        self.current.copy_from_slice(&self.target);
        self.ramping = false;
        self.write_params(packed);
    }

    /// The kernel parameters of a block that moves linearly from `current` to `target`, in the
    /// layouts of both kernels.
    fn write_params(&mut self, packed: &Packed) {
        let mut units = self
            .current
            .iter()
            .zip(&self.target)
            .map(|(a, b)| ramp(a, b));
        let n_first = packed.first_weight.len();
        for (o, p) in units.by_ref().take(n_first).enumerate() {
            for (q, v) in p.into_iter().enumerate() {
                self.first[q * n_first + o] = v;
            }
        }
        for layer in &packed.layers {
            let stride = layer.vectors * packed.isa.lanes();
            for (row, p) in units.by_ref().take(layer.out).enumerate() {
                let p = p.map(|v| v as f32);
                for (q, &v) in p.iter().enumerate() {
                    self.params_soa[layer.soa + q * stride + row] = v;
                }
                // The row-major layout exists only where the f32 block kernel runs.
                if packed.param_len > 0 {
                    let at = layer.param + row * PARAMS_PER_ROW;
                    self.params[at..at + PARAMS_PER_ROW].copy_from_slice(&p);
                }
            }
        }
    }

    fn load_target(&mut self, weights: &NetworkWeights, packed: &Packed, latent: &[f32]) {
        let isa = packed.isa;
        // SAFETY: the packed network's ISA was checked available when it was packed.
        unsafe {
            self.mapping
                .run(isa, &weights.mapping, latent, &mut self.cond);
            resolve(isa, weights, &self.cond, &mut self.target);
        }
    }
}

fn check_latent(weights: &NetworkWeights, latent: &[f32]) -> Result<(), EvaluatorError> {
    if latent.len() != weights.latent_dim {
        return Err(EvaluatorError::LatentLength {
            found: latent.len(),
            expected: weights.latent_dim,
        });
    }
    match latent.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(EvaluatorError::LatentNotFinite(i)),
        None => Ok(()),
    }
}

/// Each unit's modulation for the conditioning vector `cond` (the mapping output).
///
/// # Safety
/// `isa` must be available.
unsafe fn resolve(isa: Isa, weights: &NetworkWeights, cond: &[f32], into: &mut [UnitFilm]) {
    let half = match weights.conditioning {
        Conditioning::Film | Conditioning::FilmPerLayer => cond.len() / 2,
        Conditioning::Concat => 0,
    };
    let (gamma, beta) = cond.split_at(half);
    let mut units = into.iter_mut();
    let mut film_offset = 0;
    for layer in &weights.layers {
        let (gamma, beta) = (
            &gamma[film_offset.min(half)..],
            &beta[film_offset.min(half)..],
        );
        if layer.film && weights.conditioning == Conditioning::FilmPerLayer {
            film_offset += layer.out_features;
        }
        let concat_rows = layer
            .concat
            .as_ref()
            .map(|c| c.weight.chunks_exact(cond.len()));
        let mut concat_rows = concat_rows.into_iter().flatten();
        for (o, unit) in units.by_ref().take(layer.out_features).enumerate() {
            let omega = f64::from(layer.omega[o]);
            let bias = f64::from(layer.bias[o]);
            *unit = if layer.film {
                UnitFilm {
                    scale: omega + f64::from(gamma[o]),
                    bias,
                    shift: f64::from(beta[o]),
                }
            } else {
                let extra = concat_rows
                    .next()
                    .map_or(0.0, |row| kernel::dot(isa, row, cond));
                UnitFilm {
                    scale: omega,
                    bias: bias + f64::from(extra),
                    shift: 0.0,
                }
            };
        }
    }
}

/// One unit's kernel parameters for a block moving linearly from `a` to `b`.
fn ramp(a: &UnitFilm, b: &UnitFilm) -> [f64; PARAMS_PER_ROW] {
    [
        a.scale,
        b.scale - a.scale,
        a.bias,
        b.bias - a.bias,
        a.shift,
        b.shift - a.shift,
    ]
}
