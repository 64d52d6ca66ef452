//! `trainer tune`'s search: BOHB (Falkner et al. 2018), Hyperband's brackets of successive
//! halving over short training runs (Li et al. 2018) with configurations proposed by a
//! Tree-structured Parzen Estimator (Bergstra et al. 2011), over the SIREN's first- and
//! hidden-layer omegas and the learning rate (thesis section 5.7, appendix A.3.2).
//!
//! - [`space`]: the searched ranges, log-uniform, and the unit cube the model works in.
//! - [`hyperband`]: the brackets and the successive-halving selection.
//! - [`tpe`]: the Parzen densities and the proposal rule.
//! - [`search`]: the loop over brackets, rungs and trials, replayable from its state.
//! - [`state`]: `DIR/tune.json`, every trial's configuration and scores.
//! - [`runner`]: trials as training runs of [`crate::train::trainer::Trainer`], scored by
//!   reconstruction error, their states kept between rungs in `DIR/trials/`.

pub mod hyperband;
pub mod runner;
pub mod search;
pub mod space;
pub mod state;
pub mod tpe;
