//! A fused FiLM-sine layer for f32 tensors on the CPU: `sin(scale * (x W^T) + shift)` as one
//! candle custom op, with a hand-written backward over SIMD matrix products (the `gemm` crate).
//!
//! The forward computes sine and cosine of each pre-activation once and keeps the cosine and
//! `x W^T` for the backward, which then needs two matrix products (for x and W) and one
//! element-wise pass. Everything around it (weight norm, the per-item scale and shift) stays in
//! plain candle, so gradients reach g, v, b, gamma and beta through candle's autograd. The
//! plain candle layer ([`super::layers::FilmLayer::forward_plain`], used for other dtypes and
//! devices) is the tests' reference.
//!
//! [`film_sine_dual`] is the variant for the `analytic` derivative loss: the time derivative
//! (the tangent) rides in the same tensor, stacked under the values, through the same product.

mod dual_kernels;
mod dual_op;
mod kernels;
mod matmul;
mod op;
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

/// The same layer carrying the time derivative: for stacked X `[B, 2n, in]` (per item, n rows
/// of values then their n rows of d/dt), gives the stacked `[B, 2n, out]` of
/// `sin(scale * (x W^T) + shift)` and its d/dt, `cos(..) * scale * (dx/dt W^T)`; differentiable
/// in all three inputs. One matrix product serves values and tangents.
pub fn film_sine_dual(stacked: &Tensor, w: &Tensor, film: &Tensor) -> Result<Tensor> {
    let keep = stacked.track_op() || w.track_op() || film.track_op();
    stacked.contiguous()?.apply_op3(
        &w.contiguous()?,
        &film.contiguous()?,
        dual_op::FilmSineDual::new(keep),
    )
}
