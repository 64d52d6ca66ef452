//! The public evaluator: one voice of a conditional SIREN rendering blocks of samples.

use std::sync::Arc;

use super::error::EvaluatorError;
use super::kernel::{self, Chunk, Isa};
use super::latent_state::LatentState;
use super::packed::{NarrowStorage, Packed};
use super::scratch::{Scratch, BLOCK};
use super::weights::NetworkWeights;

/// Validated weights and their packed form, shared by every voice of one model.
struct Network {
    weights: NetworkWeights,
    packed: Packed,
}

/// One voice of a network: shared packed weights, its own conditioning state and scratch.
///
/// Construction ([`Evaluator::new`], [`Evaluator::new_voice`]) allocates;
/// [`prepare`](Evaluator::prepare), [`set_latent`](Evaluator::set_latent) and
/// [`render`](Evaluator::render) never allocate, lock or panic, so they can run on the audio
/// thread. Dropping one frees memory: do it off the audio thread.
pub struct Evaluator {
    net: Arc<Network>,
    state: LatentState,
    scratch: Scratch,
}

impl Evaluator {
    /// Validates `weights`, packs them for the fastest kernel of this CPU and makes a voice
    /// conditioned on the zero latent.
    pub fn new(weights: NetworkWeights) -> Result<Evaluator, EvaluatorError> {
        Evaluator::with_isa(weights, Isa::detect())
    }

    /// As [`Evaluator::new`] with a chosen kernel, to compare the ISA levels; fails if this CPU
    /// cannot run it.
    pub fn with_isa(weights: NetworkWeights, isa: Isa) -> Result<Evaluator, EvaluatorError> {
        Evaluator::with_storage(weights, isa, NarrowStorage::Compact)
    }

    /// As [`Evaluator::with_isa`] with the narrow panels' storage chosen (tests compare both).
    pub(crate) fn with_storage(
        weights: NetworkWeights,
        isa: Isa,
        storage: NarrowStorage,
    ) -> Result<Evaluator, EvaluatorError> {
        if !isa.is_available() {
            return Err(EvaluatorError::IsaUnavailable(isa));
        }
        weights.validate()?;
        let packed = Packed::with_storage(&weights, isa, storage);
        let net = Arc::new(Network { weights, packed });
        Ok(Evaluator::voice_of(net))
    }

    /// Another voice of the same network (shares the packed weights; allocates its own state).
    pub fn new_voice(&self) -> Evaluator {
        Evaluator::voice_of(Arc::clone(&self.net))
    }

    fn voice_of(net: Arc<Network>) -> Evaluator {
        Evaluator {
            state: LatentState::new(&net.weights, &net.packed),
            scratch: Scratch::new(&net.packed),
            net,
        }
    }

    /// The kernel this evaluator runs.
    pub fn isa(&self) -> Isa {
        self.net.packed.isa
    }

    /// How the kernels read the matrices after the first layer: `"f32"`; `"f16"` (a compact
    /// preset: the few-sample kernel widens f16 panels as it loads them, the block kernel reads
    /// f32); or `"i16"` (a compact preset on a CPU with AVX-512 VNNI, layers at least 128 wide:
    /// every kernel multiplies 16-bit integers). For reports such as the benchmark.
    pub fn matrix_storage(&self) -> &'static str {
        match self.net.packed.columns {
            super::packed::Columns::F32(_) => "f32",
            super::packed::Columns::F16(_) => "f16",
            #[cfg(target_arch = "x86_64")]
            super::packed::Columns::I16(_) => "i16",
        }
    }

    /// The weights it evaluates.
    pub fn weights(&self) -> &NetworkWeights {
        &self.net.weights
    }

    /// Conditions the voice on `latent` immediately (note-on): runs the mapping network once.
    pub fn prepare(&mut self, latent: &[f32]) -> Result<(), EvaluatorError> {
        let net = &*self.net;
        self.state.prepare(&net.weights, &net.packed, latent)
    }

    /// Conditions the voice on `latent` smoothly: the next [`render`](Evaluator::render) moves
    /// gamma, beta (or the concat vector) linearly from their current values, reaching the new
    /// ones on its last sample.
    pub fn set_latent(&mut self, latent: &[f32]) -> Result<(), EvaluatorError> {
        let net = &*self.net;
        self.state.set_latent(&net.weights, &net.packed, latent)
    }

    /// Fills `out` with the network at `t = t0 + i·dt` for sample `i` (computed in f64 from the
    /// index, so long blocks do not drift). Any length works: longer blocks are evaluated in
    /// chunks of [`BLOCK`] coordinates.
    pub fn render(&mut self, t0: f32, dt: f32, out: &mut [f32]) {
        self.render_f64(f64::from(t0), f64::from(dt), out);
    }

    /// As [`render`](Evaluator::render) with the start and step in f64: a caller that keeps
    /// its clock in f64 (a voice playing for seconds) gets the same coordinates however it
    /// splits the clip into blocks.
    pub fn render_f64(&mut self, t0: f64, dt: f64, out: &mut [f32]) {
        if out.is_empty() {
            return;
        }
        let len = out.len();
        let net = &*self.net;
        for (c, chunk) in out.chunks_mut(BLOCK).enumerate() {
            self.scratch.fill_inputs(t0, dt, c * BLOCK, len);
            let chunk = Chunk {
                net: &net.packed,
                first: &self.state.first,
                params: &self.state.params,
                params_soa: &self.state.params_soa,
                scratch: &mut self.scratch,
                out: chunk,
            };
            // SAFETY: construction checked that the ISA is available, packed the network for it
            // and sized the voice parameters and scratch for that packed network.
            unsafe { kernel::forward(net.packed.isa, chunk) };
        }
        self.state.finish_block(&net.packed);
    }
}
