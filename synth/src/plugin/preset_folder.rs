//! The user's preset folder: the `.sirenade` files the `Preset` parameter picks from, so a
//! preset can be chosen from any host's generic editor (slot 0 is the embedded preset).
//!
//! The folder is `$SIRENADE_PRESET_DIR`, else `$XDG_DATA_HOME/sirenade/presets`, else
//! `~/.local/share/sirenade/presets`; its files are listed in name order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

/// Largest slot the `Preset` parameter offers (slot k is the k-th file; 0 is embedded).
pub const MAX_SLOT: i32 = 127;

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

    /// Lists the folder's `.sirenade` files again (a missing folder lists nothing).
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
        files.truncate(MAX_SLOT as usize);
        self.files.store(Arc::new(files));
    }

    /// The file of slot `slot` (1-based) at the last scan.
    pub fn file(&self, slot: i32) -> Option<PathBuf> {
        let index = usize::try_from(slot).ok()?.checked_sub(1)?;
        self.files.load().get(index).cloned()
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
        if slot <= 0 {
            return "0: embedded".to_string();
        }
        match self.file(slot) {
            Some(path) => format!(
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
    fn lists_preset_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.sirenade", "a.sirenade", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("c.sirenade")).unwrap();
        let folder = PresetFolder::at(dir.path());
        assert!(folder.is_empty());
        folder.rescan();
        assert_eq!(folder.len(), 2);
        assert_eq!(folder.file(1), Some(dir.path().join("a.sirenade")));
        assert_eq!(folder.file(3), None);
        assert_eq!(folder.file(0), None);
        assert_eq!(folder.describe(2), "2: b");
        assert_eq!(folder.describe(0), "0: embedded");
        assert_eq!(folder.describe(9), "9: (no file)");
    }
}
