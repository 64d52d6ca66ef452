//! The fused FiLM-sine layer's CPU arithmetic on plain slices.
//!
//! With `p = x W^T` (rows `[R, out]`, R = items x points), per-item `scale` and `shift`, the
//! layer is `y = sin(scale * p + shift)`. The forward keeps `p` and `cos(scale * p + shift)`
//! for the backward, which then needs no transcendental function.

use rayon::prelude::*;

use gemm::Parallelism;

use super::blocked;
pub use super::dims::{Backward, Dims, Forward};
use super::matmul::{matmul, threads, MatRef};
use super::panels::{self, PackedB};
use super::pool;
use super::sincos::sin_cos;

/// Rows handed to one rayon task in the element-wise passes (and summed together in the
/// backward's per-item reductions).
const MIN_ROWS_PER_TASK: usize = 64;

/// Runs `f` with the best SIMD instruction set this CPU has enabled, so that the element-wise
/// loops it inlines vectorise.
#[inline(always)]
pub(super) fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// The forward pass for x `[R, in]`, W `[out, in]` and film `[items, 2, out]` (scale then
/// shift per item).
pub fn forward(d: Dims, x: &[f32], w: &[f32], film: &[f32]) -> Forward {
    let (rows, out) = (d.rows(), d.outputs);
    if Products::best() == Products::Panels && out > 0 && d.inputs > 0 && d.points > 0 {
        let (mut product, mut sin, mut cos) = (
            pool::take(rows * out),
            pool::take(rows * out),
            pool::take(rows * out),
        );
        panels::multiply_activate(
            &mut product,
            &mut sin,
            &mut cos,
            x,
            &PackedB::transposed(w, out, d.inputs),
            film,
            d.points,
        );
        return Forward { sin, cos, product };
    }
    let product = product(x, w, d.inputs);
    let mut sin = pool::take(rows * out);
    let mut cos = pool::take(rows * out);
    let block = MIN_ROWS_PER_TASK * out.max(1);
    sin.par_chunks_mut(block)
        .zip(cos.par_chunks_mut(block))
        .zip(product.par_chunks(block))
        .enumerate()
        .for_each(|(task, ((s, c), p))| {
            let first_row = task * MIN_ROWS_PER_TASK;
            vectorised(|| activate_rows(first_row, p, s, c, film, d.points, out));
        });
    Forward { sin, cos, product }
}

/// The forward's element-wise part for whole rows of `p` `[.., n]` starting at row
/// `first_row`: `(sin, cos) = sincos(scale * p + shift)`, row `r` taking the scale and shift
/// of item `r / points` from `film` `[items, 2, n]`.
#[inline(always)]
pub(super) fn activate_rows(
    first_row: usize,
    p: &[f32],
    sin: &mut [f32],
    cos: &mut [f32],
    film: &[f32],
    points: usize,
    n: usize,
) {
    let rows = p
        .chunks_exact(n)
        .zip(sin.chunks_exact_mut(n))
        .zip(cos.chunks_exact_mut(n));
    for (r, ((p, s), c)) in rows.enumerate() {
        let (scale, shift) = film[(first_row + r) / points * 2 * n..][..2 * n].split_at(n);
        for ((((s, c), &p), &k), &h) in s.iter_mut().zip(c).zip(p).zip(scale).zip(shift) {
            (*s, *c) = sin_cos(k * p + h);
        }
    }
}

