//! General MIDI programs mapped to NSynth instrument families and sources.

/// NSynth's instrument families, in NSynth's index order.
pub const FAMILIES: [&str; 11] = [
    "bass",
    "brass",
    "flute",
    "guitar",
    "keyboard",
    "mallet",
    "organ",
    "reed",
    "string",
    "synth_lead",
    "vocal",
];

/// NSynth's instrument sources, in NSynth's index order.
pub const SOURCES: [&str; 3] = ["acoustic", "electronic", "synthetic"];

/// The NSynth family index of a General MIDI program, or `None` for programs with no NSynth
/// counterpart (synth pads and effects, percussive and sound-effect programs).
pub fn family_of(program: u8) -> Option<usize> {
    let name = match program {
        0..=7 => "keyboard",
        8..=15 => "mallet",
        16..=23 => "organ",
        24..=31 => "guitar",
        32..=39 => "bass",
        40..=51 => "string",
        52..=54 => "vocal",
        56..=63 => "brass",
        64..=71 => "reed",
        72..=79 => "flute",
        80..=87 => "synth_lead",
        _ => return None,
    };
    FAMILIES.iter().position(|f| *f == name)
}

/// The NSynth source index of a General MIDI program: electric instruments are
/// `electronic`, synthesiser programs `synthetic`, the rest `acoustic`.
pub fn source_of(program: u8) -> usize {
    match program {
        2 | 4 | 5 | 16..=18 | 26..=31 | 33 | 34 => 1,
        36..=39 | 62 | 63 | 80..=87 => 2,
        _ => 0,
    }
}

/// The General MIDI programs of a family, in ascending order.
pub fn programs_of(family: usize) -> Vec<u8> {
    (0u8..=127)
        .filter(|&p| family_of(p) == Some(family))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thesis_families_map_to_their_gm_ranges() {
        let kb = FAMILIES.iter().position(|f| *f == "keyboard").unwrap();
        let mallet = FAMILIES.iter().position(|f| *f == "mallet").unwrap();
        let guitar = FAMILIES.iter().position(|f| *f == "guitar").unwrap();
        assert_eq!(programs_of(kb), (0..=7).collect::<Vec<u8>>());
        assert_eq!(programs_of(mallet), (8..=15).collect::<Vec<u8>>());
        assert_eq!(programs_of(guitar), (24..=31).collect::<Vec<u8>>());
        assert_eq!(family_of(90), None);
        assert_eq!(SOURCES[source_of(0)], "acoustic");
        assert_eq!(SOURCES[source_of(4)], "electronic");
        assert_eq!(SOURCES[source_of(81)], "synthetic");
    }
}
