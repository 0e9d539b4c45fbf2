//! The layers of `docs/ARCHITECTURE.md`, kept true: every `crate::<module>` path written in a
//! source file (in `use` lines and inline) must point at a module its layer may depend on.

use std::path::{Path, PathBuf};

/// `(layer, modules it must not reach)`. A layer is a top-level module of `src/`.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "space",
        &[
            "env", "nn", "algo", "session", "run", "config", "plan", "report", "commands", "cli",
        ],
    ),
    (
        "suggest",
        &[
            "env", "nn", "algo", "session", "run", "config", "plan", "report", "commands", "cli",
        ],
    ),
    (
        "rng",
        &[
            "env", "nn", "algo", "session", "run", "config", "plan", "report", "commands", "cli",
        ],
    ),
    (
        "env",
        &[
            "nn", "algo", "session", "run", "config", "plan", "report", "commands", "cli",
        ],
    ),
    (
        "nn",
        &[
            "env", "algo", "session", "run", "config", "plan", "report", "commands", "cli",
        ],
    ),
    (
        "hyper",
        &[
            "env", "nn", "algo", "session", "run", "config", "plan", "report", "commands", "cli",
        ],
    ),
    (
        "buffer",
        &["algo", "run", "config", "plan", "report", "commands", "cli"],
    ),
    (
        "record",
        &[
            "env", "nn", "algo", "session", "run", "config", "plan", "report", "commands", "cli",
        ],
    ),
    (
        "plan",
        &["algo", "run", "config", "report", "commands", "cli"],
    ),
    (
        "session",
        &["algo", "run", "config", "plan", "report", "commands", "cli"],
    ),
    ("algo", &["run", "config", "report", "commands", "cli"]),
    ("config", &["run", "report", "commands", "cli", "sweep"]),
    (
        "report",
        &[
            "env", "nn", "algo", "session", "run", "config", "plan", "buffer", "commands", "cli",
        ],
    ),
    ("run", &["report", "commands", "cli", "sweep"]),
    ("sweep", &["report", "commands", "cli"]),
];

/// What `src/config/` may name of `src/algo/`: the registry and the seam's vocabulary (the
/// run's shape, its cross-table checks and memory footprint), never an algorithm's own file.
const ALGO_REGISTRY_ITEMS: &[&str] = &[
    "AlgoConfig",
    "ALGOS",
    "AlgoEntry",
    "Algorithm",
    "CrossChecks",
    "Footprint",
    "Kind",
    "RunShape",
    "UpdateWork",
    "find",
    "registry",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module paths after each `crate::` in `text`; groups are expanded (`crate::{a, b::{c, d}}`
/// gives `a`, `b::c` and `b::d`).
fn crate_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        expand("", &text[i + "crate::".len()..], &mut paths);
    }
    paths
}

/// Pushes the paths of the use tree at the start of `rest`, each after `prefix`; returns the
/// length of the tree read.
fn expand(prefix: &str, rest: &str, paths: &mut Vec<String>) -> usize {
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(rest.len());
    let head = format!("{prefix}{}", &rest[..end]);
    if rest[end..].starts_with('{') {
        let mut at = end + 1;
        loop {
            let item = &rest[at..];
            let skipped = item.len() - item.trim_start_matches([' ', '\n', ',']).len();
            at += skipped;
            if rest[at..].starts_with('}') || at >= rest.len() {
                return at + 1;
            }
            at += expand(&head, &rest[at..], paths);
        }
    }
    paths.push(head.trim_end_matches(':').to_string());
    end
}

#[test]
fn every_layer_imports_only_what_lies_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let layer = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(file).unwrap();
        for path in crate_paths(&text) {
            let target = path.split("::").next().unwrap_or("");
            if target == layer {
                continue;
            }
            let forbidden = FORBIDDEN
                .iter()
                .find(|(l, _)| *l == layer)
                .is_some_and(|(_, f)| f.contains(&target));
            let algorithm_file = layer == "config"
                && target == "algo"
                && !path
                    .split("::")
                    .nth(1)
                    .is_some_and(|item| ALGO_REGISTRY_ITEMS.contains(&item));
            if forbidden || algorithm_file {
                violations.push(format!("{}: crate::{path}", relative.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports that cross the layers of docs/ARCHITECTURE.md:\n{}",
        violations.join("\n")
    );
}

#[test]
fn crate_paths_are_read_from_use_lines_and_inline_paths() {
    let text = "use crate::{env::Space, rng};\nuse crate::algo::{ALGOS, find};\n\
                let x = crate::algo::planning::DIAGNOSTICS;\nuse crate::{a::{b, c::{d}}, e};";
    assert_eq!(
        crate_paths(text),
        [
            "env::Space",
            "rng",
            "algo::ALGOS",
            "algo::find",
            "algo::planning::DIAGNOSTICS",
            "a::b",
            "a::c::d",
            "e"
        ]
    );
}
