//! The synthesis network's final linear map to one amplitude, `y = h w + b`, on plain slices:
//! the fused network's last step, so that the widest activations never become candle tensors.
//! Tangent rows (when the network carries the time derivative) get `dh w`, without the bias.

use rayon::prelude::*;

use super::pool;

/// Rows handed to one rayon task (and summed together in the backward's reductions).
const ROWS_PER_TASK: usize = 256;

/// Whether row `r` of an item's `rows_per_item` rows is a value row (the first `values`).
fn is_value(r: usize, rows_per_item: usize, values: usize) -> bool {
    r % rows_per_item < values
}

/// `y[r] = h[r] . w (+ b on value rows)` for h `[rows, width]`; each item has
/// `rows_per_item` rows of which the first `values` are values.
pub fn forward(h: &[f32], w: &[f32], b: f32, rows_per_item: usize, values: usize) -> Vec<f32> {
    let width = w.len();
    let rows = h.len() / width.max(1);
    let mut y = vec![0.0; rows];
    y.par_chunks_mut(ROWS_PER_TASK)
        .zip(h.par_chunks(ROWS_PER_TASK * width.max(1)))
        .enumerate()
        .for_each(|(chunk, (y, h))| {
            for (i, (y, h)) in y.iter_mut().zip(h.chunks(width.max(1))).enumerate() {
                let r = chunk * ROWS_PER_TASK + i;
                let bias = if is_value(r, rows_per_item, values) {
                    b
                } else {
                    0.0
                };
                *y = h.iter().zip(w).map(|(a, b)| a * b).sum::<f32>() + bias;
            }
        });
    y
}

/// The backward's results.
pub struct Backward {
    /// dL/dh `[rows, width]` (a pooled buffer).
    pub h: Vec<f32>,
    /// dL/dw `[width]`.
    pub weight: Vec<f32>,
    /// dL/db.
    pub bias: f32,
}

/// From dL/dy `[rows]`, the gradients of h, w and b.
pub fn backward(
    grad: &[f32],
    h: &[f32],
    w: &[f32],
    rows_per_item: usize,
    values: usize,
) -> Backward {
    let width = w.len().max(1);
    let mut grad_h = pool::take(grad.len() * width);
    // Fixed blocks summed in order: the result does not depend on thread scheduling.
    let partials: Vec<(Vec<f32>, f32)> = grad_h
        .par_chunks_mut(ROWS_PER_TASK * width)
        .zip(grad.par_chunks(ROWS_PER_TASK))
        .zip(h.par_chunks(ROWS_PER_TASK * width))
        .enumerate()
        .map(|(chunk, ((gh, g), h))| {
            let mut gw = vec![0.0; width];
            let mut gb = 0.0;
            let rows = gh.chunks_mut(width).zip(g).zip(h.chunks(width));
            for (i, ((gh, &g), h)) in rows.enumerate() {
                gh.iter_mut().zip(w).for_each(|(d, &w)| *d = g * w);
                gw.iter_mut().zip(h).for_each(|(d, &h)| *d += g * h);
                if is_value(chunk * ROWS_PER_TASK + i, rows_per_item, values) {
                    gb += g;
                }
            }
            (gw, gb)
        })
        .collect();
    let mut weight = vec![0.0; w.len()];
    let mut bias = 0.0;
    for (gw, gb) in partials {
        weight.iter_mut().zip(&gw).for_each(|(a, b)| *a += b);
        bias += gb;
    }
    Backward {
        h: grad_h,
        weight,
        bias,
    }
}
