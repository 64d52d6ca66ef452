//! A whole FiLM-sine synthesis network (its sine layers and the linear readout) as one candle
//! [`CustomOp3`] whose forward and backward are both written in candle tensor ops, so that it
//! runs on the CPU and on CUDA in any float dtype: the decoder's path on CUDA, where the CPU
//! kernels of `fused` do not exist.
//!
//! Why one op rather than the layers' plain ops under candle's autograd: candle's backward
//! allocates a zero tensor and adds into it for every gradient it stores, and the backward of a
//! broadcast product builds a full-size gradient for the broadcast operand before summing it,
//! so a plain FiLM-sine layer costs about forty passes over its `[B, n, width]` activations per
//! training step. Here a layer costs about ten: the per-item scale is folded into per-item
//! weights (`W_b = diag(scale_b) W`, `[B, out, in]`, small next to the activations) so that one
//! batched product gives `scale * (x W^T)`; the forward adds the shift and takes sine and
//! cosine (kept for the backward); the backward forms `g_a = g cos(a)` and gets everything else
//! from batched products: `g_a^T 1` (the shift's gradient), `G_b = g_a^T x_b`
//! (`[B, out, in]`), whence `dL/dW = Σ_b diag(scale_b) G_b` (a product with ones too) and
//! `dL/dscale_b = rowsum(G_b ⊙ W)`, and `g_x = g_a W_b`.
//!
//! With the tangent (the `analytic` loss), each layer also carries `da = dx W_b^T` and
//! `dy = cos(a) da`, and its backward adds `-g_dy da sin(a)` to `g_a` and the tangent rows'
//! product `(g_dy cos(a))^T dx_b` to `G_b`. The inputs are packed as for the fused op
//! ([`super::packing`]); the tests compare both ops with the network in plain candle layers,
//! in f32 and (this op) in f64.

use std::sync::OnceLock;

use candle_core::backend::BackendStorage;
use candle_core::op::BackpropOp;
use candle_core::{
    CpuStorage, CudaStorage, CustomOp3, Error, Layout, Result, Shape, Storage, Tensor,
};

use super::linear::matmul_last;
use super::packing::{LayerSlot, Packing};

/// The op's name in messages.
const NAME: &str = "composed FiLM-sine network";

/// The same function as [`super::fused::film_sine_network`] (same packed inputs, same output
/// `[B, rows, 1]`), for tensors of any float dtype on the CPU or CUDA; differentiable in all
/// three inputs.
pub fn film_sine_network(
    x: &Tensor,
    weights: &Tensor,
    film: &Tensor,
    widths: Vec<usize>,
    tangent: bool,
) -> Result<Tensor> {
    let keep = x.track_op() || weights.track_op() || film.track_op();
    x.contiguous()?.apply_op3(
        &weights.contiguous()?,
        &film.contiguous()?,
        ComposedNetwork {
            widths,
            tangent,
            keep,
            saved: OnceLock::new(),
        },
    )
}

/// What the forward keeps of one layer for the backward.
struct LayerSaved {
    /// The per-item weights `diag(scale_b) W`, `[B, out, in]`.
    weight: Tensor,
    /// `cos(a)`, `[B, n, out]`.
    cos: Tensor,
    /// The layer's output `sin(a)` and, with the tangent, its time derivative.
    output: (Tensor, Option<Tensor>),
    /// With the tangent: the pre-activation's time derivative `da = dx W_b^T`.
    da: Option<Tensor>,
}

/// The network op: the layers' output widths, whether the tangent is stacked under the values,
/// and whether a backward may follow (then the forward keeps what it needs).
struct ComposedNetwork {
    widths: Vec<usize>,
    tangent: bool,
    keep: bool,
    saved: OnceLock<Vec<LayerSaved>>,
}

