//! Any folder tree of WAV files: users' own samples.

use std::path::Path;

use super::{
    choose, is_wav, reject_option, Clip, ClipReader, DatasetError, Format, Label, Selection,
};

/// Reads the selected WAV files found anywhere under `root` (sorted by relative path).
pub(super) fn load(
    root: &Path,
    selection: &Selection,
    reader: &mut ClipReader,
) -> Result<Vec<Clip>, DatasetError> {
    reject_option(
        selection.families.is_some(),
        "--families",
        Format::WavFolder,
    )?;
    reject_option(selection.pitches.is_some(), "--pitches", Format::WavFolder)?;
    reject_option(selection.words.is_some(), "--words", Format::WavFolder)?;
    let mut ids = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(|e| DatasetError::Io {
            path: e.path().unwrap_or(root).to_path_buf(),
            source: e.into(),
        })?;
        if entry.file_type().is_file() && is_wav(entry.path()) {
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            ids.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    let all: std::collections::HashSet<String> = ids.iter().cloned().collect();
    let keys = vec![(); ids.len()];
    let chosen = choose(root, &ids, &keys, selection, &|id| all.contains(id))?;
    let mut clips = Vec::with_capacity(chosen.len());
    for i in chosen {
        if let Some(clip) = reader.read(ids[i].clone(), &root.join(&ids[i]), Label::default())? {
            clips.push(clip);
        }
    }
    Ok(clips)
}
