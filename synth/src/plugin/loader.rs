//! Preset loading off the audio thread: the background task reads and validates a file,
//! builds its voices and hands them to the audio thread through a wait-free queue; banks the
//! audio thread no longer uses come back through a second queue to be freed here.

use std::path::Path;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use nice_plug::prelude::*;

use super::params::{ItemNames, SirenadeParams};
use super::preset_folder::{PresetFolder, SlotPreset};
use super::preset_slot::PresetChoice;
use crate::engine::{Bank, Sound, SoundError};
use crate::library;

/// Capacity of each hand-over queue: a few pending presets at most; when the audio thread
/// has not taken the last ones yet, a newer load waits its turn.
pub const QUEUE_CAPACITY: usize = 4;

/// Work the plugin's background thread does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Load the preset the persisted choice names.
    LoadChoice,
    /// Load slot k of the preset folder (0: the embedded preset).
    LoadSlot(i32),
    /// Free banks the audio thread has given back.
    Collect,
}

/// What the background side of the plugin shares: the sound playing, the queue ends it owns,
/// and the parameters whose displays follow the preset.
pub struct Loader {
    params: Arc<SirenadeParams>,
    names: ItemNames,
    folder: Arc<PresetFolder>,
    /// The sound the audio thread plays or is about to (new activations start from it).
    sound: ArcSwap<Sound>,
    to_audio: Mutex<rtrb::Producer<Box<Bank>>>,
    from_audio: Mutex<rtrb::Consumer<Box<Bank>>>,
    /// The choice that names `sound` (the embedded preset: no path).
    playing: Mutex<PresetChoice>,
}

/// The audio thread's ends of the two queues.
pub struct AudioEnds {
    /// New banks to play.
    pub incoming: rtrb::Consumer<Box<Bank>>,
    /// Banks no longer used.
    pub outgoing: rtrb::Producer<Box<Bank>>,
}

impl Loader {
    /// A loader starting from `sound`, and the audio thread's queue ends.
    pub fn new(
        params: Arc<SirenadeParams>,
        names: ItemNames,
        folder: Arc<PresetFolder>,
        sound: Arc<Sound>,
    ) -> (Arc<Loader>, AudioEnds) {
        let (to_audio, incoming) = rtrb::RingBuffer::new(QUEUE_CAPACITY);
        let (outgoing, from_audio) = rtrb::RingBuffer::new(QUEUE_CAPACITY);
        names.store(Arc::new(item_names(&sound)));
        let loader = Arc::new(Loader {
            params,
            names,
            folder,
            sound: ArcSwap::new(sound),
            to_audio: Mutex::new(to_audio),
            from_audio: Mutex::new(from_audio),
            playing: Mutex::new(PresetChoice::default()),
        });
        (loader, AudioEnds { incoming, outgoing })
    }

    /// The sound new activations start from.
    pub fn sound(&self) -> Arc<Sound> {
        self.sound.load_full()
    }

    /// Runs a task (on the background thread, or directly from `activate`).
    pub fn run(&self, task: Task) {
        match task {
            Task::LoadChoice => self.load(self.params.preset.get()),
            Task::LoadSlot(slot) => self.load_slot(slot),
            Task::Collect => self.collect(),
        }
    }

    /// Frees banks the audio thread gave back.
    fn collect(&self) {
        let mut from_audio = lock(&self.from_audio);
        while let Ok(bank) = from_audio.pop() {
            drop(bank);
        }
    }

    /// Loads what slot `slot` holds (the folder rescanned first); an empty slot is reported
    /// and changes nothing.
    fn load_slot(&self, slot: i32) {
        self.folder.rescan();
        match self.folder.preset_at(slot) {
            Some(SlotPreset::Default) => self.load(PresetChoice::default()),
            Some(SlotPreset::Library(preset)) => self.load(PresetChoice {
                path: Some(library::path_of(preset)),
                sha256: None,
            }),
            Some(SlotPreset::File(path)) => self.load(PresetChoice {
                path: Some(path.display().to_string()),
                sha256: None,
            }),
            None => {
                let message = format!(
                    "preset slot {slot} is empty: the library has {} presets and the preset \
                     folder {} has {}",
                    library::LIBRARY.len(),
                    self.folder
                        .dir()
                        .map_or_else(|| "(none: no HOME)".into(), |d| d.display().to_string()),
                    self.folder.len()
                );
                nice_error!("{message}");
            }
        }
    }

    /// Loads `choice` unless it is what plays already, and makes it the persisted choice. On
    /// failure, reports it and puts the persisted choice back to what plays, so a saved
    /// project names the sound it has.
    fn load(&self, choice: PresetChoice) {
        self.collect();
        let current = self.sound.load();
        let playing = lock(&self.playing).clone();
        if choice.path == playing.path
            && (choice.sha256.is_none() || choice.sha256 == playing.sha256)
        {
            self.params.preset.record(playing);
            return;
        }
        let loaded = match &choice.path {
            None => Ok(Sound::embedded()),
            Some(path) => match library::find(path) {
                Some(preset) => Sound::from_bytes(preset.bytes, path),
                None if path.starts_with(library::LIBRARY_PREFIX) => {
                    Err(SoundError::NotInLibrary(path.clone()))
                }
                None => Sound::load(Path::new(path)),
            },
        };
        let sound = match loaded {
            Ok(sound) => Arc::new(sound),
            Err(e) => {
                let message = format!("could not load preset: {e}; keeping {}", current.origin());
                nice_error!("{message}");
                self.params.preset.record(playing);
                return;
            }
        };
        if let Some(saved) = choice.sha256.as_deref() {
            if saved != sound.sha256() {
                nice_warn!(
                    "preset {} changed since it was saved (SHA-256 {saved}, now {}); loading \
                     it as it is now",
                    sound.origin(),
                    sound.sha256()
                );
            }
        }
        let bank = Bank::new(Arc::clone(&sound));
        if lock(&self.to_audio).push(bank).is_err() {
            let message = format!(
                "could not hand preset {} to the audio thread (busy); keeping {}",
                sound.origin(),
                current.origin()
            );
            nice_error!("{message}");
            self.params.preset.record(playing);
            return;
        }
        self.names.store(Arc::new(item_names(&sound)));
        let now = PresetChoice {
            path: choice.path.clone(),
            sha256: choice.path.as_ref().map(|_| sound.sha256().to_string()),
        };
        self.params.preset.record(now.clone());
        *lock(&self.playing) = now;
        self.sound.store(sound);
    }

    /// Drops banks still queued for the audio thread (when re-activating from scratch).
    pub fn discard_pending(&self, incoming: &mut rtrb::Consumer<Box<Bank>>) {
        while let Ok(bank) = incoming.pop() {
            drop(bank);
        }
    }
}

fn item_names(sound: &Sound) -> Vec<String> {
    (0..sound.items())
        .map(|i| sound.item_name(i).unwrap_or("").to_string())
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
