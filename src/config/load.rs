//! Loading an experiment: read the file, apply `--set` overrides, dispatch on `algo.name`,
//! deserialise the typed sections, fill derived defaults, check values and the env.
//!
//! Every failure is a [`UsageError`] naming the file (or the `--set` argument), the key path,
//! its line:column and what is allowed.

use std::path::Path;

use toml_edit::{Document, DocumentMut, Item, Key, Value};

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::locate::{line_col, path_at, position_of};
use super::{EnvSection, Experiment, ExperimentSection};
use crate::algo::{ALGOS, Kind, RunShape, find};
use crate::env::EnvBackend;
use crate::env::TimeLimit;
use crate::env::multi::{is_multi_agent, make_multi_env};
use crate::error::UsageError;
use crate::hyper::Checker;
use crate::record::Expectations;
use crate::suggest::{closest, did_you_mean};

/// One `--set key.path=value` argument, parsed.
struct Override {
    arg: String,
    path: Vec<String>,
    value: Value,
}

/// What is being read: an experiment file as its author wrote it, or the `config.toml` a run
/// saved in its seed folder, whose `experiment.seeds` are the seeds that run was given
/// (`--seeds 0`, `--shard`), possibly fewer than `expect.seeds_passing` counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    ExperimentFile,
    SavedRun,
}

/// Reads and checks the experiment at `path` with `--set` overrides applied.
pub fn load(path: &Path, overrides: &[String]) -> Result<Experiment, UsageError> {
    read(path, overrides, Source::ExperimentFile)
}

/// Reads the `config.toml` of a run's seed folder (for `--resume`, `rl eval`, `rl collect`):
/// checked as an experiment file, except that `expect.seeds_passing` may exceed the seeds that
/// run was given.
pub fn load_saved(path: &Path) -> Result<Experiment, UsageError> {
    read(path, &[], Source::SavedRun)
}

fn read(path: &Path, overrides: &[String], source: Source) -> Result<Experiment, UsageError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError::new(format!("{origin}: cannot read the experiment file: {e}")))?;
    parse(&text, &origin, overrides, source)
}

/// Parses and checks experiment `text`; `origin` names it in messages (usually the file path).
pub fn load_str(text: &str, origin: &str, overrides: &[String]) -> Result<Experiment, UsageError> {
    parse(text, origin, overrides, Source::ExperimentFile)
}

