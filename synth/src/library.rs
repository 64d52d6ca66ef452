//! The presets compiled into the instrument besides its default: the shipped library
//! (`presets/library/`, listed by the build script in name order). A saved project names a
//! library preset as `library:NAME`.

/// One preset of the library.
#[derive(Debug, Clone, Copy)]
pub struct LibraryPreset {
    /// The file stem, as the browser and the `Preset` parameter show it.
    pub name: &'static str,
    /// The `.sirenade` file.
    pub bytes: &'static [u8],
}

/// The library, in name order.
pub const LIBRARY: &[LibraryPreset] = include!(concat!(env!("OUT_DIR"), "/library.rs"));

/// How a saved preset choice names a library preset: `library:NAME`.
pub const LIBRARY_PREFIX: &str = "library:";

/// The library preset a saved path names (`library:NAME`), if it is one and exists.
pub fn find(path: &str) -> Option<&'static LibraryPreset> {
    let name = path.strip_prefix(LIBRARY_PREFIX)?;
    LIBRARY.iter().find(|p| p.name == name)
}

/// The saved path of a library preset.
pub fn path_of(preset: &LibraryPreset) -> String {
    format!("{LIBRARY_PREFIX}{}", preset.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Controls, Sound};
    use crate::offline::{render_notes, Note};

    /// Every shipped preset (the default and each library preset) loads, validates, and plays
    /// a note that is finite and not silent; each is found by its saved path.
    #[test]
    fn every_shipped_preset_loads_and_plays() {
        let mut sounds = vec![("default".to_string(), Sound::embedded())];
        for p in LIBRARY {
            let sound = Sound::from_bytes(p.bytes, &path_of(p))
                .unwrap_or_else(|e| panic!("library preset {}: {e}", p.name));
            assert_eq!(find(&path_of(p)).map(|found| found.name), Some(p.name));
            sounds.push((p.name.to_string(), sound));
        }
        for (name, sound) in sounds {
            let key = sound.item_pitch(0).unwrap_or(60);
            let controls = Controls {
                gain: 1.0,
                ..Controls::default()
            };
            let note = Note {
                start: 0,
                end: Some(24_000),
                key,
                velocity: 0.8,
                channel: 0,
            };
            let audio = render_notes(&sound, &controls, 48_000.0, &[note], 38_400);
            let peak = audio.iter().flatten().fold(0.0f32, |m, &s| {
                assert!(s.is_finite(), "{name}: a sample is not finite");
                m.max(s.abs())
            });
            assert!(peak > 1e-3, "{name}: the note is silent (peak {peak})");
        }
        assert_eq!(find("library:no-such-preset").map(|p| p.name), None);
        assert_eq!(find("keyboard").map(|p| p.name), None);
    }
}