/// The backward pass: from dL/dy `[R, out]` and the forward's cos and product, the gradients
/// of x (when `want_x`), W and the film. `grad` is overwritten with dL/dp. Block by block
/// ([`blocked`]) where the panel kernel runs and the layer is not too narrow; otherwise one
/// element-wise pass, then the two products over all rows.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    d: Dims,
    grad: &mut [f32],
    cos: &[f32],
    product: &[f32],
    x: &[f32],
    w: &[f32],
    film: &[f32],
    want_x: bool,
) -> Backward {
    let (out, per_item) = (d.outputs, d.points * d.outputs);
    if blocked::applies(d) {
        return blocked::backward(d, false, grad, x, w, want_x, |block, acc| {
            let (scale, _) = film[block.item * 2 * out..][..2 * out].split_at(out);
            let at = (block.item * d.points + block.start) * out;
            let len = block.values.len();
            let (cos, product) = (&cos[at..at + len], &product[at..at + len]);
            vectorised(|| {
                let rows = block.values.chunks_mut(out).zip(cos.chunks(out));
                for ((g, c), p) in rows.zip(product.chunks(out)) {
                    pull_back_row(acc, g, c, p, scale);
                }
            });
        });
    }
    let mut grad_film = vec![0.0; d.items * 2 * out];
    grad_film
        .par_chunks_mut(2 * out)
        .zip(grad.par_chunks_mut(per_item.max(1)))
        .enumerate()
        .for_each(|(item, (gf, g))| {
            let (scale, _) = film[item * 2 * out..][..2 * out].split_at(out);
            let range = item * per_item..(item + 1) * per_item;
            // Fixed blocks summed in order: the result does not depend on thread scheduling.
            let block = (MIN_ROWS_PER_TASK * out).max(1);
            let partials: Vec<Vec<f32>> = g
                .par_chunks_mut(block)
                .zip(cos[range.clone()].par_chunks(block))
                .zip(product[range].par_chunks(block))
                .map(|((g, c), p)| {
                    let mut acc = vec![0.0; 2 * out];
                    vectorised(|| {
                        let rows = g.chunks_mut(out).zip(c.chunks(out)).zip(p.chunks(out));
                        for ((g, c), p) in rows {
                            pull_back_row(&mut acc, g, c, p, scale);
                        }
                    });
                    acc
                })
                .collect();
            for part in partials {
                gf.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
            }
        });
    let (grad_x, grad_w) = product_grads(grad, x, w, d.inputs, want_x);
    Backward {
        x: grad_x,
        weight: grad_w,
        film: grad_film,
    }
}

/// Which code multiplies by a layer's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Products {
    /// The AVX-512 panel kernel ([`panels`]).
    Panels,
    /// The `gemm` crate.
    Gemm,
}

impl Products {
    /// The fastest this CPU runs: the panel kernel where AVX-512F is present.
    pub(super) fn best() -> Products {
        if panels::available() {
            Products::Panels
        } else {
            Products::Gemm
        }
    }
}

/// `p = x W^T` for x `[R, inputs]` and W `[out, inputs]`, `[R, out]` in a pooled buffer.
pub(super) fn product(x: &[f32], w: &[f32], inputs: usize) -> Vec<f32> {
    product_by(Products::best(), x, w, inputs)
}

/// [`product`] computed by `by`.
fn product_by(by: Products, x: &[f32], w: &[f32], inputs: usize) -> Vec<f32> {
    let out = w.len() / inputs.max(1);
    let rows = x.len() / inputs.max(1);
    let mut p = pool::take(rows * out);
    if by == Products::Panels && out > 0 && inputs > 0 {
        panels::multiply(&mut p, x, &PackedB::transposed(w, out, inputs));
    } else {
        matmul(
            &mut p,
            MatRef::row_major(x, rows, inputs),
            MatRef::row_major(w, out, inputs).t(),
            false,
            threads(),
        );
    }
    p
}

/// dL/dx = dL/dp W `[R, inputs]` in a pooled buffer, for dL/dp `[R, out]` and W
/// `[out, inputs]`, computed by `by`.
fn input_grad_by(by: Products, grad_p: &[f32], w: &[f32], inputs: usize) -> Vec<f32> {
    let out = w.len() / inputs.max(1);
    let rows = grad_p.len() / out.max(1);
    let mut gx = pool::take(rows * inputs);
    if by == Products::Panels && out > 0 && inputs > 0 {
        panels::multiply(&mut gx, grad_p, &PackedB::plain(w, out, inputs));
    } else {
        matmul(
            &mut gx,
            MatRef::row_major(grad_p, rows, out),
            MatRef::row_major(w, out, inputs),
            false,
            threads(),
        );
    }
    gx
}

/// The gradients through `p = x W^T` from dL/dp `[R, out]`: dL/dx = dL/dp W (a pooled
/// buffer, when `want_x`) and dL/dW = (dL/dp)^T x, for x `[R, inputs]` and W `[out, inputs]`.
pub(super) fn product_grads(
    grad_p: &[f32],
    x: &[f32],
    w: &[f32],
    inputs: usize,
    want_x: bool,
) -> (Option<Vec<f32>>, Vec<f32>) {
    let grad_x = want_x.then(|| input_grad_by(Products::best(), grad_p, w, inputs));
    let out = w.len() / inputs.max(1);
    let rows = grad_p.len() / out.max(1);
    let grad_w = weight_grad(MatRef::row_major(grad_p, rows, out), x, inputs);
    (grad_x, grad_w)
}

