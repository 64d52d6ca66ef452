//! A whole FiLM-sine synthesis network (its sine layers and the final linear readout) as one
//! candle [`CustomOp3`] over (x, packed weights, packed film), with its backward.
//!
//! Per-layer ops leave every layer's activations and their gradients to candle's autograd,
//! which allocates a zero tensor and adds into it for each gradient it stores: for a pi-GAN
//! step that is two full passes over tens of MB per layer, a sizeable part of the step. Run
//! as one op, only the network's input and output and the (small) packed weights and film
//! cross into candle; the layers in between keep their activations in the op's own buffers.

use std::sync::OnceLock;

use candle_core::{CpuStorage, CustomOp3, Error, Layout, Result, Shape, Storage, Tensor};

use super::layer::{self, Dims};
use super::layer_tangent;
use super::op::f32_slice;
use super::pool;
use super::readout;
use crate::model::packing::Packing;

/// What the forward keeps for the backward, per layer.
struct Saved {
    /// Each layer's output (the next layer's input; the last one feeds the readout).
    outputs: Vec<Vec<f32>>,
    /// Each layer's `cos(a)` (value rows only when the tangent is carried).
    cos: Vec<Vec<f32>>,
    /// Each layer's `x W^T`.
    products: Vec<Vec<f32>>,
}

impl Drop for Saved {
    fn drop(&mut self) {
        pool::give_all(&mut self.outputs);
        pool::give_all(&mut self.cos);
        pool::give_all(&mut self.products);
    }
}

/// `sin(scale_l * (x W_l^T) + shift_l)` applied layer after layer, then `h w + b`, with the
/// time derivative stacked under the values when `tangent` is set (see
/// [`super::film_sine_network`]).
pub struct FilmSineNetwork {
    /// Output width of each layer; layer 0 reads the op's input width.
    widths: Vec<usize>,
    /// Whether rows are stacked values and tangents.
    tangent: bool,
    /// Whether a backward may follow.
    keep: bool,
    saved: OnceLock<Saved>,
}

/// The shared packing plus the slices the CPU kernels read.
struct Plan(Packing);

impl Plan {
    /// The sizes of layer `l`'s fused call.
    fn dims(&self, l: usize) -> Dims {
        let slot = self.0.layers[l];
        Dims {
            items: self.0.items,
            points: self.0.points,
            inputs: slot.inputs,
            outputs: slot.outputs,
        }
    }

    /// Layer `l`'s `[items, 2, out]` film, gathered from the packed `[items, film_len]`.
    fn film(&self, l: usize, film: &[f32]) -> Vec<f32> {
        let slot = self.0.layers[l];
        let mut v = Vec::with_capacity(self.0.items * 2 * slot.outputs);
        for item in 0..self.0.items {
            v.extend_from_slice(&film[item * self.0.film_len + slot.film_at..][..2 * slot.outputs]);
        }
        v
    }

    /// Layer `l`'s weight `[out, in]` within the packed weights.
    fn weight<'a>(&self, l: usize, weights: &'a [f32]) -> &'a [f32] {
        let slot = self.0.layers[l];
        &weights[slot.weight_at..slot.weight_at + slot.inputs * slot.outputs]
    }

    /// The readout's weight `[width]` and bias.
    fn readout<'a>(&self, weights: &'a [f32]) -> (&'a [f32], f32) {
        let (w, b) = weights[self.0.readout_at..].split_at(self.0.width());
        (w, b[0])
    }

    /// Stacked rows per item.
    fn rows_per_item(&self, tangent: bool) -> usize {
        if tangent {
            2 * self.0.points
        } else {
            self.0.points
        }
    }
}

impl FilmSineNetwork {
    /// A fresh op for layers of the given output widths; with `keep` it retains what its
    /// backward needs.
    pub fn new(widths: Vec<usize>, tangent: bool, keep: bool) -> Self {
        Self {
            widths,
            tangent,
            keep,
            saved: OnceLock::new(),
        }
    }

    /// Checks the packed shapes against the widths and lays the layers out.
    fn plan(&self, x: &Layout, weights: &Layout, film: &Layout) -> Result<Plan> {
        Packing::plan(
            "fused FiLM-sine network",
            &self.widths,
            self.tangent,
            x.dims(),
            weights.dims(),
            film.dims(),
        )
        .map(Plan)
    }
}

