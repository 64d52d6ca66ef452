//! The preset's items as the editor lists them: grouped by instrument, family or word, in the
//! order the preset first names each group, and narrowed by a search text.

use crate::engine::Sound;

/// One group of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The instrument, family or word (`items` when the preset labels none).
    pub name: String,
    /// Its items: (index, readable name).
    pub items: Vec<(usize, String)>,
}

/// The items of `sound` grouped, keeping those whose name, id or group contains every word of
/// `query` (case-insensitive; an empty query keeps all). Groups left empty are dropped.
pub fn grouped(sound: &Sound, query: &str) -> Vec<Group> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut groups: Vec<Group> = Vec::new();
    for i in 0..sound.items() {
        let group = match sound.item_group(i) {
            Some(g) if !g.is_empty() => g,
            _ => "items",
        };
        let name = sound.item_name(i).unwrap_or("");
        let id = sound.item_id(i).unwrap_or("");
        let haystack = format!("{name} {id} {group}").to_lowercase();
        if !words.iter().all(|w| haystack.contains(w.as_str())) {
            continue;
        }
        let entry = (i, name.to_string());
        match groups.iter_mut().find(|g| g.name == group) {
            Some(g) => g.items.push(entry),
            None => groups.push(Group {
                name: group.to_string(),
                items: vec![entry],
            }),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded keyboard preset groups by instrument, every item once, in index order
    /// within each group; a search narrows by name and by group.
    #[test]
    fn items_group_by_instrument_and_narrow_by_search() {
        let sound = Sound::embedded();
        let all = grouped(&sound, "");
        let listed: usize = all.iter().map(|g| g.items.len()).sum();
        assert_eq!(listed, sound.items());
        assert!(all.len() > 1, "the keyboard set has several instruments");
        for g in &all {
            assert!(g.items.windows(2).all(|w| w[0].0 < w[1].0));
            for (i, _) in &g.items {
                assert_eq!(sound.item_group(*i), Some(g.name.as_str()));
            }
        }
        let first = &all[0];
        let narrowed = grouped(&sound, &first.name.to_uppercase());
        assert_eq!(narrowed.len(), 1);
        assert_eq!(narrowed[0], *first);
        let (index, name) = first.items[0].clone();
        let by_name = grouped(&sound, &name);
        assert!(by_name
            .iter()
            .flat_map(|g| &g.items)
            .any(|(i, _)| *i == index));
        assert!(grouped(&sound, "no-such-sound-anywhere").is_empty());
    }
}
