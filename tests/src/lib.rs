//! Workspace-level integration tests live in `tests/tests/`; they cross crates (data
//! rendering → data reading, trainer → preset → evaluator, the plugin in hosts). This library
//! holds what several of them share.

pub mod clap_host;
pub mod plugin_bundle;
pub mod vst3_host;
pub mod x11_display;

/// The plugin's parameter names, in the order hosts list them.
pub const PARAMETER_NAMES: [&str; 22] = [
    "Preset",
    "Sound",
    "Morph to",
    "Morph",
    "Latent 1",
    "Latent 2",
    "Latent 3",
    "Latent 4",
    "Latent 5",
    "Latent 6",
    "Latent 7",
    "Latent 8",
    "Gain",
    "Attack",
    "Release",
    "Voices",
    "Key tracking",
    "Render rate",
    "Bend range",
    "Pressure to",
    "Slide to",
    "Expression depth",
];
