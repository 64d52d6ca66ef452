//! The NSynth layout: `examples.json` (note id → metadata) and `audio/<note_id>.wav`.

use std::path::Path;

use serde_json::{Map, Value};

use super::{choose, reject_option, Clip, ClipReader, DatasetError, Format, Label, Selection};

/// One note's metadata, as far as selection and labels need it.
struct Note {
    id: String,
    label: Label,
    qualities: Vec<String>,
}

fn field_str(
    meta: &Path,
    id: &str,
    obj: &Map<String, Value>,
    key: &str,
) -> Result<String, DatasetError> {
    obj.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| DatasetError::Metadata {
            path: meta.to_path_buf(),
            reason: format!("note '{id}' lacks the string field '{key}'"),
        })
}

fn field_u8(
    meta: &Path,
    id: &str,
    obj: &Map<String, Value>,
    key: &str,
) -> Result<u8, DatasetError> {
    obj.get(key)
        .and_then(Value::as_u64)
        .filter(|&v| v <= 127)
        .map(|v| v as u8)
        .ok_or_else(|| DatasetError::Metadata {
            path: meta.to_path_buf(),
            reason: format!("note '{id}' lacks a '{key}' between 0 and 127"),
        })
}

fn parse_examples(meta: &Path) -> Result<Vec<Note>, DatasetError> {
    let text = std::fs::read_to_string(meta).map_err(|source| DatasetError::Io {
        path: meta.to_path_buf(),
        source,
    })?;
    let root: Value = serde_json::from_str(&text).map_err(|e| DatasetError::Metadata {
        path: meta.to_path_buf(),
        reason: format!("not valid JSON: {e}"),
    })?;
    let Value::Object(map) = root else {
        return Err(DatasetError::Metadata {
            path: meta.to_path_buf(),
            reason: "expected a JSON object mapping note ids to metadata".into(),
        });
    };
    let mut notes = Vec::with_capacity(map.len());
    for (id, v) in map {
        let Value::Object(obj) = v else {
            return Err(DatasetError::Metadata {
                path: meta.to_path_buf(),
                reason: format!("note '{id}' is not a JSON object"),
            });
        };
        let qualities = match obj.get("qualities_str") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|q| {
                    q.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| DatasetError::Metadata {
                            path: meta.to_path_buf(),
                            reason: format!(
                                "note '{id}' has a non-string entry in 'qualities_str'"
                            ),
                        })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(DatasetError::Metadata {
                    path: meta.to_path_buf(),
                    reason: format!("note '{id}' has a 'qualities_str' that is not a list"),
                })
            }
        };
        let label = Label {
            pitch: Some(field_u8(meta, &id, &obj, "pitch")?),
            velocity: Some(field_u8(meta, &id, &obj, "velocity")?),
            family: Some(field_str(meta, &id, &obj, "instrument_family_str")?),
            instrument: obj
                .get("instrument_str")
                .and_then(Value::as_str)
                .map(str::to_string),
            source: obj
                .get("instrument_source_str")
                .and_then(Value::as_str)
                .map(str::to_string),
            word: None,
        };
        notes.push(Note {
            id,
            label,
            qualities,
        });
    }
    notes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(notes)
}

/// Reads the selected notes of an NSynth-format folder.
pub(super) fn load(
    root: &Path,
    selection: &Selection,
    reader: &mut ClipReader,
) -> Result<Vec<Clip>, DatasetError> {
    reject_option(selection.words.is_some(), "--words", Format::Nsynth)?;
    let meta = root.join("examples.json");
    let notes = parse_examples(&meta)?;
    let all_ids: std::collections::HashSet<&str> = notes.iter().map(|n| n.id.as_str()).collect();
    let candidates: Vec<&Note> = notes
        .iter()
        .filter(|n| {
            let family_ok = selection
                .families
                .as_ref()
                .is_none_or(|fs| n.label.family.as_ref().is_some_and(|f| fs.contains(f)));
            let pitch_ok = selection
                .pitches
                .as_ref()
                .is_none_or(|r| n.label.pitch.is_some_and(|p| r.contains(&p)));
            family_ok && pitch_ok && !selection.qualities.excludes(&n.qualities)
        })
        .collect();
    let ids: Vec<String> = candidates.iter().map(|n| n.id.clone()).collect();
    let keys: Vec<(String, u8)> = candidates
        .iter()
        .map(|n| {
            (
                n.label.family.clone().unwrap_or_default(),
                n.label.pitch.unwrap_or(0),
            )
        })
        .collect();
    let chosen = choose(root, &ids, &keys, selection, &|id| all_ids.contains(id))?;
    let mut clips = Vec::with_capacity(chosen.len());
    for i in chosen {
        let note = candidates[i];
        let audio = root.join("audio").join(format!("{}.wav", note.id));
        if !audio.is_file() {
            reader.skip_or_fail(DatasetError::MissingAudio {
                metadata: meta.clone(),
                id: note.id.clone(),
                audio,
            })?;
            continue;
        }
        if let Some(clip) = reader.read(note.id.clone(), &audio, note.label.clone())? {
            clips.push(clip);
        }
    }
    Ok(clips)
}