fn parse(
    text: &str,
    origin: &str,
    overrides: &[String],
    source: Source,
) -> Result<Experiment, UsageError> {
    if text.trim().is_empty() {
        return Err(UsageError::new(format!(
            "{origin}: the file is empty; an experiment needs [experiment], [env] and [algo] tables \
             (see README.md, \"Experiment files\")"
        )));
    }
    let original = Document::parse(text.to_string()).map_err(|e| {
        let (line, col) = line_col(text, e.span().map_or(0, |s| s.start));
        UsageError::new(format!(
            "{origin}:{line}:{col}: invalid TOML: {}",
            e.message().trim()
        ))
    })?;
    let overrides = overrides
        .iter()
        .map(|arg| parse_override(arg))
        .collect::<Result<Vec<_>, _>>()?;

    let mut doc: DocumentMut = text.parse().expect("the text parsed above");
    for o in &overrides {
        apply_override(&mut doc, o)?;
    }
    let here = |path: &[String], message: String| -> UsageError {
        locate_error(&original, origin, &overrides, path, &message)
    };
    let path = |p: &str| -> Vec<String> { p.split('.').map(str::to_string).collect() };

    if doc.contains_key("sweep") {
        return Err(here(
            &path("sweep"),
            "[sweep]: this file is a sweep; run it with `rl sweep run` (or `rl sweep plan`)".into(),
        ));
    }
    const TABLES: [&str; 3] = ["experiment", "env", "algo"];
    const OPTIONAL: [&str; 1] = ["expect"];
    for table in TABLES {
        if !doc.get(table).is_some_and(Item::is_table_like) {
            // A misspelt table is named, at its position, before the missing one.
            if let Some((found, _)) = doc
                .iter()
                .find(|(k, _)| !TABLES.contains(k) && !OPTIONAL.contains(k))
            {
                return Err(here(
                    &path(found),
                    format!(
                        "unknown table [{found}] (an experiment has the tables [experiment], \
                         [env] and [algo], and optionally [expect]){}",
                        closest(found, TABLES.iter().chain(&OPTIONAL).copied())
                            .map_or_else(String::new, |t| format!("; did you mean [{t}]?"))
                    ),
                ));
            }
            return Err(here(&[], format!("missing table [{table}]")));
        }
    }
    let names: Vec<&str> = ALGOS.iter().map(|a| a.name).collect();
    let entry = match doc["algo"].get("name") {
        None => {
            return Err(here(
                &path("algo"),
                format!("algo.name: missing; allowed: {}", names.join(", ")),
            ));
        }
        Some(item) => {
            let name = item.as_str().ok_or_else(|| {
                here(
                    &path("algo.name"),
                    format!(
                        "algo.name: expected a string; allowed: {}",
                        names.join(", ")
                    ),
                )
            })?;
            find(name).ok_or_else(|| {
                here(
                    &path("algo.name"),
                    format!(
                        "algo.name: unknown algorithm `{name}`{}; allowed: {}",
                        did_you_mean(name, names.iter().copied()),
                        names.join(", ")
                    ),
                )
            })?
        }
    };
    doc["algo"]
        .as_table_like_mut()
        .expect("checked above")
        .remove("name");

    let merged = doc.to_string();
    let located = |e: toml::de::Error| {
        let merged_doc = Document::parse(merged.clone()).expect("re-serialised TOML parses");
        let key = path_at(&merged_doc, e.span().map_or(0, |s| s.start));
        let shown = if key.is_empty() {
            String::new()
        } else {
            format!("{}: ", key.join("."))
        };
        let message = e.message().trim();
        here(
            &key,
            format!("{shown}{message}{}", unknown_key_hint(message)),
        )
    };
    let sections: Sections = toml::from_str(&merged).map_err(located)?;
    let mut exp = Experiment {
        experiment: sections.experiment,
        env: sections.env,
        algo: (entry.parse)(&merged).map_err(located)?,
        expect: sections.expect,
    };
    if exp.algo.kind() == Kind::Learner {
        exp.experiment.eval_every = Some(exp.eval_every());
    }

    let mut errors = check(&exp, source);
    if let Some((key, message)) = errors.drain(..).next() {
        return Err(here(&path(&key), format!("{key}: {message}")));
    }
    Ok(exp)
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": the allowed key closest to `x`.
fn unknown_key_hint(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return String::new();
    };
    let Some((given, allowed)) = rest.split_once('`') else {
        return String::new();
    };
    did_you_mean(given, allowed.split('`').skip(1).step_by(2))
}

/// The experiment's own tables; `[algo]` is the registry's to parse.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sections {
    experiment: ExperimentSection,
    env: EnvSection,
    #[serde(default, rename = "algo")]
    _algo: Option<IgnoredAny>,
    #[serde(default)]
    expect: Option<Expectations>,
}

