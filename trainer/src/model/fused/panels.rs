//! `C = A B` for a long row-major A (the fused layers' activations or their gradients) and a
//! small B packed once into column panels (a layer's weights): an AVX-512F register-tile
//! kernel for the forward's `x W^T` and the backward's `(dL/dp) W`, and the same tile turned
//! for a block's share of `dL/dW = (dL/dp)^T x` ([`add_transposed_product`]).
//!
//! Each tile is 6 rows of A by one panel of up to 4 vectors of 16 columns of B: 24
//! accumulators in zmm registers; every step of the reduction loads the panel's row once and
//! broadcasts 6 elements of A. The reduction runs in blocks of [`REDUCTION_BLOCK`] steps, so
//! that a block of a panel (32 KB) stays in L1 while all the tiles of a call pass over it; a
//! tile's partial sums go to C between blocks and come back, which continues the same sum in
//! the same order. Rows are handed to the threads in groups of 96, so that a group's A stays in
//! the core's L2 while it sweeps the panels and each block of a panel serves 16 tiles, and
//! while a group computes, its tiles prefetch the next 96 rows of A into L2;
//! [`multiply_activate`] also takes the group's sines and cosines (a FiLM-sine layer's
//! forward) while its products are in cache. Blocking the reduction and the row groups is
//! what brings the product near the core's FP32 peak, above the `gemm` crate's (the figures
//! per machine are in BENCHMARKS.md, "Training throughput"). Each element is
//! one dot product summed in index order, so results do not depend on the thread count.
//! Where AVX-512F is missing, [`available`] is false and the callers use `gemm`.

use rayon::prelude::*;

use super::pool;

/// f32 lanes of one zmm vector.
const LANES: usize = 16;
/// Columns of one panel: four vectors.
const PANEL: usize = 4 * LANES;
/// Rows of A in one register tile.
const TILE_ROWS: usize = 6;
/// Rows of A handed to one thread at a time (sixteen tiles; the fd step ran 2–5% faster than
/// with four in most of eight alternating runs).
const ROWS_PER_TASK: usize = 16 * TILE_ROWS;
/// Reduction steps per sweep of a panel: 128 rows of a 64-column panel are 32 KB, which stay
/// in a 48 KB L1 next to the tiles' rows of A (the whole 256-step panel, 64 KB, did not).
const REDUCTION_BLOCK: usize = 128;

/// Whether this CPU runs the panel kernel.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// B `[k, n]` packed as column panels: panel `j` holds columns `64 j ..` as `k` rows of its
/// width rounded up to whole vectors (zero-padded). The buffer comes from and returns to the
/// pool: a fresh one each step would cost page faults.
pub struct PackedB {
    data: Vec<f32>,
    k: usize,
    n: usize,
}

impl PackedB {
    /// Packs `B[i][c] = at(i, c)` for `i < k`, `c < n`.
    fn pack(k: usize, n: usize, at: impl Fn(usize, usize) -> f32) -> PackedB {
        let mut data = pool::take(k * n.next_multiple_of(LANES));
        let mut at_slot = 0;
        for first in (0..n).step_by(PANEL) {
            let width = (n - first).min(PANEL).next_multiple_of(LANES);
            for i in 0..k {
                for c in first..first + width {
                    data[at_slot] = if c < n { at(i, c) } else { 0.0 };
                    at_slot += 1;
                }
            }
        }
        PackedB { data, k, n }
    }

    /// B = W^T for a row-major W `[n, k]` (the forward's `x W^T`).
    pub fn transposed(w: &[f32], n: usize, k: usize) -> PackedB {
        assert_eq!(w.len(), n * k, "weight size");
        PackedB::pack(k, n, |i, c| w[c * k + i])
    }

    /// B as given, row-major `[k, n]` (the backward's `(dL/dp) W`, and a block's x for its
    /// share of dL/dW): each panel row is a run of B's row, copied whole.
    pub fn plain(b: &[f32], k: usize, n: usize) -> PackedB {
        let mut packed = PackedB {
            data: pool::take(k * n.next_multiple_of(LANES)),
            k,
            n,
        };
        packed.repack_plain(b, k, n);
        packed
    }

