//! The tangent-carrying fused FiLM-sine layer's CPU arithmetic on plain slices.
//!
//! Values and their time derivatives travel stacked: each item's `2n` rows are its `n` value
//! rows followed by their `n` tangent rows, so that one matrix product serves both. With
//! `p = X W^T` (value rows `p_v`, tangent rows `p_t`), per-item `scale` k and `shift` h, and
//! `a = k p_v + h`, the layer gives `y = sin(a)` on value rows and `dy = cos(a) k p_t` on
//! tangent rows: the sine's chain rule, `d sin(a)/dt = cos(a) da/dt` with `da/dt = k W dx/dt`.

use rayon::prelude::*;

use super::blocked;
use super::layer::{product, product_grads, vectorised, Backward, Dims};
use super::pool;
use super::sincos::sin_cos;

/// Value rows handed to one rayon task (with their tangent rows).
const MIN_ROWS_PER_TASK: usize = 32;

/// The forward pass's results.
pub struct Forward {
    /// The stacked output `[items, 2n, out]`: sines, then their tangents.
    pub output: Vec<f32>,
    /// `cos(a)` on the value rows, `[items, n, out]`.
    pub cos: Vec<f32>,
    /// `p = X W^T`, stacked like the input, `[items, 2n, out]`.
    pub product: Vec<f32>,
}

/// The forward pass for stacked X `[items, 2n, in]` (`d.points` = n), W `[out, in]` and film
/// `[items, 2, out]`.
pub fn forward(d: Dims, x: &[f32], w: &[f32], film: &[f32]) -> Forward {
    let (out, n) = (d.outputs, d.points);
    let rows = 2 * d.rows();
    let product = product(x, w, d.inputs);
    let mut output = pool::take(rows * out);
    let mut cos = pool::take(d.rows() * out);
    let per_item = n * out;
    let block = MIN_ROWS_PER_TASK * out;
    output
        .par_chunks_mut(2 * per_item.max(1))
        .zip(cos.par_chunks_mut(per_item.max(1)))
        .zip(product.par_chunks(2 * per_item.max(1)))
        .enumerate()
        .for_each(|(item, ((y, c), p))| {
            let (scale, shift) = film[item * 2 * out..][..2 * out].split_at(out);
            let (y_v, y_t) = y.split_at_mut(per_item);
            let (p_v, p_t) = p.split_at(per_item);
            y_v.par_chunks_mut(block)
                .zip(y_t.par_chunks_mut(block))
                .zip(c.par_chunks_mut(block))
                .zip(p_v.par_chunks(block).zip(p_t.par_chunks(block)))
                .for_each(|(((y_v, y_t), c), (p_v, p_t))| {
                    vectorised(|| {
                        let rows = y_v
                            .chunks_mut(out)
                            .zip(y_t.chunks_mut(out))
                            .zip(c.chunks_mut(out))
                            .zip(p_v.chunks(out).zip(p_t.chunks(out)));
                        for (((y_v, y_t), c), (p_v, p_t)) in rows {
                            activate_row(y_v, y_t, c, p_v, p_t, scale, shift);
                        }
                    })
                });
        });
    Forward {
        output,
        cos,
        product,
    }
}

/// One value row and its tangent row: `y = sin(k p_v + h)`, `dy = cos(k p_v + h) k p_t`.
#[inline(always)]
fn activate_row(
    y: &mut [f32],
    dy: &mut [f32],
    c: &mut [f32],
    p_v: &[f32],
    p_t: &[f32],
    scale: &[f32],
    shift: &[f32],
) {
    let rows = y.iter_mut().zip(dy).zip(c).zip(p_v.iter().zip(p_t));
    for ((((y, dy), c), (&pv, &pt)), (&k, &h)) in rows.zip(scale.iter().zip(shift)) {
        let (s, co) = sin_cos(k * pv + h);
        *y = s;
        *c = co;
        *dy = co * k * pt;
    }
}

