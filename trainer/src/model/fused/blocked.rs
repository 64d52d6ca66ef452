//! A sine layer's backward block by block: each block of rows has its dL/dy pulled back to
//! dL/dp and, right after, while those rows are still in the core's cache, gives its rows of
//! dL/dx (the panel kernel) and adds its share of dL/dW (the turned tile, over the block's x
//! rows packed into panels), instead of three passes over the whole activation (pull-back,
//! dL/dx, dL/dW through `gemm`), each reading dL/dp back from memory. The backward's two
//! products are two thirds of a pi-GAN step's arithmetic.
//!
//! Deterministic: blocks are cut at fixed places (at most [`BLOCK_ROWS`] value rows, never
//! across two items), grouped into fixed chunks of [`CHUNK_ROWS`] value rows whose partial
//! dL/dW are summed in chunk order, and the film gradient is summed per item in block order,
//! so results do not depend on the thread count or on which thread ran which chunk.

use rayon::prelude::*;

use super::dims::{Backward, Dims};
use super::panels::{self, PackedB};
use super::pool;

/// Value rows per block (with as many tangent rows when stacked): with its x rows and the
/// weights, a block stays in a core's L2.
const BLOCK_ROWS: usize = 96;
/// Value rows whose shares of dL/dW make one partial sum (one rayon task).
const CHUNK_ROWS: usize = 2048;
/// Narrower layers keep the separate passes: the first layer reads one coordinate, and a
/// one-column dL/dW would leave 15 of the tile's 16 lanes idle.
const MIN_INPUTS: usize = 16;
/// Elements of dL/dW each task sums over the partials.
const SUM_ELEMENTS: usize = 4096;

/// Whether [`backward`] serves a layer of these sizes on this CPU (the panel kernel's AVX-512F).
pub(super) fn applies(d: Dims) -> bool {
    panels::available() && d.inputs >= MIN_INPUTS && d.outputs > 0 && d.points > 0
}

/// One block's rows of dL/dy `[rows, out]`, which the caller's pull-back turns into dL/dp in
/// place.
pub(super) struct Block<'a> {
    /// The batch item the rows belong to.
    pub item: usize,
    /// The block's first value row within its item.
    pub start: usize,
    /// The value rows.
    pub values: &'a mut [f32],
    /// The tangent rows of the same points (stacked layout only).
    pub tangents: Option<&'a mut [f32]>,
}

/// What one chunk's task sums: its share of dL/dW and each block's film gradient, by item.
struct ChunkSums {
    grad_w: Vec<f32>,
    films: Vec<(usize, Vec<f32>)>,
}

/// A block and where its rows of dL/dx go.
struct Task<'a> {
    block: Block<'a>,
    grad_values: Option<&'a mut [f32]>,
    grad_tangents: Option<&'a mut [f32]>,
}

