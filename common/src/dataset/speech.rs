//! The Speech Commands layout: one sub-folder per word holding WAV files.

use std::path::Path;

use super::{
    choose, is_hidden_or_ignored, is_wav, list_dir, reject_option, Clip, ClipReader, DatasetError,
    Format, Label, Selection,
};

/// Reads the selected clips of a Speech-Commands-format folder, balanced per word.
pub(super) fn load(
    root: &Path,
    selection: &Selection,
    reader: &mut ClipReader,
) -> Result<Vec<Clip>, DatasetError> {
    reject_option(
        selection.families.is_some(),
        "--families",
        Format::SpeechCommands,
    )?;
    reject_option(
        selection.pitches.is_some(),
        "--pitches",
        Format::SpeechCommands,
    )?;
    let word_dirs: Vec<_> = list_dir(root)?
        .into_iter()
        .filter(|p| p.is_dir() && !is_hidden_or_ignored(p))
        .collect();
    let present: Vec<String> = word_dirs
        .iter()
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
        .collect();
    if let Some(words) = &selection.words {
        if let Some(missing) = words.iter().find(|w| !present.contains(w)) {
            return Err(DatasetError::EmptySelection {
                path: root.to_path_buf(),
                detail: format!(
                    "no folder for word '{missing}' (words present: {})",
                    present.join(", ")
                ),
            });
        }
    }
    let mut ids = Vec::new();
    let mut words = Vec::new();
    let mut all = std::collections::HashSet::new();
    for (dir, word) in word_dirs.iter().zip(&present) {
        for file in list_dir(dir)?
            .into_iter()
            .filter(|f| f.is_file() && is_wav(f))
        {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let id = format!("{word}/{name}");
            all.insert(id.clone());
            if selection.words.as_ref().is_none_or(|ws| ws.contains(word)) {
                ids.push(id);
                words.push(word.clone());
            }
        }
    }
    let chosen = choose(root, &ids, &words, selection, &|id| all.contains(id))?;
    let mut clips = Vec::with_capacity(chosen.len());
    for i in chosen {
        let label = Label {
            word: Some(words[i].clone()),
            ..Label::default()
        };
        if let Some(clip) = reader.read(ids[i].clone(), &root.join(&ids[i]), label)? {
            clips.push(clip);
        }
    }
    Ok(clips)
}