/// Rows of one partial product of dL/dW: each is a single-threaded product of its own, and
/// the partials are summed in order.
const WEIGHT_GRAD_CHUNK_ROWS: usize = 2048;

/// dL/dW = (dL/dp)^T x `[out, inputs]`, summed over all rows.
///
/// The row (inner) dimension is split into fixed chunks, one single-threaded product each,
/// summed in chunk order: faster than one product threaded by `gemm` (which splits the small
/// 256 x 256 output instead of the long inner dimension, so each thread streams all the rows),
/// and the same result for any thread count.
fn weight_grad(grad_p: MatRef, x: &[f32], inputs: usize) -> Vec<f32> {
    let (rows, out) = (grad_p.rows, grad_p.cols);
    let x = MatRef::row_major(x, rows, inputs);
    let mut grad_w = vec![0.0; out * inputs];
    if rows <= WEIGHT_GRAD_CHUNK_ROWS {
        matmul(&mut grad_w, grad_p.t(), x, false, threads());
        return grad_w;
    }
    let partials: Vec<Vec<f32>> = (0..rows.div_ceil(WEIGHT_GRAD_CHUNK_ROWS))
        .into_par_iter()
        .map(|chunk| {
            let start = chunk * WEIGHT_GRAD_CHUNK_ROWS;
            let len = WEIGHT_GRAD_CHUNK_ROWS.min(rows - start);
            let mut partial = pool::take(out * inputs);
            matmul(
                &mut partial,
                grad_p.row_range(start, len).t(),
                x.row_range(start, len),
                false,
                Parallelism::None,
            );
            partial
        })
        .collect();
    for partial in partials {
        grad_w.iter_mut().zip(&partial).for_each(|(a, b)| *a += b);
        pool::give(partial);
    }
    grad_w
}

/// One row of the backward's element-wise part. With `ga = g cos(a)`: adds `ga p` to the
/// scale gradient and `ga` to the shift gradient (`acc` = `[scale; shift]`), and leaves
/// `dL/dp = ga scale` in `g`.
#[inline(always)]
fn pull_back_row(acc: &mut [f32], g: &mut [f32], c: &[f32], p: &[f32], scale: &[f32]) {
    let (acc_scale, acc_shift) = acc.split_at_mut(g.len());
    for (((((g, &c), &p), &k), gk), gh) in g
        .iter_mut()
        .zip(c)
        .zip(p)
        .zip(scale)
        .zip(acc_scale)
        .zip(acc_shift)
    {
        let ga = *g * c;
        *gk += ga * p;
        *gh += ga;
        *g = ga * k;
    }
}

#[cfg(test)]
mod tests {
    use super::{input_grad_by, product_by, Products};
    use crate::model::fused::tests::values;

    /// Both ways of multiplying by the weights (where this CPU runs both) agree to 1e-5 per
    /// term: the panel kernel on AVX-512 machines, `gemm` on the others.
    #[test]
    fn panel_kernel_and_gemm_agree() {
        if Products::best() == Products::Gemm {
            return;
        }
        for (rows, inputs, out) in [(1, 1, 1), (7, 1, 12), (100, 96, 96), (61, 256, 200)] {
            let x = values(rows * inputs, 1);
            let w = values(out * inputs, 2);
            let g = values(rows * out, 3);
            let cases = [
                (
                    product_by(Products::Panels, &x, &w, inputs),
                    product_by(Products::Gemm, &x, &w, inputs),
                    inputs,
                ),
                (
                    input_grad_by(Products::Panels, &g, &w, inputs),
                    input_grad_by(Products::Gemm, &g, &w, inputs),
                    out,
                ),
            ];
            for (panels, gemm, terms) in cases {
                let worst = panels
                    .iter()
                    .zip(&gemm)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(
                    worst <= 1e-5 * terms as f32,
                    "{rows}x{inputs}x{out}: {worst}"
                );
            }
        }
    }
}
