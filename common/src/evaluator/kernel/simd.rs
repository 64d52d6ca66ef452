//! The small vector vocabulary the generic kernels are written in, implemented once per ISA.

/// A vector of f32 lanes and the operations the layer kernels and the sine need.
///
/// # Safety
/// Every method may use instructions of its ISA: call them only from code that runs where
/// [`Isa::is_available`](super::Isa::is_available) holds for that ISA, inlined into a function
/// compiled with its target features. Pointers must be valid for `LANES` f32 reads or writes.
pub(crate) trait Simd {
    /// Number of f32 lanes.
    const LANES: usize;
    /// The vector type.
    type V: Copy;

    /// All lanes zero.
    unsafe fn zero() -> Self::V;
    /// All lanes `x`.
    unsafe fn splat(x: f32) -> Self::V;
    /// Loads `LANES` values (no alignment needed).
    unsafe fn load(p: *const f32) -> Self::V;
    /// Loads `LANES` IEEE half-precision values (bit patterns, no alignment needed) widened to
    /// f32, which is exact.
    unsafe fn load_f16(p: *const u16) -> Self::V;
    /// Stores `LANES` values (no alignment needed).
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `a + b`.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a - b`.
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c`, fused where the ISA has FMA.
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// Lane-wise maximum.
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// Bitwise exclusive or.
    unsafe fn xor(a: Self::V, b: Self::V) -> Self::V;
    /// The lowest bit of each lane's bit pattern moved to the sign bit, other bits cleared.
    unsafe fn low_bit_to_sign(v: Self::V) -> Self::V;
    /// `x - q·π` for integral `q`, accurate to a few 1e-8 for `|x| ≤ 1e5`.
    unsafe fn reduce_pi(x: Self::V, q: Self::V) -> Self::V;
}

/// An element type the narrow weight panels are stored in: f32, or f16 bit patterns when every
/// weight is an f16 value (see [`Columns`](crate::evaluator::packed::Columns)).
pub(crate) trait PanelWeight: Copy {
    /// Loads `S::LANES` weights as f32.
    ///
    /// # Safety
    /// As [`Simd::load`].
    unsafe fn load<S: Simd>(p: *const Self) -> S::V;
}

impl PanelWeight for f32 {
    #[inline(always)]
    unsafe fn load<S: Simd>(p: *const f32) -> S::V {
        S::load(p)
    }
}

impl PanelWeight for u16 {
    #[inline(always)]
    unsafe fn load<S: Simd>(p: *const u16) -> S::V {
        S::load_f16(p)
    }
}
