//! The shape of `src/`, checked: no cycle between its top-level modules. A feature module
//! that needs the composition root, or two capabilities that need each other, show up here
//! as a failing test instead of as a slow tangle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module of `src/` → the top-level modules its files name as `crate::x`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() || (path.extension().is_some_and(|e| e == "rs") && !["lib", "main"].contains(&name.as_str())) {
            modules.insert(name);
        }
    }
    let mut graph = BTreeMap::new();
    for module in &modules {
        let mut files = Vec::new();
        let dir = src.join(module);
        if dir.is_dir() {
            let mut stack = vec![dir];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(d).unwrap() {
                    let p = entry.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|e| e == "rs") {
                        files.push(p);
                    }
                }
            }
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        let mut uses = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if modules.contains(&name) && &name != module {
                    uses.insert(name);
                }
            }
            // `use crate::{a, b::c}` groups.
            for (i, _) in text.match_indices("crate::{") {
                let group = &text[i + "crate::{".len()..];
                let group = &group[..group.find("};").unwrap_or(group.len())];
                for part in group.split(',') {
                    let name: String = part.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if modules.contains(&name) && &name != module {
                        uses.insert(name);
                    }
                }
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

/// A cycle through `start`, if any (depth-first).
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in &graph[at] {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_cycle_between_top_level_modules() {
    let graph = module_graph();
    assert!(graph.len() > 10 && graph["startup"].contains("routes"), "the graph was read: {graph:?}");
    let cycles: Vec<String> = graph.keys().filter_map(|m| cycle_from(&graph, m)).map(|c| c.join(" → ")).collect();
    assert!(cycles.is_empty(), "cycles between top-level modules of src/:\n{}", cycles.join("\n"));
}

#[test]
fn the_check_finds_a_cycle_when_there_is_one() {
    let mut graph = module_graph();
    graph.get_mut("outbox").unwrap().insert("worker".to_owned());
    assert!(cycle_from(&graph, "worker").is_some());
}
