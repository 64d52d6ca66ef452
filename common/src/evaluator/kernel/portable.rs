//! The portable fallback: one-lane [`Scalar`] (also the scalar reference sine) and 8-lane arrays.

use super::chunk::Chunk;
use super::forward as generic;
use super::simd::Simd;

/// Output rows per register tile of the portable kernel.
pub(crate) const ROWS: usize = 4;

/// One f32 lane with baseline instructions; reduces the sine argument in f64.
pub(crate) struct Scalar;

impl Simd for Scalar {
    const LANES: usize = 1;
    type V = f32;

    #[inline(always)]
    unsafe fn zero() -> f32 {
        0.0
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> f32 {
        x
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> f32 {
        p.read_unaligned()
    }
    #[inline(always)]
    unsafe fn load_f16(p: *const u16) -> f32 {
        half::f16::from_bits(p.read_unaligned()).to_f32()
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: f32) {
        p.write_unaligned(v);
    }
    #[inline(always)]
    unsafe fn add(a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    unsafe fn sub(a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    unsafe fn mul(a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    unsafe fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    unsafe fn max(a: f32, b: f32) -> f32 {
        a.max(b)
    }
    #[inline(always)]
    unsafe fn xor(a: f32, b: f32) -> f32 {
        f32::from_bits(a.to_bits() ^ b.to_bits())
    }
    #[inline(always)]
    unsafe fn low_bit_to_sign(v: f32) -> f32 {
        f32::from_bits(v.to_bits() << 31)
    }
    #[inline(always)]
    unsafe fn reduce_pi(x: f32, q: f32) -> f32 {
        (f64::from(x) - f64::from(q) * std::f64::consts::PI) as f32
    }
}

/// Eight [`Scalar`] lanes as an array, which the compiler may vectorise for the baseline ISA.
pub(crate) struct Portable;

const PORTABLE_LANES: usize = 8;

#[inline(always)]
fn map1(a: [f32; PORTABLE_LANES], f: impl Fn(f32) -> f32) -> [f32; PORTABLE_LANES] {
    a.map(f)
}

#[inline(always)]
fn map2(
    a: [f32; PORTABLE_LANES],
    b: [f32; PORTABLE_LANES],
    f: impl Fn(f32, f32) -> f32,
) -> [f32; PORTABLE_LANES] {
    let mut out = a;
    for (o, b) in out.iter_mut().zip(b) {
        *o = f(*o, b);
    }
    out
}

impl Simd for Portable {
    const LANES: usize = PORTABLE_LANES;
    type V = [f32; PORTABLE_LANES];

    #[inline(always)]
    unsafe fn zero() -> Self::V {
        [0.0; PORTABLE_LANES]
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self::V {
        [x; PORTABLE_LANES]
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        p.cast::<Self::V>().read_unaligned()
    }
    #[inline(always)]
    unsafe fn load_f16(p: *const u16) -> Self::V {
        std::array::from_fn(|l| half::f16::from_bits(p.add(l).read_unaligned()).to_f32())
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        p.cast::<Self::V>().write_unaligned(v);
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, |x, y| x + y)
    }
    #[inline(always)]
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, |x, y| x - y)
    }
    #[inline(always)]
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, |x, y| x * y)
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        Self::add(Self::mul(a, b), c)
    }
    #[inline(always)]
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, f32::max)
    }
    #[inline(always)]
    unsafe fn xor(a: Self::V, b: Self::V) -> Self::V {
        map2(a, b, |x, y| f32::from_bits(x.to_bits() ^ y.to_bits()))
    }
    #[inline(always)]
    unsafe fn low_bit_to_sign(v: Self::V) -> Self::V {
        map1(v, |x| f32::from_bits(x.to_bits() << 31))
    }
    #[inline(always)]
    unsafe fn reduce_pi(x: Self::V, q: Self::V) -> Self::V {
        // SAFETY: the scalar lane uses baseline instructions only.
        map2(x, q, |x, q| unsafe { Scalar::reduce_pi(x, q) })
    }
}

/// Runs the network on one chunk with the portable kernel.
///
/// # Safety
/// The chunk's network must have been packed for [`super::Isa::Portable`] and its scratch and
/// parameters sized for that network.
pub(crate) unsafe fn forward(chunk: Chunk<'_>) {
    generic::forward::<Portable, ROWS, 1>(chunk);
}

/// Applies the sine to every value of `xs` with the portable kernel.
pub(crate) fn sin_in_place(xs: &mut [f32]) {
    // SAFETY: the portable kernel uses baseline instructions only.
    unsafe { generic::sin_slice::<Portable>(xs) }
}

/// `Σ a[i]·b[i]` with the portable vectors.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: the portable kernel uses baseline instructions only.
    unsafe { super::dot::dot::<Portable>(a, b) }
}
