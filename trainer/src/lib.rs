//! Sirenade's offline trainer.
//!
//! - [`cli`]: the `trainer` command line (argument parsing and dispatch).
//! - [`data_cmd`]: `trainer data info`, the data set summary.
//! - [`bundled`]: where the data sets bundled with the repository live.

pub mod bundled;
pub mod cli;
pub mod data_cmd;
