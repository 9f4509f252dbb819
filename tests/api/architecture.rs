//! The shape of `src/`, checked: no cycle between its top-level modules, no file longer than
//! one reader holds in mind, and no module reaching into another capability's HTTP handlers
//! for its rules. A feature module that needs the composition root, two capabilities that
//! need each other, or a console page that borrows an API handler's logic show up here as a
//! failing test instead of as a slow tangle.

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

fn source_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
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
    files.sort();
    files
}

/// The longest a file of `src/` may grow before it is split along the domain.
const MAX_LINES: usize = 600;

#[test]
fn no_source_file_is_longer_than_one_reader_holds_in_mind() {
    let files = source_files();
    assert!(files.len() > 50, "the files were read");
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}

/// The lines of one file of `src/` (`relative` to it) that reach into another capability's
/// `handlers`, or re-export from its own `handlers` anything but `routes` (which hands them
/// to others).
fn handler_imports(relative: &Path, text: &str) -> Vec<String> {
    let own = relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
    let mut found = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("::handlers") {
            let start = line[..i].rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map_or(0, |p| p + 1);
            let named = line[start..i].strip_prefix("crate::").map(|p| p.split("::").next().unwrap_or(""));
            if named.is_some_and(|capability| capability != own) {
                found.push(format!("{}: {}", relative.display(), line.trim()));
            }
        }
        let exported = line.trim_start().strip_prefix("pub use handlers::").map(|e| e.trim_end_matches(';'));
        if relative.file_name().is_some_and(|n| n == "mod.rs")
            && exported
                .is_some_and(|e| e.trim_matches(|c| c == '{' || c == '}').split(',').any(|n| n.trim() != "routes"))
        {
            found.push(format!("{}: {}", relative.display(), line.trim()));
        }
    }
    found
}

/// `handlers` modules are HTTP only: extract, call a workflow, map the answer. Nothing outside
/// a capability's own folder names them (the route table registers each capability through its
/// `routes`), so the console and the member pages go through the same workflows as the API.
#[test]
fn no_module_imports_another_capabilitys_handlers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let offenders: Vec<String> = source_files()
        .iter()
        .flat_map(|file| handler_imports(file.strip_prefix(&src).unwrap(), &std::fs::read_to_string(file).unwrap()))
        .collect();
    assert!(offenders.is_empty(), "modules reaching into handlers:\n{}", offenders.join("\n"));
}

#[test]
fn the_handlers_check_finds_a_console_page_using_an_api_handler() {
    let console = Path::new("console/roster.rs");
    assert_eq!(handler_imports(console, "        crate::roster::handlers::generate_draft(conn)").len(), 1);
    assert_eq!(handler_imports(console, "use crate::items::handlers::{TriageChoice};").len(), 1);
    assert!(handler_imports(console, "    // once crate::roster::handlers::generate_draft").is_empty(), "comments");
    assert!(
        handler_imports(Path::new("roster/mod.rs"), "    cfg.configure(crate::roster::handlers::routes)").is_empty()
    );
    assert_eq!(handler_imports(Path::new("members/mod.rs"), "pub use handlers::{MemberView, routes};").len(), 1);
    assert!(handler_imports(Path::new("members/mod.rs"), "pub use handlers::routes;").is_empty());
}