/// Range checks of every section plus the env/algorithm pairing.
fn check(exp: &Experiment, source: Source) -> Vec<(String, String)> {
    let mut c = Checker::new("experiment");
    let e = &exp.experiment;
    c.require("name", is_folder_name(&e.name), || {
        format!(
            "`{}` must be a folder name: letters, digits, `_`, `-`, `.`, `=`, `,`, `+`",
            e.name
        )
    });
    if exp.algo.kind() == Kind::Planner {
        for (key, given) in [
            ("total_steps", e.total_steps.is_some()),
            ("eval_every", e.eval_every.is_some()),
            ("checkpoint_every", e.checkpoint_every.is_some()),
        ] {
            c.require(key, !given, || {
                format!(
                    "does not apply to {}: planners do not train; a run evaluates the planner \
                     over eval_episodes episodes",
                    exp.algo.name()
                )
            });
        }
    } else {
        c.require("total_steps", e.total_steps.is_some_and(|t| t > 0), || {
            format!(
                "must be given and > 0: {} trains for this many steps",
                exp.algo.name()
            )
        });
        c.require("eval_every", e.eval_every.is_some_and(|v| v > 0), || {
            "must be > 0".into()
        });
        c.require(
            "eval_every",
            e.eval_every.is_none_or(|v| v <= exp.total_steps()),
            || {
                format!(
                    "{} must be at most experiment.total_steps = {} (a run evaluates at step 0, \
                     every eval_every steps and at the end)",
                    e.eval_every.unwrap_or_default(),
                    exp.total_steps()
                )
            },
        );
    }
    c.require("eval_episodes", e.eval_episodes > 0, || {
        "must be > 0".into()
    });
    c.require(
        "eval_max_episode_steps",
        e.eval_max_episode_steps > 0,
        || "must be > 0".into(),
    );
    c.require("jobs", e.jobs.is_none_or(|j| j > 0), || {
        "must be > 0".into()
    });
    c.require(
        "checkpoint_every",
        e.checkpoint_every.is_none_or(|c| c > 0),
        || "must be > 0".into(),
    );

    if let Some(x) = &exp.expect {
        let mut expect = Checker::new("expect");
        let seeds = e.seeds.0.len();
        let most = match source {
            Source::ExperimentFile => seeds,
            Source::SavedRun => usize::MAX,
        };
        expect.require(
            "seeds_passing",
            x.seeds_passing.is_none_or(|k| (1..=most).contains(&k)),
            || format!("must be between 1 and the {seeds} seeds of experiment.seeds"),
        );
        expect.require(
            "seeds_passing",
            x.seeds_passing.is_none() || x.min_final.is_some(),
            || "counts the seeds reaching min_final: set min_final too".into(),
        );
        for (key, value) in [
            ("min_final", x.min_final),
            ("min_iqm", x.min_iqm),
            ("threshold", x.threshold),
        ] {
            expect.require(key, value.is_none_or(f64::is_finite), || {
                "must be a finite number".into()
            });
        }
        expect.require(
            "max_steps_to_threshold",
            x.max_steps_to_threshold != Some(0),
            || "must be > 0".into(),
        );
        c.extend(expect);
    }
    let mut env_check = Checker::new("env");
    env_check.require("num_envs", exp.env.num_envs > 0, || "must be > 0".into());
    env_check.require(
        "max_episode_steps",
        exp.env.max_episode_steps.is_none_or(|m| m > 0),
        || "must be > 0".into(),
    );
    c.extend(env_check);
    let mut errors = c.into_errors();
    if is_multi_agent(&exp.env.id) {
        errors.extend(check_multi_agent(exp));
        return errors;
    }
    match exp.env.make() {
        Err(e) => errors.push((format!("env.{}", e.key), e.message)),
        Ok(env) => {
            let limit = exp.env.max_episode_steps.or(env.spec().max_episode_steps);
            let env = TimeLimit::new(env, limit);
            let mut algo_check = Checker::new("algo");
            exp.algo.check(&mut algo_check);
            errors.extend(algo_check.into_errors());
            // The cross checks below assume every key valid on its own (a zero `batch_size`
            // would divide by zero there): they wait until the keys are fixed.
            let keys_valid = errors.is_empty();
            if keys_valid && let Err((key, message)) = exp.algo.check_env(&env, exp.env.num_envs) {
                errors.push((key.to_string(), message));
            }
            if exp.env.backend == Some(EnvBackend::Gymnasium) && exp.algo.kind() == Kind::Planner {
                errors.push((
                    "env.backend".to_string(),
                    format!(
                        "{} plans on copies of the env, and a gymnasium env's Python state \
                         cannot be copied; use a learner (ppo, sac, dqn, ...)",
                        exp.algo.name()
                    ),
                ));
            }
            let shape = RunShape {
                env: &env,
                num_envs: exp.env.num_envs,
                total_steps: exp.total_steps(),
            };
            if keys_valid && let Some((key, message)) = exp.algo.check_run(&shape).error {
                errors.push((key.to_string(), message));
            }
        }
    }
    errors
}

/// A multi-agent env's options, then the algorithm's keys and its check of the env (a
/// single-agent algorithm refuses it, naming `algo.name`).
fn check_multi_agent(exp: &Experiment) -> Vec<(String, String)> {
    let id = &exp.env.id;
    let env = match make_multi_env(id, &exp.env.options()) {
        Ok(env) => env,
        Err(e) => return vec![(format!("env.{}", e.key), e.message)],
    };
    let mut errors = Vec::new();
    if exp.env.max_episode_steps.is_some() {
        errors.push((
            "env.max_episode_steps".to_string(),
            format!("does not apply to the multi-agent env {id}; its episode length is max_cycles"),
        ));
    }
    let mut algo_check = Checker::new("algo");
    exp.algo.check(&mut algo_check);
    errors.extend(algo_check.into_errors());
    if let Err((key, message)) = exp.algo.check_multi_env(env.spec(), exp.env.num_envs) {
        errors.push((key.to_string(), message));
    }
    errors
}

fn is_folder_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.=,+".contains(c))
}

