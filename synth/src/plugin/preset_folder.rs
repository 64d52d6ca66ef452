//! What the `Preset` parameter picks from, so a preset can be chosen from any host's generic
//! editor: slot 0 is the built-in default, the next slots the compiled-in library (in name
//! order), then the `.sirenade` files of the user's preset folder.
//!
//! The folder is `$SIRENADE_PRESET_DIR`, else `$XDG_DATA_HOME/sirenade/presets`, else
//! `~/.local/share/sirenade/presets`; its files are listed in name order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::library::{LibraryPreset, LIBRARY};

/// Largest slot the `Preset` parameter offers.
pub const MAX_SLOT: i32 = 127;

/// What one slot of the `Preset` parameter holds.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotPreset {
    /// Slot 0: the built-in default.
    Default,
    /// A preset of the compiled-in library.
    Library(&'static LibraryPreset),
    /// A file of the preset folder (at the last scan).
    File(PathBuf),
}

impl PartialEq for LibraryPreset {
    fn eq(&self, other: &LibraryPreset) -> bool {
        self.name == other.name
    }
}

/// The slot of the folder's first file (after the default and the library).
pub fn first_file_slot() -> i32 {
    LIBRARY.len() as i32 + 1
}

/// The folder and the files found at the last scan.
pub struct PresetFolder {
    dir: Option<PathBuf>,
    files: ArcSwap<Vec<PathBuf>>,
}

impl PresetFolder {
    /// The folder the environment names (nothing is read yet).
    pub fn from_env() -> PresetFolder {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = var("SIRENADE_PRESET_DIR")
            .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("sirenade").join("presets")))
            .or_else(|| var("HOME").map(|h| h.join(".local/share/sirenade/presets")));
        PresetFolder {
            dir,
            files: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// The folder `dir` (nothing is read yet).
    pub fn at(dir: &Path) -> PresetFolder {
        PresetFolder {
            dir: Some(dir.to_path_buf()),
            files: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// The folder, if the environment gives one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Lists the folder's `.sirenade` files again (a missing folder lists nothing; files past
    /// the last slot are left out).
    pub fn rescan(&self) {
        let mut files: Vec<PathBuf> = self
            .dir
            .as_ref()
            .and_then(|d| std::fs::read_dir(d).ok())
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sirenade") && p.is_file())
            .collect();
        files.sort();
        files.truncate((MAX_SLOT - first_file_slot() + 1).max(0) as usize);
        self.files.store(Arc::new(files));
    }

    /// What slot `slot` holds at the last scan (none for an empty slot).
    pub fn preset_at(&self, slot: i32) -> Option<SlotPreset> {
        if slot == 0 {
            return Some(SlotPreset::Default);
        }
        let index = usize::try_from(slot).ok()?.checked_sub(1)?;
        if let Some(preset) = LIBRARY.get(index) {
            return Some(SlotPreset::Library(preset));
        }
        self.files
            .load()
            .get(index - LIBRARY.len())
            .cloned()
            .map(SlotPreset::File)
    }

    /// Number of files at the last scan.
    pub fn len(&self) -> usize {
        self.files.load().len()
    }

    /// Whether the last scan found no file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `Preset` parameter's text for `slot`.
    pub fn describe(&self, slot: i32) -> String {
        match self.preset_at(slot) {
            Some(SlotPreset::Default) => "0: built in".to_string(),
            Some(SlotPreset::Library(preset)) => format!("{slot}: {}", preset.name),
            Some(SlotPreset::File(path)) => format!(
                "{slot}: {}",
                path.file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
            ),
            None => format!("{slot}: (no file)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_default_the_library_then_the_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.sirenade", "a.sirenade", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("c.sirenade")).unwrap();
        let folder = PresetFolder::at(dir.path());
        assert!(folder.is_empty());
        folder.rescan();
        assert_eq!(folder.len(), 2);
        let first = first_file_slot();
        assert_eq!(folder.preset_at(0), Some(SlotPreset::Default));
        for (k, preset) in LIBRARY.iter().enumerate() {
            assert_eq!(
                folder.preset_at(k as i32 + 1),
                Some(SlotPreset::Library(preset))
            );
            assert_eq!(
                folder.describe(k as i32 + 1),
                format!("{}: {}", k + 1, preset.name)
            );
        }
        assert_eq!(
            folder.preset_at(first),
            Some(SlotPreset::File(dir.path().join("a.sirenade")))
        );
        assert_eq!(folder.preset_at(first + 2), None);
        assert_eq!(folder.preset_at(-1), None);
        assert_eq!(folder.describe(first + 1), format!("{}: b", first + 1));
        assert_eq!(folder.describe(0), "0: built in");
        assert_eq!(
            folder.describe(first + 8),
            format!("{}: (no file)", first + 8)
        );
    }
}
