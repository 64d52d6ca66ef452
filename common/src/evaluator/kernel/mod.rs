//! SIMD kernels for one chunk of coordinates, with run-time dispatch between AVX-512F,
//! AVX2+FMA and a portable fallback.
//!
//! The layer code is written once, generic over [`Simd`], and inlined into one
//! `#[target_feature]` entry point per ISA, so the same source compiles to zmm, ymm or baseline
//! instructions; [`Isa::detect`] picks the best one the CPU has.

mod activation;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod chunk;
mod dot;
mod first;
mod forward;
mod narrow;
mod portable;
mod simd;
#[cfg(target_arch = "x86_64")]
mod vnni;
mod wide;

use std::fmt;

pub(crate) use chunk::Chunk;
pub(crate) use portable::Scalar;
pub(crate) use simd::Simd;

/// An instruction-set level the evaluator has a kernel for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// 16-lane zmm kernel (AVX-512F), 6×64 register tile.
    Avx512,
    /// 8-lane ymm kernel (AVX2 with FMA and F16C), 6×16 register tile.
    Avx2Fma,
    /// Plain Rust on 8-element arrays, for any CPU.
    Portable,
}

impl Isa {
    /// Every level, fastest first.
    pub const ALL: [Isa; 3] = [Isa::Avx512, Isa::Avx2Fma, Isa::Portable];

    /// The fastest level this CPU supports.
    pub fn detect() -> Isa {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.is_available())
            .unwrap_or(Isa::Portable)
    }

    /// Whether this CPU can run the level's kernel.
    pub fn is_available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => {
                is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
                    && is_x86_feature_detected!("f16c")
            }
            Isa::Portable => true,
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Whether the kernel widens f16 weights in hardware as it loads them (F16C, or AVX-512F's
    /// `vcvtph2ps`), so that f16 narrow panels cost no more arithmetic than f32 ones.
    pub(crate) fn loads_f16(self) -> bool {
        !matches!(self, Isa::Portable)
    }

    /// Whether compact presets' narrow panels can be 16-bit integers for the AVX-512 VNNI
    /// kernel: on [`Isa::Avx512`] when the CPU also has AVX-512 BW and VNNI.
    pub(crate) fn has_vnni(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        if self == Isa::Avx512 {
            return vnni::is_available();
        }
        false
    }

    /// f32 lanes of one vector: the height of the narrow weight panels.
    pub(crate) fn lanes(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => <avx512::Avx512 as Simd>::LANES,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => <avx2::Avx2 as Simd>::LANES,
            _ => <portable::Portable as Simd>::LANES,
        }
    }

    /// Output rows per register tile: the height of the wide weight panels.
    pub(crate) fn rows_per_tile(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => avx512::ROWS,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => avx2::ROWS,
            _ => portable::ROWS,
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Isa::Avx512 => "AVX-512F",
            Isa::Avx2Fma => "AVX2+FMA",
            Isa::Portable => "portable",
        })
    }
}

/// Runs the whole network on one chunk with the kernel of `isa`.
///
/// # Safety
/// `isa` must be available, the chunk's network must have been packed for `isa`, and its scratch
/// and parameters must have been sized for that network.
pub(crate) unsafe fn forward(isa: Isa, chunk: Chunk<'_>) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => avx512::forward(chunk),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => avx2::forward(chunk),
        _ => portable::forward(chunk),
    }
}

/// Applies the vector sine of `isa` to every value of `xs`; `isa` must be available.
pub(crate) fn sin_in_place(isa: Isa, xs: &mut [f32]) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass an available `isa`.
        Isa::Avx512 => unsafe { avx512::sin_in_place(xs) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass an available `isa`.
        Isa::Avx2Fma => unsafe { avx2::sin_in_place(xs) },
        _ => portable::sin_in_place(xs),
    }
}

/// `Σ a[i]·b[i]` with the vectors of `isa` (for the per-latent work).
///
/// # Safety
/// `isa` must be available.
pub(crate) unsafe fn dot(isa: Isa, a: &[f32], b: &[f32]) -> f32 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => avx512::dot(a, b),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => avx2::dot(a, b),
        _ => portable::dot(a, b),
    }
}
