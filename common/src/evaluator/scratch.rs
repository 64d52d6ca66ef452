//! Per-voice working memory, allocated once so that rendering never allocates.

use super::packed::{Columns, Packed};

/// Most coordinates the VNNI kernel runs at once (the narrow kernels' limit on AVX-512).
pub(crate) const COORDS: usize = 8;

/// Coordinates evaluated together: the width of the activation buffers and the largest chunk
/// a render call is cut into (a multiple of every ISA's tile width).
pub const BLOCK: usize = 64;

/// One cache line of f32, so that buffers built from it are 64-byte aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

/// A zeroed, 64-byte-aligned f32 buffer.
pub(crate) struct AlignedBuf(Vec<Line>);

impl AlignedBuf {
    /// A buffer of at least `len` zeros.
    pub(crate) fn zeroed(len: usize) -> AlignedBuf {
        AlignedBuf(vec![Line([0.0; 16]); len.div_ceil(16)])
    }

    /// Pointer to the first value; the buffer holds whole lines of 16 values.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut f32 {
        self.0.as_mut_ptr().cast()
    }
}

/// Activation buffers and the per-sample inputs of the chunk being rendered.
pub(crate) struct Scratch {
    /// Ping activation buffer, `[row][BLOCK]`.
    pub h_a: AlignedBuf,
    /// Pong activation buffer, `[row][BLOCK]`.
    pub h_b: AlignedBuf,
    /// One coordinate's first-layer values across units (few-coordinate kernel).
    pub col: AlignedBuf,
    /// Time coordinate of each sample, f64 (first layer).
    pub t64: [f64; BLOCK],
    /// Time coordinate of each sample, f32 (time columns of concat layers).
    pub t32: [f32; BLOCK],
    /// Ramp fraction of each sample, f64 (first layer).
    pub frac64: [f64; BLOCK],
    /// Ramp fraction of each sample, f32 (later layers).
    pub frac32: [f32; BLOCK],
    /// Coordinate-major activations of the VNNI kernel, `[coordinate][row]` (ping).
    pub coords_a: AlignedBuf,
    /// The same (pong).
    pub coords_b: AlignedBuf,
    /// The VNNI kernels' quantized inputs, i16 pairs in 32-bit words: `coord_stride / 2` per
    /// coordinate (few samples) or `[pair][BLOCK]` (blocks).
    pub quantized: Vec<i32>,
    /// Rows per coordinate in `coords_a` and `coords_b` (a multiple of 16).
    pub coord_stride: usize,
}

impl Scratch {
    /// Buffers sized for `net`.
    pub(crate) fn new(net: &Packed) -> Scratch {
        let len = net.buffer_rows * BLOCK;
        // Only integer panels run the coordinate-major VNNI kernel.
        let coord_stride = match net.columns {
            #[cfg(target_arch = "x86_64")]
            Columns::I16(_) => net.buffer_rows.next_multiple_of(16),
            _ => 0,
        };
        let coords = COORDS * coord_stride;
        Scratch {
            h_a: AlignedBuf::zeroed(len),
            h_b: AlignedBuf::zeroed(len),
            col: AlignedBuf::zeroed(net.first_weight.len()),
            t64: [0.0; BLOCK],
            t32: [0.0; BLOCK],
            frac64: [0.0; BLOCK],
            frac32: [0.0; BLOCK],
            coords_a: AlignedBuf::zeroed(coords),
            coords_b: AlignedBuf::zeroed(coords),
            quantized: vec![0; coord_stride / 2 * BLOCK.max(COORDS)],
            coord_stride,
        }
    }

    /// Fills the per-sample inputs for samples `start..start + BLOCK` of a call of `len` samples:
    /// `t = t0 + i·dt` computed in f64 from the sample index (no accumulated drift) and the ramp
    /// fraction `(i + 1) / len`, clamped to 1.
    pub(crate) fn fill_inputs(&mut self, t0: f64, dt: f64, start: usize, len: usize) {
        let inv = 1.0 / len as f64;
        for (i, (((t64, t32), f64_), f32_)) in self
            .t64
            .iter_mut()
            .zip(&mut self.t32)
            .zip(&mut self.frac64)
            .zip(&mut self.frac32)
            .enumerate()
        {
            let index = (start + i) as f64;
            *t64 = t0 + index * dt;
            *t32 = *t64 as f32;
            *f64_ = ((index + 1.0) * inv).min(1.0);
            *f32_ = *f64_ as f32;
        }
    }
}
