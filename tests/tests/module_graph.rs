//! Data flows one way: within each crate, no module imports (`use crate::…`, `use super::…`)
//! a module that imports it back, directly or through others. Reads the sources, builds the
//! graph of `use` edges between modules (files) and fails on any strongly connected group of
//! more than one module, naming them.
//!
//! What counts as an edge: a `use` of a path that starts at `crate`, `super` or `self`,
//! resolved to the longest prefix that is a module file of the crate (an item imported from a
//! module is an edge to that module). Brace groups are expanded one level. Test modules
//! (`#[cfg(test)] mod tests` and files under a `tests/` folder) are left out: tests may look
//! at anything. A call through a path without a `use` (`super::vnni::forward(..)`) is not an
//! edge: dispatch from a parent to its leaves is the direction the graph allows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose modules are checked.
const CRATES: [&str; 5] = ["common", "trainer", "synth", "xtask", "tests"];

/// A module's path inside its crate, e.g. `["evaluator", "kernel", "wide"]`.
type ModPath = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "tests") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines (`a/mod.rs` and `a.rs` both define `a`).
fn module_of(root: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    // A binary under src/bin/ is a crate root of its own.
    if parts.first().is_some_and(|p| p == "bin") {
        return vec![format!("bin:{}", parts[1..].join("/"))];
    }
    parts
}

/// The source without its inline test module.
fn without_tests(source: &str) -> &str {
    source
        .find("#[cfg(test)]\nmod tests")
        .map_or(source, |at| &source[..at])
}

/// Every `use` path of `source` that starts at `crate`, `super` or `self`, brace groups
/// expanded one level (`use super::{a, b::C}` gives `super::a` and `super::b::C`).
fn use_paths(source: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        // `use`, `pub use`, `pub(crate) use`, `pub(super) use`.
        let Some(at) = line.find("use ") else {
            continue;
        };
        let visibility = &line[..at];
        if !(visibility.is_empty() || visibility.starts_with("pub")) || line.starts_with("//") {
            continue;
        }
        let mut statement = line[at + 4..].to_string();
        while !statement.contains(';') {
            match lines.next() {
                Some(more) => statement.push_str(more),
                None => break,
            }
        }
        let text: String = statement
            .split(';')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !(text.starts_with("crate::")
            || text.starts_with("super::")
            || text.starts_with("self::"))
        {
            continue;
        }
        let (base, group) = match text.find("::{") {
            Some(i) => (&text[..i], Some(&text[i + 3..text.len() - 1])),
            None => (text.as_str(), None),
        };
        let base: Vec<String> = base.split("::").map(str::to_string).collect();
        match group {
            None => paths.push(base),
            Some(group) => {
                let mut depth = 0;
                let mut start = 0;
                let mut parts = Vec::new();
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            parts.push(&group[start..i]);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                parts.push(&group[start..]);
                for part in parts.into_iter().filter(|p| !p.is_empty()) {
                    let head = part.split("::{").next().unwrap();
                    let head = head.split(" as ").next().unwrap();
                    let mut path = base.clone();
                    if head != "self" {
                        path.extend(head.split("::").map(str::to_string));
                    }
                    paths.push(path);
                }
            }
        }
    }
    paths
}

/// The module `path` (written in module `from`) names, as the longest prefix that is a module.
fn resolve(from: &ModPath, path: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    // From a folder's root (`a/mod.rs`, module `a`) and from a leaf (`a/x.rs`, module `a::x`)
    // alike, `self` is the module itself and `super` its parent.
    let (mut current, mut rest): (ModPath, &[String]) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        _ => (from.clone(), path),
    };
    while let Some(first) = rest.first() {
        match first.as_str() {
            "super" => {
                current.pop();
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    (0..=rest.len()).rev().find_map(|k| {
        let mut candidate = current.clone();
        candidate.extend(rest[..k].iter().cloned());
        modules.contains(&candidate).then_some(candidate)
    })
}

/// The groups of more than one module that import each other (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        graph: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        found: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a ModPath) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(targets) = s.graph.get(v) {
            for w in targets {
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v, low);
                } else if s.on_stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v, low);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.clone());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                s.found.push(group);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

/// The `use` graph of one crate's modules.
fn graph_of(root: &Path) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let parsed: Vec<(ModPath, String)> = files
        .iter()
        .map(|f| (module_of(root, f), std::fs::read_to_string(f).unwrap()))
        .collect();
    let modules: BTreeSet<ModPath> = parsed.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (module, source) in &parsed {
        for path in use_paths(without_tests(source)) {
            if let Some(target) = resolve(module, &path, &modules) {
                if &target != module {
                    graph.entry(module.clone()).or_default().insert(target);
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut report = Vec::new();
    for krate in CRATES {
        let graph = graph_of(&workspace.join(krate).join("src"));
        for group in cycles(&graph) {
            let names: Vec<String> = group.iter().map(|m| m.join("::")).collect();
            report.push(format!("{krate}: {}", names.join(" <-> ")));
        }
    }
    assert!(report.is_empty(), "import cycles:\n{}", report.join("\n"));
}

#[test]
fn the_check_sees_a_cycle_and_resolves_paths() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(
        src.join("a/mod.rs"),
        "mod x;\nmod y;\nuse crate::b::Thing;\n",
    )
    .unwrap();
    std::fs::write(src.join("a/x.rs"), "use super::{y::Y, Z};\n").unwrap();
    std::fs::write(src.join("a/y.rs"), "pub struct Y;\nuse super::x;\n").unwrap();
    std::fs::write(src.join("b.rs"), "pub struct Thing;\n").unwrap();
    let graph = graph_of(src);
    let m = |p: &str| -> ModPath { p.split('/').map(str::to_string).collect() };
    assert!(graph[&m("a")].contains(&m("b")));
    assert!(graph[&m("a/x")].contains(&m("a/y")) && graph[&m("a/x")].contains(&m("a")));
    let found = cycles(&graph);
    assert_eq!(found.len(), 1, "{found:?}");
    let group: BTreeSet<ModPath> = found[0].iter().cloned().collect();
    assert_eq!(group, BTreeSet::from([m("a/x"), m("a/y")]));
}