/// The backward pass: from the stacked dL/dY `[items, 2n, out]` (overwritten with dL/dP), the
/// forward's stacked output (for the sines), cosines and product, the gradients of the stacked
/// X (when `want_x`; stacked `[items, 2n, in]` like X), W and the film. Block by block
/// ([`blocked`]) where the panel kernel runs and the layer is not too narrow.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    d: Dims,
    grad: &mut [f32],
    output: &[f32],
    cos: &[f32],
    product: &[f32],
    x: &[f32],
    w: &[f32],
    film: &[f32],
    want_x: bool,
) -> Backward {
    let (out, n) = (d.outputs, d.points);
    let per_item = n * out;
    if blocked::applies(d) {
        return blocked::backward(d, true, grad, x, w, want_x, |block, acc| {
            let (scale, _) = film[block.item * 2 * out..][..2 * out].split_at(out);
            let len = block.values.len();
            let value_at = (block.item * 2 * n + block.start) * out;
            let tangent_at = value_at + per_item;
            let c = &cos[(block.item * n + block.start) * out..][..len];
            let s = &output[value_at..value_at + len];
            let (p_v, p_t) = (
                &product[value_at..value_at + len],
                &product[tangent_at..tangent_at + len],
            );
            let g_t = block
                .tangents
                .as_deref_mut()
                .expect("stacked blocks carry tangents");
            vectorised(|| {
                let rows = block
                    .values
                    .chunks_mut(out)
                    .zip(g_t.chunks_mut(out))
                    .zip(s.chunks(out).zip(c.chunks(out)))
                    .zip(p_v.chunks(out).zip(p_t.chunks(out)));
                for (((g_v, g_t), (s, c)), (p_v, p_t)) in rows {
                    pull_back_row(acc, g_v, g_t, s, c, p_v, p_t, scale);
                }
            });
        });
    }
    let block = MIN_ROWS_PER_TASK * out;
    let mut grad_film = vec![0.0; d.items * 2 * out];
    grad_film
        .par_chunks_mut(2 * out)
        .zip(grad.par_chunks_mut(2 * per_item.max(1)))
        .zip(output.par_chunks(2 * per_item.max(1)))
        .zip(cos.par_chunks(per_item.max(1)))
        .zip(product.par_chunks(2 * per_item.max(1)))
        .enumerate()
        .for_each(|(item, ((((gf, g), y), c), p))| {
            let (scale, _) = film[item * 2 * out..][..2 * out].split_at(out);
            let (g_v, g_t) = g.split_at_mut(per_item);
            let (p_v, p_t) = p.split_at(per_item);
            let s = &y[..per_item];
            // Fixed blocks summed in order: the result does not depend on thread scheduling.
            let partials: Vec<Vec<f32>> = g_v
                .par_chunks_mut(block)
                .zip(g_t.par_chunks_mut(block))
                .zip(s.par_chunks(block).zip(c.par_chunks(block)))
                .zip(p_v.par_chunks(block).zip(p_t.par_chunks(block)))
                .map(|(((g_v, g_t), (s, c)), (p_v, p_t))| {
                    let mut acc = vec![0.0; 2 * out];
                    vectorised(|| {
                        let rows = g_v
                            .chunks_mut(out)
                            .zip(g_t.chunks_mut(out))
                            .zip(s.chunks(out).zip(c.chunks(out)))
                            .zip(p_v.chunks(out).zip(p_t.chunks(out)));
                        for (((g_v, g_t), (s, c)), (p_v, p_t)) in rows {
                            pull_back_row(&mut acc, g_v, g_t, s, c, p_v, p_t, scale);
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

/// One value row and its tangent row of the backward. With `g_a = g_y cos(a) - g_dy sin(a) k
/// p_t` (the gradient reaching the pre-activation through both outputs): adds
/// `g_a p_v + g_dy cos(a) p_t` to the scale gradient and `g_a` to the shift gradient (`acc` =
/// `[scale; shift]`), and leaves dL/dp_v = `g_a k` and dL/dp_t = `g_dy cos(a) k` in place.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pull_back_row(
    acc: &mut [f32],
    g_v: &mut [f32],
    g_t: &mut [f32],
    s: &[f32],
    c: &[f32],
    p_v: &[f32],
    p_t: &[f32],
    scale: &[f32],
) {
    let (acc_scale, acc_shift) = acc.split_at_mut(g_v.len());
    let grads = g_v.iter_mut().zip(g_t.iter_mut());
    let forward = s.iter().zip(c).zip(p_v.iter().zip(p_t));
    let accs = acc_scale.iter_mut().zip(acc_shift.iter_mut());
    for ((((gv, gt), ((&s, &c), (&pv, &pt))), &k), (gk, gh)) in
        grads.zip(forward).zip(scale).zip(accs)
    {
        let gtc = *gt * c;
        let ga = *gv * c - *gt * s * k * pt;
        *gk += ga * pv + gtc * pt;
        *gh += ga;
        *gv = ga * k;
        *gt = gtc * k;
    }
}