impl CustomOp3 for FilmSineNetwork {
    fn name(&self) -> &'static str {
        "film-sine-network"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let plan = self.plan(l1, l2, l3)?;
        let (x, weights, film) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?, f32_slice(s3, l3)?);
        let layers = plan.0.layers.len();
        let mut saved = Saved {
            outputs: Vec::with_capacity(layers),
            cos: Vec::with_capacity(layers),
            products: Vec::with_capacity(layers),
        };
        for l in 0..layers {
            let input = match l {
                0 => x,
                _ => &saved.outputs[l - 1],
            };
            let (d, w, f) = (plan.dims(l), plan.weight(l, weights), plan.film(l, film));
            let (output, cos, product) = if self.tangent {
                let r = layer_tangent::forward(d, input, w, &f);
                (r.output, r.cos, r.product)
            } else {
                let r = layer::forward(d, input, w, &f);
                (r.sin, r.cos, r.product)
            };
            saved.outputs.push(output);
            if self.keep {
                saved.cos.push(cos);
                saved.products.push(product);
            } else {
                // Without a backward only the latest output is still needed.
                pool::give(cos);
                pool::give(product);
                if l >= 1 {
                    pool::give(std::mem::take(&mut saved.outputs[l - 1]));
                }
            }
        }
        let rows = l1.dims()[1];
        let (w_out, b_out) = plan.readout(weights);
        let rows_per_item = plan.rows_per_item(self.tangent);
        let result = readout::forward(
            &saved.outputs[layers - 1],
            w_out,
            b_out,
            rows_per_item,
            plan.0.points,
        );
        if self.keep && self.saved.set(saved).is_err() {
            return Err(Error::Msg("fused FiLM-sine network: op run twice".into()));
        }
        let shape = Shape::from((plan.0.items, rows, 1));
        Ok((CpuStorage::F32(result), shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weights: &Tensor,
        film: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let saved = self
            .saved
            .get()
            .ok_or_else(|| Error::Msg("fused FiLM-sine network: no saved forward".into()))?;
        let (xs, xl) = x.storage_and_layout();
        let (ws, wl) = weights.storage_and_layout();
        let (fs, fl) = film.storage_and_layout();
        let (Storage::Cpu(xs), Storage::Cpu(ws), Storage::Cpu(fs)) = (&*xs, &*ws, &*fs) else {
            return Err(Error::Msg(
                "fused FiLM-sine network: CPU tensors only".into(),
            ));
        };
        let plan = self.plan(xl, wl, fl)?;
        let (x_data, w_data, f_data) = (f32_slice(xs, xl)?, f32_slice(ws, wl)?, f32_slice(fs, fl)?);
        let mut grad_weights = vec![0.0; w_data.len()];
        let mut grad_film = vec![0.0; f_data.len()];
        let grad_y = grad_res.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let layers = plan.0.layers.len();
        let (w_out, _) = plan.readout(w_data);
        let rows_per_item = plan.rows_per_item(self.tangent);
        let r = readout::backward(
            &grad_y,
            &saved.outputs[layers - 1],
            w_out,
            rows_per_item,
            plan.0.points,
        );
        grad_weights[plan.0.readout_at..][..w_out.len()].copy_from_slice(&r.weight);
        grad_weights[plan.0.readout_at + w_out.len()] = r.bias;
        let mut grad = r.h;
        let mut grad_x = None;
        for l in (0..layers).rev() {
            let input = match l {
                0 => x_data,
                _ => &saved.outputs[l - 1],
            };
            let want_x = l > 0 || x.track_op();
            let (d, w, f) = (plan.dims(l), plan.weight(l, w_data), plan.film(l, f_data));
            let (gx, gw, gf) = if self.tangent {
                let b = layer_tangent::backward(
                    d,
                    &mut grad,
                    &saved.outputs[l],
                    &saved.cos[l],
                    &saved.products[l],
                    input,
                    w,
                    &f,
                    want_x,
                );
                (b.x, b.weight, b.film)
            } else {
                let b = layer::backward(
                    d,
                    &mut grad,
                    &saved.cos[l],
                    &saved.products[l],
                    input,
                    w,
                    &f,
                    want_x,
                );
                (b.x, b.weight, b.film)
            };
            let slot = plan.0.layers[l];
            let (out, f_at) = (slot.outputs, slot.film_at);
            grad_weights[slot.weight_at..slot.weight_at + gw.len()].copy_from_slice(&gw);
            for item in 0..plan.0.items {
                grad_film[item * plan.0.film_len + f_at..][..2 * out]
                    .copy_from_slice(&gf[item * 2 * out..][..2 * out]);
            }
            if l == 0 {
                grad_x = gx;
            } else {
                let next = gx.ok_or_else(|| {
                    Error::Msg(format!(
                        "fused FiLM-sine network: no input gradient at layer {l}"
                    ))
                })?;
                pool::give(std::mem::replace(&mut grad, next));
            }
        }
        pool::give(grad);
        let device = x.device();
        let grad_x = grad_x
            .map(|g| Tensor::from_vec(g, x.dims(), device))
            .transpose()?;
        let grad_weights = Tensor::from_vec(grad_weights, weights.dims(), device)?;
        let grad_film = Tensor::from_vec(grad_film, film.dims(), device)?;
        Ok((grad_x, Some(grad_weights), Some(grad_film)))
    }
}
