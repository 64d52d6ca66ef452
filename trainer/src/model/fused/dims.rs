//! The sizes of a fused call and the buffers its passes return: the contract shared by the
//! row-parallel kernels and the blocked backward (a leaf).

/// The sizes of one fused call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Batch items (each with its own scale and shift).
    pub items: usize,
    /// Points per item.
    pub points: usize,
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
}

impl Dims {
    /// Rows of x and y: items x points.
    pub fn rows(&self) -> usize {
        self.items * self.points
    }
}

/// The forward pass's results.
pub struct Forward {
    /// `sin(a)`, `[R, out]`.
    pub sin: Vec<f32>,
    /// `cos(a)`, `[R, out]`.
    pub cos: Vec<f32>,
    /// `p = x W^T`, `[R, out]`.
    pub product: Vec<f32>,
}

/// The backward pass's results (of this layer and of the tangent-carrying one).
pub struct Backward {
    /// dL/dx, shaped like x (`[R, in]`, or the stacked rows), when asked for.
    pub x: Option<Vec<f32>>,
    /// dL/dW `[out, in]`.
    pub weight: Vec<f32>,
    /// dL/d(scale, shift), `[items, 2, out]` like the film input.
    pub film: Vec<f32>,
}
