//! This core's single-thread FP32 peak, measured two ways: a large SGEMM through the `gemm`
//! crate (AVX-512 kernels enabled with its `x86-v4` feature) and a loop of independent FMAs.

use super::clock;

/// Side of the square SGEMM.
const GEMM_SIZE: usize = 1024;
/// Independent accumulators of the FMA loop (enough to cover FMA latency × ports).
const CHAINS: usize = 12;
/// FMA rounds per timed call.
const ROUNDS: usize = 100_000;

/// The two peak measurements, in GFLOP/s.
#[derive(Debug, Clone, Copy)]
pub struct Peak {
    /// Single-thread SGEMM of `GEMM_SIZE`³.
    pub sgemm: f64,
    /// The FMA-throughput loop at the widest vector width available.
    pub fma: f64,
}

impl Peak {
    /// The higher of the two: the peak the engine is compared with.
    pub fn best(&self) -> f64 {
        self.sgemm.max(self.fma)
    }
}

/// Measures both, each for about `seconds`.
pub fn measure(seconds: f64) -> Peak {
    Peak {
        sgemm: sgemm_gflops(seconds),
        fma: fma_gflops(seconds),
    }
}

fn sgemm_gflops(seconds: f64) -> f64 {
    let n = GEMM_SIZE;
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.01).collect();
    let mut c = vec![0.0f32; n * n];
    let calls = clock::rate(seconds, || {
        // SAFETY: the three buffers are n × n, column-major with unit row stride, and distinct.
        unsafe {
            gemm::gemm(
                n,
                n,
                n,
                c.as_mut_ptr(),
                n as isize,
                1,
                false,
                a.as_ptr(),
                n as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        1
    });
    std::hint::black_box(&c);
    calls * 2.0 * (n * n * n) as f64 / 1e9
}

fn fma_gflops(seconds: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F is present.
            let rounds = clock::rate(seconds, || unsafe { x86::fma_avx512(ROUNDS) });
            return rounds * (CHAINS * 16 * 2) as f64 / 1e9;
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA are present.
            let rounds = clock::rate(seconds, || unsafe { x86::fma_avx2(ROUNDS) });
            return rounds * (CHAINS * 8 * 2) as f64 / 1e9;
        }
    }
    let rounds = clock::rate(seconds, || scalar_fma(ROUNDS));
    rounds * (CHAINS * 2) as f64 / 1e9
}

/// The portable loop: `CHAINS` independent scalar multiply-adds per round.
fn scalar_fma(rounds: usize) -> usize {
    let mut acc = [1.0f32; CHAINS];
    for _ in 0..rounds {
        for x in &mut acc {
            *x = x.mul_add(0.999_999, 1e-7);
        }
    }
    std::hint::black_box(acc);
    rounds
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::CHAINS;

    /// `CHAINS` independent zmm FMA chains, `rounds` times; returns `rounds`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn fma_avx512(rounds: usize) -> usize {
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..rounds {
            for x in &mut acc {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        std::hint::black_box(acc);
        rounds
    }

    /// `CHAINS` independent ymm FMA chains, `rounds` times; returns `rounds`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fma_avx2(rounds: usize) -> usize {
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..rounds {
            for x in &mut acc {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        std::hint::black_box(acc);
        rounds
    }
}