    /// [`PackedB::plain`] into this buffer: the blocked backward packs each block's x rows
    /// into the same one, with no allocation and no zeroing before the copy.
    pub fn repack_plain(&mut self, b: &[f32], k: usize, n: usize) {
        assert_eq!(b.len(), k * n, "matrix size");
        self.data.resize(k * n.next_multiple_of(LANES), 0.0);
        (self.k, self.n) = (k, n);
        let mut at = 0;
        for first in (0..n).step_by(PANEL) {
            let width = (n - first).min(PANEL);
            let padded = width.next_multiple_of(LANES);
            for row in b.chunks_exact(n) {
                self.data[at..at + width].copy_from_slice(&row[first..first + width]);
                self.data[at + width..at + padded].fill(0.0);
                at += padded;
            }
        }
    }
}

impl Drop for PackedB {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

/// `c = a b` for a row-major `a` `[rows, k]` and `c` `[rows, n]`, rows split over rayon's
/// threads.
///
/// Panics if the sizes disagree or this CPU lacks AVX-512F (see [`available`]).
pub fn multiply(c: &mut [f32], a: &[f32], b: &PackedB) {
    let (k, n) = (b.k, b.n);
    assert!(k > 0 && n > 0, "empty product");
    assert_eq!(a.len() % k, 0, "a is not [rows, k]");
    let rows = a.len() / k;
    assert_eq!(c.len(), rows * n, "c is not [rows, n]");
    assert!(available(), "the panel kernel needs AVX-512F");
    c.par_chunks_mut(ROWS_PER_TASK * n)
        .zip(a.par_chunks(ROWS_PER_TASK * k))
        .for_each(|(c, a)| {
            // SAFETY: AVX-512F is available (asserted above); `a` holds whole rows of `k`
            // and `c` the same number of rows of `n`, and `b` was packed for `k` and `n`.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                avx512::rows(c, a, b)
            };
        });
}

/// [`multiply`] on the calling thread alone: for a block of rows inside a task of its own
/// (the blocked backward's dL/dx).
///
/// Panics if the sizes disagree or this CPU lacks AVX-512F (see [`available`]).
pub fn multiply_here(c: &mut [f32], a: &[f32], b: &PackedB) {
    let (k, n) = (b.k, b.n);
    assert!(k > 0 && n > 0, "empty product");
    assert_eq!(a.len() % k, 0, "a is not [rows, k]");
    assert_eq!(c.len(), a.len() / k * n, "c is not [rows, n]");
    assert!(available(), "the panel kernel needs AVX-512F");
    // SAFETY: AVX-512F is available (asserted above); `a` holds whole rows of `k` and `c` the
    // same number of rows of `n`, and `b` was packed for `k` and `n`.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        avx512::rows(c, a, b)
    };
}

/// `c += a^T b` for a row-major `a` `[rows, m]`, `b` `[rows, n]` packed by
/// [`PackedB::plain`], and `c` `[m, n]`, on the calling thread: a block's share of
/// dL/dW = (dL/dp)^T x while the block is in cache.
///
/// The same register tile as [`multiply`], turned: 6 rows of `c` (6 columns of `a`,
/// broadcast) by a panel of 64 columns (a row of `b`'s panel, 4 vectors), over the block's
/// rows. Packed, a panel's rows lie next to each other and stay in L1 while all of `c`'s rows
/// pass over them (rows of `b` 1 KB apart would fall into a quarter of L1's sets). Each
/// element of `c` gets the block's products added one row after the other, in row order.
///
/// Panics if the sizes disagree or this CPU lacks AVX-512F (see [`available`]).
pub fn add_transposed_product(c: &mut [f32], a: &[f32], b: &PackedB, m: usize) {
    let (rows, n) = (b.k, b.n);
    assert!(m > 0 && n > 0, "empty product");
    assert_eq!(a.len(), rows * m, "a is not [rows, m]");
    assert_eq!(c.len(), m * n, "c is not [m, n]");
    assert!(available(), "the panel kernel needs AVX-512F");
    // SAFETY: AVX-512F is available (asserted above) and the sizes were checked.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        avx512::add_transposed(c, a, b, m)
    };
}

