//! A safe, bounds-checked front end to the `gemm` crate's f32 matrix product.

use gemm::Parallelism;

/// A strided read-only matrix over a slice: element (i, j) is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    /// The backing elements.
    pub data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows x cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (same elements, strides swapped).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Rows `start .. start + len` of a row-major matrix (`col_stride` 1).
    ///
    /// Panics if the range reaches past the last row.
    pub fn row_range(self, start: usize, len: usize) -> Self {
        assert!(start + len <= self.rows, "row range out of bounds");
        Self {
            data: &self.data[(start * self.row_stride).min(self.data.len())..],
            rows: len,
            ..self
        }
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// How many threads a product may use: rayon's pool, which candle's CPU backend also uses.
pub fn threads() -> Parallelism {
    match rayon::current_num_threads() {
        0 | 1 => Parallelism::None,
        n => Parallelism::Rayon(n),
    }
}

/// `dst = a b` (or `dst += a b` with `accumulate`), dst row-major `a.rows x b.cols`.
///
/// Panics if the shapes disagree or a view reaches outside its slice.
pub fn matmul(dst: &mut [f32], a: MatRef, b: MatRef, accumulate: bool, parallelism: Parallelism) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    assert_eq!(dst.len(), a.rows * b.cols, "destination size");
    assert!(a.in_bounds() && b.in_bounds(), "matrix view out of bounds");
    if dst.is_empty() {
        return;
    }
    // SAFETY: the three views were checked above to lie inside their slices (dst is a dense
    // row-major a.rows x b.cols block of exactly its length), dst is borrowed mutably so it
    // aliases neither input, and every stride fits in isize because it indexes within a slice.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            dst.as_mut_ptr(),
            1,
            b.cols as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
