//! The persisted preset choice, with a generation counter the audio thread can poll without a
//! lock: a state load (the host restoring a project) bumps it, and the plugin answers by
//! loading the file on its background thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

/// The preset file the plugin plays, as saved in the host's project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresetChoice {
    /// The file, or none for the embedded preset.
    pub path: Option<String>,
    /// SHA-256 of the file when it was loaded (lower-case hex), to notice a changed file.
    pub sha256: Option<String>,
}

/// The current choice and how many times the host has replaced it.
#[derive(Debug, Default)]
pub struct PresetSlot {
    choice: Mutex<PresetChoice>,
    generation: AtomicU64,
}

impl PresetSlot {
    /// Bumped every time the host sets a choice (never by the plugin's own bookkeeping).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The current choice (off the audio thread).
    pub fn get(&self) -> PresetChoice {
        self.lock().clone()
    }

    /// Asks for a new preset, as a state load would: stores it and bumps the generation.
    pub fn request(&self, choice: PresetChoice) {
        *self.lock() = choice;
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Records what is actually playing (after a load, or to undo a failed one) without
    /// asking for another load.
    pub fn record(&self, choice: PresetChoice) {
        *self.lock() = choice;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PresetChoice> {
        // A panic while holding this lock leaves a plain value behind; keep using it.
        self.choice.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<'a> PersistentField<'a, PresetChoice> for PresetSlot {
    fn set(&self, new_value: PresetChoice) {
        self.request(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&PresetChoice) -> R,
    {
        f(&self.lock())
    }
}
