//! A sweep file: the `[sweep]` table (the config keys to vary, as grid lists or random-search
//! distributions; random samples; the sweep's own seed; the seeds of every trial) and the base
//! experiment it varies: the file's own tables, or the experiment file `base` names.

use std::path::Path;

use toml_edit::{Document, Item, Key, Value};

use super::distribution::Distribution;
use crate::config::{Seeds, line_col};
use crate::error::UsageError;
use crate::suggest::did_you_mean;

/// The keys of `[sweep]` itself; any other key names a config key to vary.
const RESERVED: [&str; 5] = ["name", "base", "seeds", "samples", "seed"];
/// Config keys the sweep sets for every trial.
const OWN_KEYS: [(&str, &str); 3] = [
    ("experiment.name", "a trial is named by its values"),
    ("experiment.seeds", "give the seeds with `seeds` in [sweep]"),
    ("experiment.out_dir", "give the results root with --out"),
];

/// A parsed `[sweep]` table and the text of the experiment it varies.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// Names the results folder `<out>/<name>/` (default: the sweep file's stem).
    pub name: String,
    /// The base experiment (TOML text; in a file with both, `[sweep]` blanked out) and the file
    /// it comes from, for messages.
    pub base: String,
    pub base_origin: String,
    /// The file that holds `[sweep]`, for messages.
    pub origin: String,
    /// Seeds of every trial (default: the base experiment's).
    pub seeds: Option<Seeds>,
    /// Grid keys and their values, in file order.
    pub grid: Vec<(String, Vec<Value>)>,
    /// Random-search keys and their distributions, in file order.
    pub random: Vec<(String, Distribution)>,
    /// Random draws per grid point (required with random keys).
    pub samples: usize,
    /// The seed of the random draws (default 0).
    pub seed: u64,
}

/// Reads and checks the sweep file at `path`; nothing else is read but its `base`.
pub fn read(path: &Path) -> Result<SweepSpec, UsageError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError::new(format!("{origin}: cannot read the sweep file: {e}")))?;
    let doc = Document::parse(text.clone()).map_err(|e| {
        let (line, col) = line_col(&text, e.span().map_or(0, |s| s.start));
        UsageError::new(format!(
            "{origin}:{line}:{col}: invalid TOML: {}",
            e.message().trim()
        ))
    })?;
    let Some((sweep_key, sweep)) = doc.as_table().get_key_value("sweep") else {
        return Err(UsageError::new(format!(
            "{origin}: no [sweep] table; a sweep file holds an experiment (or `base = \"x.toml\"`) \
             and a [sweep] table of the keys to vary, e.g. \"algo.learning_rate\" = [1e-4, 3e-4] \
             (see README.md, \"Sweeps\")"
        )));
    };
    let sweep_item = sweep;
    let Some(sweep) = sweep.as_table_like() else {
        return Err(UsageError::new(format!(
            "{}: sweep: expected a table",
            at(&origin, &text, sweep_key)
        )));
    };
    let mut spec = SweepSpec {
        name: path
            .file_stem()
            .map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned()),
        base: String::new(),
        base_origin: origin.clone(),
        origin: origin.clone(),
        seeds: None,
        grid: Vec::new(),
        random: Vec::new(),
        samples: 0,
        seed: 0,
    };
    let mut samples = None;
    let mut base = None;
    for (name, item) in sweep.iter() {
        let key = sweep.key(name).expect("iterated");
        let here = |message: String| {
            UsageError::new(format!(
                "{}: sweep.{name}: {message}",
                at(&origin, &text, key)
            ))
        };
        let integer = |item: &Item, min: i64| {
            item.as_integer()
                .filter(|n| *n >= min)
                .ok_or_else(|| here(format!("expected an integer ≥ {min}")))
        };
        match name {
            "name" => {
                spec.name = item
                    .as_str()
                    .ok_or_else(|| here("expected a string".into()))?
                    .to_string()
            }
            "base" => {
                let file = item
                    .as_str()
                    .ok_or_else(|| here("expected the path of an experiment file".into()))?;
                base = Some(path.parent().unwrap_or(Path::new("")).join(file));
            }
            "seeds" => spec.seeds = Some(seeds(item).map_err(here)?),
            "samples" => samples = Some(integer(item, 1)? as usize),
            "seed" => spec.seed = integer(item, 0)? as u64,
            "halving" => {
                return Err(here(
                    "successive halving is not implemented: a sweep runs every trial to the \
                     full budget (grid or random search)"
                        .into(),
                ));
            }
            _ if item.is_table_like() && !item.is_inline_table() || name.contains('.') => {
                vary(&mut spec, name, key, item, &text)?
            }
            _ => {
                return Err(here(format!(
                    "unknown key: [sweep] takes {} and the config keys to vary, written \
                     \"table.key\" (e.g. \"algo.learning_rate\" = [1e-4, 3e-4]){}",
                    RESERVED.join(", "),
                    did_you_mean(name, RESERVED)
                )));
            }
        }
    }
    if spec.grid.is_empty() && spec.random.is_empty() {
        return Err(UsageError::new(format!(
            "{}: [sweep] varies no key; add e.g. \"algo.learning_rate\" = [1e-4, 3e-4]",
            at(&origin, &text, sweep_key)
        )));
    }
    spec.samples = match (samples, spec.random.is_empty()) {
        (Some(n), false) => n,
        (None, true) => 1,
        (None, false) => {
            return Err(UsageError::new(format!(
                "{}: sweep.samples: missing: random search over {} needs the number of draws, \
                 e.g. samples = 20",
                at(&origin, &text, sweep_key),
                spec.random[0].0
            )));
        }
        (Some(_), true) => {
            return Err(UsageError::new(format!(
                "{}: sweep.samples: no key has a distribution to draw from (a grid list runs \
                 every value once)",
                at(&origin, &text, sweep_key)
            )));
        }
    };
    match base {
        Some(file) => {
            if let Some(other) = doc
                .as_table()
                .iter()
                .map(|(k, _)| k)
                .find(|k| *k != "sweep")
            {
                return Err(UsageError::new(format!(
                    "{origin}: [{other}]: a sweep file with `base` holds only [sweep]; vary or \
                     set the base's keys in [sweep] (a one-value list sets a key)"
                )));
            }
            spec.base = std::fs::read_to_string(&file).map_err(|e| {
                UsageError::new(format!(
                    "{origin}: sweep.base: cannot read {}: {e}",
                    file.display()
                ))
            })?;
            spec.base_origin = file.display().to_string();
        }
        None => spec.base = without_sweep(&text, sweep_key, sweep_item),
    }
    Ok(spec)
}

