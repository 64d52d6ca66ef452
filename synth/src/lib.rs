//! Sirenade's instrument plugin (CLAP and VST3 on nice-plug).
//!
//! This crate is the workspace slot for the plugin; it links the shared crate so that the
//! workspace builds as one. The plugin itself (voices, parameters, preset loading) is the
//! subject of its own issue and is not built yet.

pub use sirenade_common::{CLIP_LEN, SAMPLE_RATE};