/// The backward of `p = x W^T` for dL/dy `grad` `[items, rows_per_item, out]` (each item's
/// `points` value rows, then as many tangent rows when `stacked`), x `[items, rows_per_item,
/// in]` and W `[out, in]`. For each block, `pull(block, acc)` turns the block's dL/dy into
/// dL/dp in place and adds the block's film gradient (`[scale; shift]`, `2 out`) into `acc`;
/// then the block's dL/dx rows (when `want_x`) and its share of dL/dW follow. `grad` ends as
/// dL/dp.
///
/// Panics if the sizes disagree or [`applies`] is false.
pub(super) fn backward(
    d: Dims,
    stacked: bool,
    grad: &mut [f32],
    x: &[f32],
    w: &[f32],
    want_x: bool,
    pull: impl Fn(&mut Block, &mut [f32]) + Sync,
) -> Backward {
    assert!(applies(d), "the blocked backward does not serve {d:?}");
    let (out, inputs, points) = (d.outputs, d.inputs, d.points);
    let rows_per_item = if stacked { 2 * points } else { points };
    assert_eq!(grad.len(), d.items * rows_per_item * out, "dL/dy size");
    assert_eq!(x.len(), d.items * rows_per_item * inputs, "x size");
    assert_eq!(w.len(), out * inputs, "W size");
    let packed = want_x.then(|| PackedB::plain(w, out, inputs));
    let mut grad_x = want_x.then(|| pool::take(d.items * rows_per_item * inputs));
    let chunks = tasks(d, stacked, grad, grad_x.as_deref_mut());
    let done: Vec<ChunkSums> = chunks
        .into_par_iter()
        .map(|chunk| {
            let mut grad_w = pool::take(out * inputs);
            grad_w.fill(0.0);
            let mut films = Vec::with_capacity(chunk.len());
            let mut x_panels = PackedB::plain(&[], 0, inputs);
            for mut task in chunk {
                let mut acc = vec![0.0; 2 * out];
                pull(&mut task.block, &mut acc);
                let Block {
                    item,
                    start,
                    values,
                    tangents,
                } = task.block;
                let first = item * rows_per_item + start;
                let rows = values.len() / out;
                let x_rows = |first: usize| &x[first * inputs..(first + rows) * inputs];
                let mut products = |grad_w: &mut [f32], g: &[f32], gx: Option<&mut [f32]>, at| {
                    if let (Some(gx), Some(packed)) = (gx, packed.as_ref()) {
                        panels::multiply_here(gx, g, packed);
                    }
                    x_panels.repack_plain(x_rows(at), rows, inputs);
                    panels::add_transposed_product(grad_w, g, &x_panels, out);
                };
                products(&mut grad_w, values, task.grad_values, first);
                if let Some(t) = tangents {
                    products(&mut grad_w, t, task.grad_tangents, first + points);
                }
                films.push((item, acc));
            }
            ChunkSums { grad_w, films }
        })
        .collect();
    let mut grad_w = vec![0.0; out * inputs];
    grad_w
        .par_chunks_mut(SUM_ELEMENTS)
        .enumerate()
        .for_each(|(part, sum)| {
            for chunk in &done {
                let partial = &chunk.grad_w[part * SUM_ELEMENTS..][..sum.len()];
                sum.iter_mut().zip(partial).for_each(|(s, p)| *s += p);
            }
        });
    let mut grad_film = vec![0.0; d.items * 2 * out];
    for chunk in done {
        pool::give(chunk.grad_w);
        for (item, acc) in chunk.films {
            let sum = &mut grad_film[item * 2 * out..][..2 * out];
            sum.iter_mut().zip(&acc).for_each(|(s, a)| *s += a);
        }
    }
    Backward {
        x: grad_x,
        weight: grad_w,
        film: grad_film,
    }
}

/// Cuts dL/dy and dL/dx into blocks, grouped by the chunk of their first value row.
fn tasks<'a>(
    d: Dims,
    stacked: bool,
    grad: &'a mut [f32],
    mut grad_x: Option<&'a mut [f32]>,
) -> Vec<Vec<Task<'a>>> {
    let (out, inputs, points) = (d.outputs, d.inputs, d.points);
    let mut chunks: Vec<Vec<Task>> = (0..(d.items * points).div_ceil(CHUNK_ROWS))
        .map(|_| Vec::new())
        .collect();
    let item_rows = if stacked { 2 * points } else { points };
    for (item, g) in grad.chunks_mut(item_rows * out).enumerate() {
        let (mut values, mut tangents) = split_item(g, stacked, points * out);
        let (mut gx_values, mut gx_tangents) = match &mut grad_x {
            Some(rest) => {
                let (v, t) = split_item(take(rest, item_rows * inputs), stacked, points * inputs);
                (Some(v), t)
            }
            None => (None, None),
        };
        for start in (0..points).step_by(BLOCK_ROWS) {
            let rows = BLOCK_ROWS.min(points - start);
            let block = Block {
                item,
                start,
                values: take(&mut values, rows * out),
                tangents: tangents.as_mut().map(|t| take(t, rows * out)),
            };
            chunks[(item * points + start) / CHUNK_ROWS].push(Task {
                block,
                grad_values: gx_values.as_mut().map(|v| take(v, rows * inputs)),
                grad_tangents: gx_tangents.as_mut().map(|t| take(t, rows * inputs)),
            });
        }
    }
    chunks
}

/// An item's rows as (value rows, tangent rows when stacked), `values` elements first.
fn split_item(rows: &mut [f32], stacked: bool, values: usize) -> (&mut [f32], Option<&mut [f32]>) {
    if stacked {
        let (v, t) = rows.split_at_mut(values);
        (v, Some(t))
    } else {
        (rows, None)
    }
}

/// The first `len` elements of `rest`, which keeps the others.
fn take<'a>(rest: &mut &'a mut [f32], len: usize) -> &'a mut [f32] {
    let (head, tail) = std::mem::take(rest).split_at_mut(len);
    *rest = tail;
    head
}