/// A tensor over (a copy of) an op input's storage, with the input's shape; the inputs are
/// contiguous (made so by [`film_sine_network`]) but may start at an offset.
fn tensor_of(storage: Storage, layout: &Layout) -> Result<Tensor> {
    if !layout.is_contiguous() {
        return Err(Error::Msg(format!("{NAME}: contiguous inputs only")));
    }
    let (start, count) = (layout.start_offset(), layout.shape().elem_count());
    Tensor::from_storage(storage, start + count, BackpropOp::none(), false)
        .narrow(0, start, count)?
        .reshape(layout.dims())
}

/// The storage of `t` as an op's result, which must be contiguous from offset 0: `t`'s own
/// buffer when it is (a copy of the handle on the CPU, of the buffer on CUDA), else a
/// contiguous copy.
fn storage_of(t: &Tensor) -> Result<(Storage, Shape)> {
    let t = if t.is_contiguous() && t.layout().start_offset() == 0 {
        t.clone()
    } else {
        t.force_contiguous()?
    };
    let (storage, layout) = t.storage_and_layout();
    Ok((storage.try_clone(layout)?, t.shape().clone()))
}

/// A layer's weight `[out, in]`, scale and shift (`[B, out]` each) within the packed inputs.
fn layer_params(
    slot: &LayerSlot,
    weights: &Tensor,
    film: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    let w = weights
        .narrow(0, slot.weight_at, slot.inputs * slot.outputs)?
        .reshape((slot.outputs, slot.inputs))?;
    let scale = film.narrow(1, slot.film_at, slot.outputs)?;
    let shift = film.narrow(1, slot.film_at + slot.outputs, slot.outputs)?;
    Ok((w, scale, shift))
}

/// The readout's weight as a row `[1, width]` (a linear layer's `[out, in]`) and its bias
/// `[1]`.
fn readout_params(packing: &Packing, weights: &Tensor) -> Result<(Tensor, Tensor)> {
    let width = packing.width();
    let w = weights
        .narrow(0, packing.readout_at, width)?
        .reshape((1, width))?;
    let b = weights.narrow(0, packing.readout_at + width, 1)?;
    Ok((w, b))
}

impl ComposedNetwork {
    /// Checks the packed shapes against the widths.
    fn packing(&self, x: &[usize], weights: &[usize], film: &[usize]) -> Result<Packing> {
        Packing::plan(NAME, &self.widths, self.tangent, x, weights, film)
    }

    /// The input's value rows and, with the tangent, its tangent rows (both contiguous).
    fn split_rows(&self, x: &Tensor, points: usize) -> Result<(Tensor, Option<Tensor>)> {
        if self.tangent {
            Ok((
                x.narrow(1, 0, points)?.contiguous()?,
                Some(x.narrow(1, points, points)?.contiguous()?),
            ))
        } else {
            Ok((x.clone(), None))
        }
    }

    /// Values (and tangents) in, values (and tangents) out, stacked as the op's output.
    fn forward(&self, x: &Tensor, weights: &Tensor, film: &Tensor) -> Result<Tensor> {
        let packing = self.packing(x.dims(), weights.dims(), film.dims())?;
        let (mut h, mut dh) = self.split_rows(x, packing.points)?;
        let mut saved = Vec::with_capacity(packing.layers.len());
        for slot in &packing.layers {
            let (w, scale, shift) = layer_params(slot, weights, film)?;
            let weight = w.unsqueeze(0)?.broadcast_mul(&scale.unsqueeze(2)?)?;
            let weight_t = weight.t()?;
            let a = h.matmul(&weight_t)?.broadcast_add(&shift.unsqueeze(1)?)?;
            let cos = a.cos()?;
            let da = dh.map(|d| d.matmul(&weight_t)).transpose()?;
            dh = da.as_ref().map(|da| cos.mul(da)).transpose()?;
            h = a.sin()?;
            if self.keep {
                saved.push(LayerSaved {
                    weight,
                    cos,
                    output: (h.clone(), dh.clone()),
                    da,
                });
            }
        }
        let (w_out, b_out) = readout_params(&packing, weights)?;
        let y = matmul_last(&h, &w_out)?.broadcast_add(&b_out)?;
        let out = match dh {
            Some(d) => Tensor::cat(&[&y, &matmul_last(&d, &w_out)?], 1)?,
            None => y,
        };
        if self.keep && self.saved.set(saved).is_err() {
            return Err(Error::Msg(format!("{NAME}: op run twice")));
        }
        Ok(out)
    }

