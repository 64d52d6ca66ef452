//! The ISA-generic forward pass over one chunk of at most [`BLOCK`] coordinates.
//!
//! Activations live feature-major, `[row][BLOCK]`. A chunk of more than half a vector of
//! coordinates runs the register-tiled block kernel ([`super::wide`]); a shorter one, where most
//! lanes of a coordinate vector would be wasted, runs the matrix–vector kernel
//! ([`super::narrow`]) that puts output rows in the lanes instead. Both apply the FiLM
//! modulation, its per-sample ramp and the activation (the sine included) to each tile right
//! after its reduction, while it is in L1. The first layer runs in f64 ([`super::first`]).
//! Integer panels (compact presets on a CPU with AVX-512 VNNI) run the whole chunk in the VNNI
//! kernels instead (`super::vnni`).

use super::activation::{IDENTITY, LEAKY, SINE};
pub(crate) use super::chunk::Chunk;
use super::simd::{PanelWeight, Simd};
use super::{first, narrow, wide};
use crate::evaluator::packed::Columns;
use crate::evaluator::scratch::BLOCK;
use crate::evaluator::sine::sin_v;
use crate::evaluator::weights::Activation;

/// The whole network on one chunk.
///
/// # Safety
/// `S` must be available, `M` must be the wide panel height and `S::LANES` the narrow one the
/// network was packed with, `NV ≤ 4` with `NV · LANES` dividing [`BLOCK`], and the chunk's
/// buffers must be sized for the network.
#[inline(always)]
pub(crate) unsafe fn forward<S: Simd, const M: usize, const NV: usize>(chunk: Chunk<'_>) {
    let net = chunk.net;
    let narrow = 2 * chunk.out.len() <= S::LANES;
    match &net.columns {
        // SAFETY: integer panels are only built where the VNNI kernels run (`Columns::new`).
        #[cfg(target_arch = "x86_64")]
        Columns::I16(q) => super::vnni::forward(chunk, q),
        _ if !narrow => layers::<S, M, NV, f32>(chunk, None),
        Columns::F32(c) => layers::<S, M, NV, f32>(chunk, Some(c.as_ptr())),
        Columns::F16(c) => layers::<S, M, NV, u16>(chunk, Some(c.as_ptr())),
    }
}

/// The layers after the first one by one: the block kernel, or, given the narrow panels
/// `columns` (stored as `W`), the few-coordinate kernel.
#[inline(always)]
unsafe fn layers<S: Simd, const M: usize, const NV: usize, W: PanelWeight>(
    chunk: Chunk<'_>,
    columns: Option<*const W>,
) {
    let Chunk {
        net,
        first,
        params,
        params_soa,
        scratch,
        out,
    } = chunk;
    let n = out.len();
    let vectors = n.div_ceil(S::LANES);
    let lanes = vectors * S::LANES;
    let mut src = scratch.h_a.as_mut_ptr();
    let mut dst = scratch.h_b.as_mut_ptr();
    if columns.is_some() {
        first::narrow::<S>(net, first, scratch, n, src);
    } else {
        first::wide::<S>(net, first, scratch, lanes, src);
    }
    let frac = scratch.frac32.as_ptr();
    for layer in &net.layers {
        if layer.k > layer.in_features {
            let time_row = src.add(layer.in_features * BLOCK);
            std::ptr::copy_nonoverlapping(scratch.t32.as_ptr(), time_row, lanes);
        }
        if let Some(columns) = columns {
            let (c, p) = (
                columns.add(layer.column),
                params_soa.as_ptr().add(layer.soa),
            );
            narrow::layer::<S, W>(layer, c, p, frac, n, src, dst);
        } else {
            let panels = net.panels.as_ptr().add(layer.panel);
            let p = params.as_ptr().add(layer.param);
            match layer.activation {
                Activation::Sine => {
                    wide::dense::<S, M, NV, SINE>(layer, panels, p, frac, vectors, src, dst)
                }
                Activation::LeakyRelu => {
                    wide::dense::<S, M, NV, LEAKY>(layer, panels, p, frac, vectors, src, dst)
                }
                Activation::Identity => {
                    wide::dense::<S, M, NV, IDENTITY>(layer, panels, p, frac, vectors, src, dst)
                }
            }
        }
        std::mem::swap(&mut src, &mut dst);
    }
    std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), n);
}

/// The sine of every value of `xs`, whole vectors in place and the tail through a stack buffer.
///
/// # Safety
/// `S` must be available.
#[inline(always)]
pub(crate) unsafe fn sin_slice<S: Simd>(xs: &mut [f32]) {
    let mut chunks = xs.chunks_exact_mut(S::LANES);
    for c in &mut chunks {
        S::store(c.as_mut_ptr(), sin_v::<S>(S::load(c.as_ptr())));
    }
    let tail = chunks.into_remainder();
    let mut buf = [0.0f32; 16];
    buf[..tail.len()].copy_from_slice(tail);
    S::store(buf.as_mut_ptr(), sin_v::<S>(S::load(buf.as_ptr())));
    tail.copy_from_slice(&buf[..tail.len()]);
}