/// The forward of a FiLM-sine layer on the panel kernel: `p = a b` as [`multiply`] computes
/// it, and with it `(sin, cos)` of `scale ⊙ p + shift` for each thread's group of rows right
/// after its product, while those rows are in cache (rather than in a second pass that reads
/// `p` back from memory). Row `r` takes the scale and shift of item `r / points` from `film`
/// `[items, 2, n]`.
///
/// Panics if the sizes disagree or this CPU lacks AVX-512F (see [`available`]).
pub fn multiply_activate(
    p: &mut [f32],
    sin: &mut [f32],
    cos: &mut [f32],
    a: &[f32],
    b: &PackedB,
    film: &[f32],
    points: usize,
) {
    let (k, n) = (b.k, b.n);
    assert!(k > 0 && n > 0 && points > 0, "empty product");
    assert_eq!(a.len() % k, 0, "a is not [rows, k]");
    let rows = a.len() / k;
    assert!(
        p.len() == rows * n && sin.len() == rows * n && cos.len() == rows * n,
        "p, sin and cos are not [rows, n]"
    );
    assert_eq!(
        film.len(),
        rows.div_ceil(points) * 2 * n,
        "film is not [items, 2, n]"
    );
    assert!(available(), "the panel kernel needs AVX-512F");
    p.par_chunks_mut(ROWS_PER_TASK * n)
        .zip(a.par_chunks(ROWS_PER_TASK * k))
        .zip(sin.par_chunks_mut(ROWS_PER_TASK * n))
        .zip(cos.par_chunks_mut(ROWS_PER_TASK * n))
        .enumerate()
        .for_each(|(task, (((p, a), sin), cos))| {
            // SAFETY: AVX-512F is available (asserted above); the chunks hold the same whole
            // rows of `k` (a) and `n` (p, sin, cos), and `b` was packed for `k` and `n`.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                avx512::rows(p, a, b);
                avx512::activate(task * ROWS_PER_TASK, p, sin, cos, film, points, n);
            };
        });
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::super::layer::activate_rows;
    use super::{PackedB, LANES, PANEL, REDUCTION_BLOCK, TILE_ROWS};

    /// `c = a b` for whole rows of `a` `[rows, k]` into `c` `[rows, n]`, panel by panel.
    ///
    /// # Safety
    /// AVX-512F must be available; `a.len() = rows·k`, `c.len() = rows·n` for `b`'s k and n.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn rows(c: &mut [f32], a: &[f32], b: &PackedB) {
        let (k, n) = (b.k, b.n);
        let rows = a.len() / k;
        // The next rows of A (as many as this call's) are prefetched in equal shares over the
        // call's tiles: read cold from memory, they were what the forward waited on.
        let runs = n.div_ceil(PANEL) * k.div_ceil(REDUCTION_BLOCK) * rows.div_ceil(TILE_ROWS);
        let ahead_lines = (rows * k).div_ceil(LANES).div_ceil(runs);
        let mut ahead = a.as_ptr().wrapping_add(rows * k);
        for (first, panel, vectors, tail) in panels(b) {
            for from in (0..k).step_by(REDUCTION_BLOCK) {
                for r in (0..rows).step_by(TILE_ROWS) {
                    let at = ahead;
                    ahead = ahead.wrapping_add(ahead_lines * LANES);
                    Tile {
                        ahead: at,
                        ahead_lines,
                        a: a.as_ptr().add(r * k),
                        row_stride: k,
                        step_stride: 1,
                        steps: from..(from + REDUCTION_BLOCK).min(k),
                        resume: from > 0,
                        panel,
                        stride: vectors * LANES,
                        c: c.as_mut_ptr().add(r * n + first),
                        n,
                        tail,
                    }
                    .run_any((rows - r).min(TILE_ROWS), vectors);
                }
            }
        }
    }

    /// `c += a^T b` (see [`super::add_transposed_product`]): the same tiles with `a` read
    /// down its columns, over all of `b`'s rows at once.
    ///
    /// # Safety
    /// AVX-512F must be available; `a.len() = b.k·m`, `c.len() = m·b.n`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn add_transposed(c: &mut [f32], a: &[f32], b: &PackedB, m: usize) {
        let (rows, n) = (b.k, b.n);
        for (first, panel, vectors, tail) in panels(b) {
            for o in (0..m).step_by(TILE_ROWS) {
                Tile {
                    ahead: std::ptr::null(),
                    ahead_lines: 0,
                    a: a.as_ptr().add(o),
                    row_stride: 1,
                    step_stride: m,
                    steps: 0..rows,
                    resume: true,
                    panel,
                    stride: vectors * LANES,
                    c: c.as_mut_ptr().add(o * n + first),
                    n,
                    tail,
                }
                .run_any((m - o).min(TILE_ROWS), vectors);
            }
        }
    }

    /// `b`'s panels in order: (first column, start, vectors, mask of the last vector's lanes
    /// inside `b`).
    fn panels(b: &PackedB) -> impl Iterator<Item = (usize, *const f32, usize, __mmask16)> + '_ {
        (0..b.n).step_by(PANEL).map(move |first| {
            let width = (b.n - first).min(PANEL);
            let tail = match width % LANES {
                0 => __mmask16::MAX,
                w => (1 << w) - 1,
            };
            // Every panel before this one is `k` rows of PANEL columns (only the last is
            // narrower), so this one starts `k·first` elements in.
            let start = b.data[b.k * first..].as_ptr();
            (first, start, width.div_ceil(LANES), tail)
        })
    }

    /// `(sin, cos)(scale ⊙ p + shift)` for the rows of `p` starting at row `first_row`.
    ///
    /// # Safety
    /// AVX-512F must be available.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn activate(
        first_row: usize,
        p: &[f32],
        sin: &mut [f32],
        cos: &mut [f32],
        film: &[f32],
        points: usize,
        n: usize,
    ) {
        activate_rows(first_row, p, sin, cos, film, points, n);
    }

    /// One register tile's operands: up to 6 rows of C by one panel, summed over `steps`.
    /// Element (r, i) of A, the tile's row r at reduction step i, is at
    /// `a + r·row_stride + i·step_stride`: rows of A for `C = A B`, columns of A for
    /// `C += Aᵀ B`.
    struct Tile {
        /// Where this tile's share of A's next rows starts: the rows after the call's own, which
        /// the same thread most likely multiplies next, taken into L2 while this tile computes
        /// (a prefetch past A's end is harmless: it never faults and loads nothing).
        ahead: *const f32,
        /// Cache lines of that share, one prefetched every 8 steps.
        ahead_lines: usize,
        /// A's element (0, 0) for this tile.
        a: *const f32,
        /// Distance in A between the tile's consecutive rows.
        row_stride: usize,
        /// Distance in A between consecutive reduction steps.
        step_stride: usize,
        /// The reduction steps this call adds (rows of the panel).
        steps: std::ops::Range<usize>,
        /// Whether the sums start from what C holds (a later reduction block, or an
        /// accumulating product) rather than from zero.
        resume: bool,
        /// The panel (row stride `stride`).
        panel: *const f32,
        /// The panel's padded width.
        stride: usize,
        /// The tile's first element of C (row stride `n`).
        c: *mut f32,
        /// C's row stride.
        n: usize,
        /// Which lanes of the tile's last vector lie inside C.
        tail: __mmask16,
    }

    impl Tile {
        /// `rows` rows (at most [`TILE_ROWS`]) by a panel of `vectors` vectors (at most 4).
        #[inline(always)]
        unsafe fn run_any(&self, rows: usize, vectors: usize) {
            match (rows, vectors) {
                (6, 4) => self.run::<6, 4>(),
                (6, 3) => self.run::<6, 3>(),
                (6, 2) => self.run::<6, 2>(),
                (6, _) => self.run::<6, 1>(),
                (5, 4) => self.run::<5, 4>(),
                (5, 3) => self.run::<5, 3>(),
                (5, 2) => self.run::<5, 2>(),
                (5, _) => self.run::<5, 1>(),
                (4, 4) => self.run::<4, 4>(),
                (4, 3) => self.run::<4, 3>(),
                (4, 2) => self.run::<4, 2>(),
                (4, _) => self.run::<4, 1>(),
                (3, 4) => self.run::<3, 4>(),
                (3, 3) => self.run::<3, 3>(),
                (3, 2) => self.run::<3, 2>(),
                (3, _) => self.run::<3, 1>(),
                (2, 4) => self.run::<2, 4>(),
                (2, 3) => self.run::<2, 3>(),
                (2, 2) => self.run::<2, 2>(),
                (2, _) => self.run::<2, 1>(),
                (_, 4) => self.run::<1, 4>(),
                (_, 3) => self.run::<1, 3>(),
                (_, 2) => self.run::<1, 2>(),
                (_, _) => self.run::<1, 1>(),
            }
        }

        /// `M` rows by `NV` vectors, accumulated over the steps and stored once. Indexed loops
        /// with constant bounds, so that they unroll and the accumulators stay in registers.
        #[inline(always)]
        #[allow(clippy::needless_range_loop)]
        unsafe fn run<const M: usize, const NV: usize>(&self) {
            debug_assert!(M <= TILE_ROWS && NV * LANES <= self.stride);
            let mask = |v: usize| {
                if v + 1 == NV {
                    self.tail
                } else {
                    __mmask16::MAX
                }
            };
            let mut acc = [[_mm512_setzero_ps(); NV]; M];
            if self.resume {
                for r in 0..M {
                    for v in 0..NV {
                        let at = self.c.add(r * self.n + v * LANES);
                        acc[r][v] = _mm512_maskz_loadu_ps(mask(v), at);
                    }
                }
            }
            for i in self.steps.clone() {
                let j = i - self.steps.start;
                if j.is_multiple_of(8) && j / 8 < self.ahead_lines {
                    _mm_prefetch::<_MM_HINT_T1>(self.ahead.wrapping_add(j * 2).cast());
                }
                let row = self.panel.add(i * self.stride);
                let mut b = [_mm512_setzero_ps(); NV];
                for v in 0..NV {
                    b[v] = _mm512_loadu_ps(row.add(v * LANES));
                }
                let a = self.a.add(i * self.step_stride);
                for r in 0..M {
                    let x = _mm512_set1_ps(*a.add(r * self.row_stride));
                    for v in 0..NV {
                        acc[r][v] = _mm512_fmadd_ps(x, b[v], acc[r][v]);
                    }
                }
            }
            for r in 0..M {
                for v in 0..NV {
                    let at = self.c.add(r * self.n + v * LANES);
                    _mm512_mask_storeu_ps(at, mask(v), acc[r][v]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        add_transposed_product, available, multiply, multiply_activate, multiply_here, PackedB,
    };
    use crate::model::fused::layer::activate_rows;
    use crate::model::fused::tests::values;

    /// The fused product-and-sines gives bit for bit what the product followed by a separate
    /// pass gives, with items that straddle the threads' row groups (7 points per item against
    /// groups of 24 rows) and a last item cut short.
    #[test]
    fn multiply_activate_equals_the_two_passes() {
        if !available() {
            return;
        }
        for (rows, k, n, points) in [(61, 33, 40, 7), (100, 256, 96, 25), (5, 1, 17, 5)] {
            let a = values(rows * k, 7);
            let w = values(n * k, 8);
            let items = rows.div_ceil(points);
            let film: Vec<f32> = values(items * 2 * n, 9).iter().map(|v| 30.0 * v).collect();
            let b = PackedB::transposed(&w, n, k);
            let (mut p, mut s, mut c) = (
                vec![0.0; rows * n],
                vec![0.0; rows * n],
                vec![0.0; rows * n],
            );
            multiply_activate(&mut p, &mut s, &mut c, &a, &b, &film, points);
            let mut p2 = vec![0.0; rows * n];
            multiply(&mut p2, &a, &b);
            let (mut s2, mut c2) = (vec![0.0; rows * n], vec![0.0; rows * n]);
            activate_rows(0, &p2, &mut s2, &mut c2, &film, points, n);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&p), bits(&p2), "{rows}x{k}x{n}: products");
            // Both evaluate the same scalar formula, vectorised or not; Rust contracts no
            // multiply-add into an FMA, so the bits agree.
            assert_eq!(bits(&s), bits(&s2), "{rows}x{k}x{n}: sines");
            assert_eq!(bits(&c), bits(&c2), "{rows}x{k}x{n}: cosines");
        }
    }

    /// (rows, reduction, columns) covering every tile height, panel width and column
    /// remainder, and reductions shorter and longer than a reduction block.
    const SHAPES: [(usize, usize, usize); 9] = [
        (1, 1, 1),
        (5, 3, 15),
        (6, 7, 16),
        (7, 1, 17),
        (13, 20, 64),
        (25, 9, 65),
        (49, 33, 96),
        (30, 256, 130),
        (100, 300, 256),
    ];

    /// Asserts `got[r * cols + c]` within `tolerance` of `exact(r, c)` for every element.
    fn assert_near(
        got: &[f32],
        cols: usize,
        tolerance: f64,
        exact: impl Fn(usize, usize) -> f64,
        what: &str,
    ) {
        for (e, &g) in got.iter().enumerate() {
            let (r, c) = (e / cols, e % cols);
            let want = exact(r, c);
            let err = (f64::from(g) - want).abs();
            assert!(err <= tolerance, "{what} ({r}, {c}): {g} vs {want}");
        }
    }

    /// Every tile shape and column remainder against an f64 product: within 1e-6 per term
    /// summed (terms are products of values in [-1, 1), summed in f32). On a CPU without
    /// AVX-512F the kernel is never used, and there is nothing to test.
    #[test]
    fn matches_an_f64_product_for_every_tile_and_panel_shape() {
        if !available() {
            return;
        }
        for (rows, k, n) in SHAPES {
            let a = values(rows * k, 1);
            let w = values(n * k, 2);
            let mut c = vec![f32::NAN; rows * n];
            multiply(&mut c, &a, &PackedB::transposed(&w, n, k));
            let mut c_plain = vec![f32::NAN; rows * n];
            let w_t: Vec<f32> = (0..k * n).map(|e| w[(e % n) * k + e / n]).collect();
            multiply(&mut c_plain, &a, &PackedB::plain(&w_t, k, n));
            let exact = |r: usize, col: usize| {
                (0..k)
                    .map(|i| f64::from(a[r * k + i]) * f64::from(w[col * k + i]))
                    .sum()
            };
            for (got, form) in [(&c, "W^T"), (&c_plain, "W")] {
                assert_near(
                    got,
                    n,
                    1e-6 * k as f64,
                    exact,
                    &format!("{form} {rows}x{k}x{n}"),
                );
            }
        }
    }

    /// `c += a^T b` against an f64 sum for every tile and column remainder (1e-6 per term, as
    /// above, on top of what `c` held), and the one-thread product bit for bit against the
    /// threaded one.
    #[test]
    fn transposed_product_matches_an_f64_sum_for_every_tile_shape() {
        if !available() {
            return;
        }
        for (rows, m, n) in SHAPES {
            let a = values(rows * m, 3);
            let b = values(rows * n, 4);
            let before = values(m * n, 5);
            let mut c = before.clone();
            add_transposed_product(&mut c, &a, &PackedB::plain(&b, rows, n), m);
            let exact = |o: usize, j: usize| {
                f64::from(before[o * n + j])
                    + (0..rows)
                        .map(|r| f64::from(a[r * m + o]) * f64::from(b[r * n + j]))
                        .sum::<f64>()
            };
            assert_near(
                &c,
                n,
                1e-6 * (rows + 1) as f64,
                exact,
                &format!("{rows}x{m}x{n}"),
            );
            let w = values(n * m, 6);
            let packed = PackedB::transposed(&w, n, m);
            let (mut here, mut threaded) = (vec![f32::NAN; rows * n], vec![f32::NAN; rows * n]);
            multiply_here(&mut here, &a, &packed);
            multiply(&mut threaded, &a, &packed);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&here), bits(&threaded), "{rows}x{m}x{n}");
        }
    }
}