    /// The forward on an input's storages, for any backend.
    fn forward_storage(&self, inputs: [(Storage, &Layout); 3]) -> Result<(Storage, Shape)> {
        let [(x, xl), (w, wl), (f, fl)] = inputs;
        let y = self.forward(&tensor_of(x, xl)?, &tensor_of(w, wl)?, &tensor_of(f, fl)?)?;
        storage_of(&y)
    }
}

/// Gradients of the loss with respect to a layer's inputs and parameters.
struct LayerGrads {
    /// Input values and tangents, when asked for.
    x: Option<(Tensor, Option<Tensor>)>,
    /// The weight `[out, in]`.
    weight: Tensor,
    /// The scale, `[B, out]`.
    scale: Tensor,
    /// The shift, `[B, out]`.
    shift: Tensor,
}

impl ComposedNetwork {
    /// One layer's backward from the gradients of its output values `g` and tangents `g_d`.
    fn layer_backward(
        layer: &LayerSaved,
        input: &(Tensor, Option<Tensor>),
        w: &Tensor,
        scale: &Tensor,
        grad: (&Tensor, Option<&Tensor>),
        want_x: bool,
    ) -> Result<LayerGrads> {
        let (g, g_d) = grad;
        let mut g_a = g.mul(&layer.cos)?;
        let g_da = match (g_d, &layer.da) {
            (Some(g_d), Some(da)) => {
                // d(cos(a) da)/da = -sin(a) da, and sin(a) is the layer's output.
                g_a = g_a.sub(&g_d.mul(da)?.mul(&layer.output.0)?)?;
                Some(g_d.mul(&layer.cos)?)
            }
            _ => None,
        };
        // The sum over the points as a product with ones: a strided reduction over the middle
        // axis reads uncoalesced on a GPU, the product reads g_a once in order.
        let ones = Tensor::ones((g_a.dim(0)?, g_a.dim(1)?, 1), g_a.dtype(), g_a.device())?;
        let shift = g_a.t()?.matmul(&ones)?.squeeze(2)?;
        let mut g_weight = g_a.t()?.matmul(&input.0)?;
        if let (Some(g_da), Some(dx)) = (&g_da, &input.1) {
            g_weight = g_weight.add(&g_da.t()?.matmul(dx)?)?;
        }
        let scale_grad = g_weight.broadcast_mul(&w.unsqueeze(0)?)?.sum(2)?;
        // The sum over the items, a product with ones for the same reason.
        let (items, out, inputs) = g_weight.dims3()?;
        let per_item = g_weight.broadcast_mul(&scale.unsqueeze(2)?)?;
        let item_ones = Tensor::ones((1, items), per_item.dtype(), per_item.device())?;
        let weight = item_ones
            .matmul(&per_item.reshape((items, out * inputs))?)?
            .reshape((out, inputs))?;
        let x = if want_x {
            let dx = g_da.map(|g| g.matmul(&layer.weight)).transpose()?;
            Some((g_a.matmul(&layer.weight)?, dx))
        } else {
            None
        };
        Ok(LayerGrads {
            x,
            weight,
            scale: scale_grad,
            shift,
        })
    }
}

