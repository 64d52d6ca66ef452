//! A fused FiLM-sine layer for f32 tensors on the CPU: `sin(scale * (x W^T) + shift)` as one
//! candle custom op, with a hand-written backward over SIMD matrix products (an AVX-512 panel
//! kernel of our own, `gemm` on CPUs without AVX-512 and for the one-input first layer's
//! dL/dW).
//!
//! The forward computes sine and cosine of each pre-activation once and keeps the cosine and
//! `x W^T` for the backward, which then needs two matrix products (for x and W) and one
//! element-wise pass, taken block by block while each block is in cache ([`blocked`]). Everything around it (weight norm, the per-item scale and shift) stays in
//! plain candle, so gradients reach g, v, b, gamma and beta through candle's autograd. The
//! plain candle layer ([`super::layers::FilmLayer::forward_plain`], used for other dtypes and
//! devices) is the tests' reference.
//!
//! [`film_sine_network`] runs a whole synthesis network of sine layers and its linear readout
//! as one op (the decoder's path for all-sine FiLM networks, where candle's autograd would
//! otherwise allocate and add a zero gradient per activation), optionally with the time
//! derivative (the tangent, for the `analytic` loss) stacked under the values so that one
//! product per layer serves both. The single-layer op serves networks that mix sine and
//! LeakyReLU layers.

mod blocked;
mod dims;
mod layer;
mod layer_tangent;
mod matmul;
mod network_op;
mod op;
mod panels;
mod pool;
mod readout;
mod sincos;

#[cfg(test)]
mod tests;

use candle_core::{DType, Result, Tensor};

/// Whether the fused layer can run on `x`: f32 on the CPU.
pub fn supports(x: &Tensor) -> bool {
    x.dtype() == DType::F32 && x.device().is_cpu()
}

/// `sin(scale * (x W^T) + shift)` for x `[B, n, in]`, W `[out, in]` and film `[B, 2, out]`
/// (row 0 the per-item scale, row 1 the per-item shift), giving `[B, n, out]`; differentiable
/// in all three inputs.
pub fn film_sine(x: &Tensor, w: &Tensor, film: &Tensor) -> Result<Tensor> {
    let keep = x.track_op() || w.track_op() || film.track_op();
    x.contiguous()?.apply_op3(
        &w.contiguous()?,
        &film.contiguous()?,
        op::FilmSine::new(keep),
    )
}

/// A whole all-sine synthesis network as one op: for x `[B, rows, in]`, the layers' weights
/// packed in order (`[out_l, in_l]` row-major each) followed by the readout's weight
/// `[widths.last()]` and bias (`[P]` in all), and the layers' film packed per item (`scale_l`
/// then `shift_l` for each layer, `[B, F]`, F = 2 Σ out_l), gives the amplitudes
/// `[B, rows, 1]`. With `tangent`, each item's rows are n values followed by their n time
/// derivatives, carried through every layer (the `analytic` loss; the readout adds its bias to
/// value rows only); one matrix product per layer serves both. Differentiable in all three
/// inputs.
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
        network_op::FilmSineNetwork::new(widths, tangent, keep),
    )
}
