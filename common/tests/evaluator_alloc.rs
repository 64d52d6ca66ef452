//! `Evaluator::render`, `prepare` and `set_latent` never allocate: a counting global allocator
//! watches them on every kernel, for block lengths from 1 to far beyond the internal chunk.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sirenade_common::evaluator::{
    Activation, Conditioning, DenseLayer, Evaluator, Isa, NetworkWeights, SynthLayer,
};

/// The system allocator, counting every allocation and reallocation of the threads that
/// are being watched (not the test harness's own, which allocates while it waits for a test).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted.
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if WATCHED.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards every call unchanged to the system allocator; the counter is atomic and the
// flag a const-initialised thread-local without destructor (reading it never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn values(rng: &mut ChaCha8Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
}

/// A small FiLM SIREN: latent 16 → mapping 32 → [gamma; beta] of `2·width`, then 1 → `width`
/// ×3 → 1.
fn network(width: usize) -> NetworkWeights {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let dense = |rng: &mut ChaCha8Rng, i: usize, o: usize| DenseLayer {
        in_features: i,
        out_features: o,
        weight: values(rng, i * o, 0.3),
        bias: values(rng, o, 0.1),
    };
    let synth = |rng: &mut ChaCha8Rng, i: usize, o: usize, omega: f32, activation| SynthLayer {
        in_features: i,
        out_features: o,
        weight: values(rng, i * o, 1.0 / i as f32),
        bias: values(rng, o, 3.0),
        omega: vec![omega; o],
        activation,
        film: o > 1,
        concat: None,
    };
    NetworkWeights {
        latent_dim: 16,
        mapping: vec![dense(&mut rng, 16, 32), dense(&mut rng, 32, 2 * width)],
        conditioning: Conditioning::Film,
        layers: vec![
            synth(&mut rng, 1, width, 1760.0, Activation::Sine),
            synth(&mut rng, width, width, 30.0, Activation::Sine),
            synth(&mut rng, width, width, 30.0, Activation::LeakyRelu),
            synth(&mut rng, width, 1, 1.0, Activation::Identity),
        ],
    }
}

/// A 128-wide network as a compact preset holds it (matrices after the first layer in f16),
/// which the evaluator runs from f16 panels or, with AVX-512 VNNI, 16-bit integer panels.
fn compact_network() -> NetworkWeights {
    let mut weights = network(128);
    for layer in &mut weights.layers[1..] {
        for w in &mut layer.weight {
            *w = half::f16::from_f32(*w).to_f32();
        }
    }
    weights
}

#[test]
fn render_prepare_and_set_latent_do_not_allocate() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let z0 = values(&mut rng, 16, 1.0);
    let z1 = values(&mut rng, 16, 1.0);
    let mut out = vec![0.0f32; 5000];
    let isas = Isa::ALL.into_iter().filter(|i| i.is_available());
    for (isa, weights) in isas.flat_map(|isa| [(isa, network(48)), (isa, compact_network())]) {
        let mut ev = Evaluator::with_isa(weights, isa).unwrap();
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        WATCHED.set(true);
        let mut t = -1.0;
        for (i, len) in [1, 7, 64, 65, 256, 1000, 5000, 0, 3]
            .into_iter()
            .enumerate()
        {
            if i % 2 == 0 {
                ev.set_latent(&z1).unwrap();
            } else {
                ev.prepare(&z0).unwrap();
            }
            ev.render(t, 1.0 / 8000.0, &mut out[..len]);
            t += len as f32 / 8000.0;
        }
        WATCHED.set(false);
        let allocations = ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert_eq!(allocations, 0, "{isa}: {allocations} allocations");
        assert!(out.iter().all(|v| v.is_finite()));
    }
}