fn parse_override(arg: &str) -> Result<Override, UsageError> {
    let bad = |why: &str| {
        UsageError::new(format!(
            "--set {arg}: {why}; expected key.path=value, e.g. --set algo.gamma=0.9"
        ))
    };
    let (key, value) = arg.split_once('=').ok_or_else(|| bad("no `=`"))?;
    let keys = Key::parse(key.trim()).map_err(|_| bad("invalid key path"))?;
    if keys.len() < 2 {
        return Err(bad("the key must name a table and a key"));
    }
    // A value that is not TOML (`CartPole-v1`, `0..5`) is taken as a string.
    let value = value
        .trim()
        .parse::<Value>()
        .unwrap_or_else(|_| Value::from(value.trim()));
    let path = keys.iter().map(|k| k.get().to_string()).collect();
    Ok(Override {
        arg: arg.to_string(),
        path,
        value,
    })
}

fn apply_override(doc: &mut DocumentMut, o: &Override) -> Result<(), UsageError> {
    let (last, parents) = o.path.split_last().expect("at least two keys");
    let mut item = doc.as_item_mut();
    for name in parents {
        let table = item.as_table_like_mut().ok_or_else(|| {
            UsageError::new(format!("--set {}: `{name}` is not inside a table", o.arg))
        })?;
        if table.get(name).is_none() {
            table.insert(name, Item::Table(toml_edit::Table::new()));
        }
        item = table.get_mut(name).expect("inserted above");
    }
    let table = item.as_table_like_mut().ok_or_else(|| {
        UsageError::new(format!(
            "--set {}: `{}` is not a table",
            o.arg,
            parents.join(".")
        ))
    })?;
    table.insert(last, Item::Value(o.value.clone()));
    Ok(())
}

/// Formats an error at `path`: in the `--set` argument that wrote it, or at its position in the file.
fn locate_error(
    original: &Document<String>,
    origin: &str,
    overrides: &[Override],
    path: &[String],
    message: &str,
) -> UsageError {
    if let Some(o) = overrides
        .iter()
        .rev()
        .find(|o| !path.is_empty() && path.starts_with(&o.path))
    {
        return UsageError::new(format!("--set {}: {message}", o.arg));
    }
    let (line, col) = position_of(original, path).unwrap_or((1, 1));
    UsageError::new(format!("{origin}:{line}:{col}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped experiment loads, and its saved (resolved) config loads back to itself.
    #[test]
    fn shipped_experiments_round_trip_through_the_saved_config() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments");
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let sweep = file.starts_with("sweep_");
            let is_toml = path.extension().is_some_and(|e| e == "toml");
            // An `algo.expert` is a finished run made first (`make experts`; tests/it/golden.rs
            // makes them on its budget and runs these files against them).
            // A bridged env is loaded by asking its Python for the spaces: what it needs
            // (MuJoCo, Box2D) is installed or not; tests/it/bridge.rs covers the bridge.
            let table = is_toml.then(|| {
                std::fs::read_to_string(&path)
                    .unwrap()
                    .parse::<toml::Table>()
                    .unwrap()
            });
            let key = |t: &toml::Table, section: &str, key: &str| {
                t.get(section).and_then(|s| s.get(key)).cloned()
            };
            let needs_expert = table
                .as_ref()
                .is_some_and(|t| key(t, "algo", "expert").is_some());
            let bridged = table
                .as_ref()
                .is_some_and(|t| key(t, "env", "backend").is_some());
            if is_toml && !sweep && !needs_expert && !bridged {
                let exp = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
                let again = load_str(&exp.to_toml(), "saved", &[]).unwrap();
                assert_eq!(exp, again, "{}", path.display());
                count += 1;
            }
        }
        assert!(count >= 7);
    }

    #[test]
    fn overrides_create_keys_and_win_over_the_file() {
        let text = "[experiment]\nname = \"x\"\ntotal_steps = 10\n[env]\nid = \"Taxi-v3\"\n[algo]\nname = \"sarsa\"\n";
        let set = [
            "algo.gamma=0.5".to_string(),
            "env.id=CliffWalking-v0".to_string(),
        ];
        let exp = load_str(text, "t", &set).unwrap();
        assert_eq!(exp.env.id, "CliffWalking-v0");
        match exp.algo {
            crate::algo::AlgoConfig::Sarsa(cfg) => assert_eq!(cfg.td.gamma, 0.5),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            exp.experiment.eval_every,
            Some(1),
            "total_steps / 20, at least 1"
        );
    }
}