/// Adds the swept key(s) under `path`: a list is a grid, an inline table a distribution, a
/// table holds further keys.
fn vary(
    spec: &mut SweepSpec,
    path: &str,
    key: &Key,
    item: &Item,
    text: &str,
) -> Result<(), UsageError> {
    let here = |message: String| {
        UsageError::new(format!(
            "{}: sweep.\"{path}\": {message}",
            at(&spec.origin, text, key)
        ))
    };
    if let Some(table) = item.as_table() {
        for (name, child) in table.iter() {
            let child_key = table.key(name).expect("iterated");
            vary(spec, &format!("{path}.{name}"), child_key, child, text)?;
        }
        return Ok(());
    }
    if !path.contains('.') {
        return Err(here(
            "a swept key names its table and key, e.g. \"algo.learning_rate\"".into(),
        ));
    }
    if let Some((_, why)) = OWN_KEYS.iter().find(|(k, _)| *k == path) {
        return Err(here(format!("cannot be swept: {why}")));
    }
    if spec.grid.iter().any(|(k, _)| k == path) || spec.random.iter().any(|(k, _)| k == path) {
        return Err(here("given twice".into()));
    }
    match item.as_value() {
        Some(Value::Array(values)) if values.is_empty() => {
            Err(here("empty list: a grid needs at least one value".into()))
        }
        Some(Value::Array(values)) => {
            // Each value as written (`3e-4` stays `3e-4` in the trial's id).
            let values = values
                .iter()
                .map(|v| {
                    v.span()
                        .and_then(|s| text[s].parse::<Value>().ok())
                        .unwrap_or_else(|| v.clone())
                        .decorated("", "")
                })
                .collect();
            spec.grid.push((path.to_string(), values));
            Ok(())
        }
        Some(Value::InlineTable(table)) if table.len() == 1 => {
            let (name, args) = table.iter().next().expect("one entry");
            let distribution = Distribution::parse(name, args).map_err(here)?;
            spec.random.push((path.to_string(), distribution));
            Ok(())
        }
        _ => Err(here(
            "expected a list of values to try (e.g. [1e-4, 3e-4]) or one distribution: \
             { uniform = [low, high] }, { log_uniform = [low, high] }, { integer = [low, high] } \
             or { choice = [a, b] }"
                .into(),
        )),
    }
}

