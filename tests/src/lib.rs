//! Workspace-level integration tests live in `tests/tests/`; they cross crates (data
//! rendering → data reading, trainer → preset → evaluator, the plugin in hosts). This library
//! holds what several of them share.

pub mod clap_host;
pub mod plugin_bundle;
pub mod vst3_host;