impl CustomOp3 for ComposedNetwork {
    fn name(&self) -> &'static str {
        "composed-film-sine-network"
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
        let inputs = [
            (Storage::Cpu(s1.clone()), l1),
            (Storage::Cpu(s2.clone()), l2),
            (Storage::Cpu(s3.clone()), l3),
        ];
        match self.forward_storage(inputs)? {
            (Storage::Cpu(s), shape) => Ok((s, shape)),
            _ => Err(Error::Msg(format!("{NAME}: result left the CPU"))),
        }
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
        s3: &CudaStorage,
        l3: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let inputs = [
            (Storage::Cuda(s1.try_clone(l1)?), l1),
            (Storage::Cuda(s2.try_clone(l2)?), l2),
            (Storage::Cuda(s3.try_clone(l3)?), l3),
        ];
        match self.forward_storage(inputs)? {
            (Storage::Cuda(s), shape) => Ok((s, shape)),
            _ => Err(Error::Msg(format!("{NAME}: result left the CUDA device"))),
        }
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
            .ok_or_else(|| Error::Msg(format!("{NAME}: no saved forward")))?;
        let (x_in, weights, film) = (x.detach(), weights.detach(), film.detach());
        let packing = self.packing(x_in.dims(), weights.dims(), film.dims())?;
        let n = packing.points;
        let grad_res = grad_res.contiguous()?;
        let (g_y, g_dy) = self.split_rows(&grad_res, n)?;

        // The readout: y = h w + b on value rows, dy = dh w on tangent rows.
        let (w_out, _) = readout_params(&packing, &weights)?;
        let last = &saved[saved.len() - 1].output;
        let flat = |t: &Tensor| -> Result<Tensor> {
            let (items, rows, k) = t.dims3()?;
            t.reshape((items * rows, k))
        };
        let mut g_w_out = flat(&last.0)?.t()?.matmul(&flat(&g_y)?)?;
        if let (Some(dh), Some(g_dy)) = (&last.1, &g_dy) {
            g_w_out = g_w_out.add(&flat(dh)?.t()?.matmul(&flat(g_dy)?)?)?;
        }
        let g_b_out = g_y.sum_all()?.reshape(1)?;
        // dL/dh = g_y w: `matmul_last` multiplies by the transpose of what it is given.
        let w_col = w_out.t()?;
        let mut g_h = matmul_last(&g_y, &w_col)?;
        let mut g_dh = g_dy.as_ref().map(|g| matmul_last(g, &w_col)).transpose()?;

        let layers = packing.layers.len();
        let mut weight_grads = vec![None; layers];
        let mut film_grads = vec![None; layers];
        let mut grad_x = None;
        let x_rows = self.split_rows(&x_in, n)?;
        for l in (0..layers).rev() {
            let slot = &packing.layers[l];
            let (w, scale, _) = layer_params(slot, &weights, &film)?;
            let input = if l == 0 {
                &x_rows
            } else {
                &saved[l - 1].output
            };
            let want_x = l > 0 || x.track_op();
            let grads =
                Self::layer_backward(&saved[l], input, &w, &scale, (&g_h, g_dh.as_ref()), want_x)?;
            weight_grads[l] = Some(grads.weight.flatten_all()?);
            film_grads[l] = Some(Tensor::cat(&[&grads.scale, &grads.shift], 1)?);
            match grads.x {
                Some((gx, gdx)) if l > 0 => (g_h, g_dh) = (gx, gdx),
                Some((gx, gdx)) => {
                    grad_x = Some(match gdx {
                        Some(gdx) => Tensor::cat(&[&gx, &gdx], 1)?,
                        None => gx,
                    })
                }
                None => {}
            }
        }
        let mut weight_parts: Vec<Tensor> = weight_grads.into_iter().flatten().collect();
        weight_parts.push(g_w_out.flatten_all()?);
        weight_parts.push(g_b_out);
        let film_parts: Vec<Tensor> = film_grads.into_iter().flatten().collect();
        Ok((
            grad_x,
            Some(Tensor::cat(&weight_parts, 0)?),
            Some(Tensor::cat(&film_parts, 1)?),
        ))
    }
}