/// `seeds = "0..5"` or `[0, 3, 7]`.
fn seeds(item: &Item) -> Result<Seeds, String> {
    match item.as_value() {
        Some(Value::String(s)) => Seeds::parse(s.value()),
        Some(Value::Array(list)) => Seeds::from_list(
            list.iter()
                .map(|v| {
                    v.as_integer()
                        .and_then(|i| u64::try_from(i).ok())
                        .ok_or_else(|| format!("`{}` is not a seed", v.to_string().trim()))
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => Err("expected a seed range such as \"0..5\" or a list such as [0, 3, 7]".into()),
    }
}

/// `file:line:col` of `key` in `text`.
fn at(origin: &str, text: &str, key: &Key) -> String {
    let (line, col) = line_col(text, key.span().map_or(0, |s| s.start));
    format!("{origin}:{line}:{col}")
}

/// `text` with every line of the `[sweep]` table (headers, keys, values) blanked, so that the
/// base experiment's errors keep their line numbers.
fn without_sweep(text: &str, key: &Key, sweep: &Item) -> String {
    let mut spans: Vec<std::ops::Range<usize>> = key.span().into_iter().collect();
    collect_spans(sweep, &mut spans);
    let mut blank = vec![false; text.lines().count() + 1];
    for span in spans {
        let (first, _) = line_col(text, span.start);
        let (last, _) = line_col(text, span.end.saturating_sub(1).max(span.start));
        for line in first..=last {
            blank[line - 1] = true;
        }
    }
    text.lines()
        .enumerate()
        .map(|(i, line)| if blank[i] { "" } else { line })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The spans of the table headers, keys and values of `item`.
fn collect_spans(item: &Item, spans: &mut Vec<std::ops::Range<usize>>) {
    let Item::Table(table) = item else {
        spans.extend(item.span());
        return;
    };
    spans.extend(table.span());
    for (name, child) in table.iter() {
        spans.extend(table.key(name).and_then(Key::span));
        collect_spans(child, spans);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<SweepSpec, UsageError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        read(&path)
    }

    const BASE: &str = "[experiment]\nname = \"x\"\ntotal_steps = 10\n\n[env]\nid = \"Taxi-v3\"\n";

    #[test]
    fn quoted_dotted_and_table_keys_all_vary() {
        let text = format!(
            "{BASE}\n[sweep]\nseeds = [3, 4]\n\"algo.gamma\" = [0.9, 0.99]\n\
             experiment.eval_episodes = [5, 10]\nsamples = 2\n\n[sweep.algo]\n\
             learning_rate = {{ log_uniform = [0.01, 1] }}\n\n[algo]\nname = \"q_learning\"\n"
        );
        let spec = read_text(&text).unwrap();
        let keys: Vec<&str> = spec.grid.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["algo.gamma", "experiment.eval_episodes"]);
        assert_eq!(spec.random[0].0, "algo.learning_rate");
        assert_eq!((spec.samples, spec.seeds.unwrap().0), (2, vec![3, 4]));
        assert_eq!(spec.name, "s");
        // The base keeps its line numbers, [sweep] blanked.
        assert_eq!(spec.base.lines().count(), text.lines().count());
        assert!(!spec.base.contains("sweep") && spec.base.contains("name = \"q_learning\""));
        let error = crate::config::load_str(
            &spec
                .base
                .replace("name = \"q_learning\"", "name = \"q_lerning\""),
            "s.toml",
            &[],
        )
        .unwrap_err();
        let line = text.lines().position(|l| l.contains("q_learning")).unwrap() + 1;
        assert!(error.0.starts_with(&format!("s.toml:{line}:")), "{error}");
    }

    #[test]
    fn a_base_file_is_read_beside_the_sweep() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.toml"), BASE).unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "[sweep]\nbase = \"b.toml\"\nname = \"n\"\n\"algo.gamma\" = [0.9]\n",
        )
        .unwrap();
        let spec = read(&path).unwrap();
        assert_eq!((spec.base.as_str(), spec.name.as_str()), (BASE, "n"));
        std::fs::write(
            &path,
            "[sweep]\nbase = \"b.toml\"\n\"algo.gamma\" = [0.9]\n[env]\n",
        )
        .unwrap();
        assert!(read(&path).unwrap_err().0.contains("holds only [sweep]"));
    }

    #[test]
    fn sweep_errors_name_the_key() {
        let error = |sweep: &str| {
            read_text(&format!("{BASE}[sweep]\n{sweep}\n"))
                .unwrap_err()
                .0
        };
        assert!(error("").contains("varies no key"));
        assert!(error("halving.keep = 0.33").contains("not implemented"));
        assert!(error("gamma = [0.9]").contains("sweep.gamma: unknown key"));
        assert!(error("\"algo.gamma\" = 0.9").contains("expected a list of values"));
        assert!(error("\"algo.gamma\" = [0.9]\nsamples = 3").contains("no key has a distribution"));
        assert!(error("\"algo.gamma\" = [0.9]\nalgo.gamma = [0.5]").contains("given twice"));
        assert!(
            error("seed = -1\n\"algo.gamma\" = [0.9]")
                .contains("sweep.seed: expected an integer ≥ 0")
        );
    }
}
