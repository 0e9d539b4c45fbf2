//! Reading result folders: `<experiment>/seed_<k>/{curve.csv, meta.json}`. A path may name a
//! seed folder, an experiment folder or a folder of experiments; globs are expanded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::stats::Curve;
use crate::error::UsageError;
use crate::record::{Meta, Status};

/// One seed's results.
#[derive(Clone, Debug)]
pub struct SeedResult {
    pub dir: PathBuf,
    pub meta: Meta,
    /// Eval return against env steps; present for complete seeds.
    pub curve: Option<Curve>,
    /// Training seconds (`wall_s`) of each evaluation row; empty for incomplete seeds.
    pub wall_s: Vec<f64>,
}

/// The seeds of one experiment folder.
#[derive(Clone, Debug)]
pub struct ExperimentResults {
    pub dir: PathBuf,
    pub name: String,
    pub algo: String,
    pub env: String,
    /// The env's solve threshold as the first seed recording one has it (`Some(None)`: the
    /// env has none); `None` when every meta.json predates the record.
    pub reward_threshold: Option<Option<f64>>,
    pub seeds: Vec<SeedResult>,
}

impl ExperimentResults {
    /// The seeds whose run completed (the only ones statistics use).
    pub fn complete(&self) -> impl Iterator<Item = (&SeedResult, &Curve)> {
        self.seeds
            .iter()
            .filter_map(|s| s.curve.as_ref().map(|c| (s, c)))
    }

    /// Seeds that did not complete, with their status and error (flagged in reports, never
    /// mixed in).
    pub fn incomplete(&self) -> Vec<(u64, Status, Option<&str>)> {
        self.seeds
            .iter()
            .filter(|s| s.curve.is_none())
            .map(|s| (s.meta.seed, s.meta.status, s.meta.error.as_deref()))
            .collect()
    }
}

/// Loads every experiment named by `args` (paths or globs), in the order given; folders
/// holding seeds of one experiment (same name and resolved config, rl build and backend) are
/// pooled into one (see [`pool`](super::pool)).
pub fn load(args: &[String]) -> Result<Vec<ExperimentResults>, UsageError> {
    super::pool::pool(load_unpooled(args)?)
}

/// As [`load`], one experiment per folder (nothing pooled).
pub fn load_unpooled(args: &[String]) -> Result<Vec<ExperimentResults>, UsageError> {
    let mut experiments: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut order: Vec<PathBuf> = Vec::new();
    for arg in args {
        for path in expand(arg)? {
            for (experiment, seed_dirs) in classify(&path)? {
                if !experiments.contains_key(&experiment) {
                    order.push(experiment.clone());
                }
                let entry = experiments.entry(experiment).or_default();
                for d in seed_dirs {
                    if !entry.contains(&d) {
                        entry.push(d);
                    }
                }
            }
        }
    }
    order
        .into_iter()
        .map(|dir| {
            let seed_dirs = experiments.remove(&dir).expect("listed above");
            read_experiment(dir, seed_dirs)
        })
        .collect()
}

fn expand(arg: &str) -> Result<Vec<PathBuf>, UsageError> {
    if !arg.contains(['*', '?', '[']) {
        return Ok(vec![PathBuf::from(arg)]);
    }
    let paths: Vec<PathBuf> = glob::glob(arg)
        .map_err(|e| UsageError::new(format!("{arg}: invalid glob: {e}")))?
        .filter_map(Result::ok)
        .collect();
    if paths.is_empty() {
        return Err(UsageError::new(format!("{arg}: matches no path")));
    }
    Ok(paths)
}

fn is_seed_dir(path: &Path) -> bool {
    path.join("meta.json").is_file()
}

fn seed_dirs_in(path: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed_"))
                && is_seed_dir(p)
        })
        .collect();
    dirs.sort_by_key(|p| seed_number(p));
    dirs
}

fn seed_number(path: &Path) -> u64 {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("seed_"))
        .and_then(|k| k.parse().ok())
        .unwrap_or(u64::MAX)
}

/// `(experiment folder, its seed folders)` for a seed, experiment or parent folder.
fn classify(path: &Path) -> Result<Vec<(PathBuf, Vec<PathBuf>)>, UsageError> {
    if !path.is_dir() {
        return Err(UsageError::new(format!(
            "{}: no such folder",
            path.display()
        )));
    }
    if is_seed_dir(path) {
        let parent = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        return Ok(vec![(parent, vec![path.to_path_buf()])]);
    }
    let seeds = seed_dirs_in(path);
    if !seeds.is_empty() {
        return Ok(vec![(path.to_path_buf(), seeds)]);
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| !seed_dirs_in(p).is_empty())
        .collect();
    children.sort();
    if children.is_empty() {
        return Err(UsageError::new(format!(
            "{}: not a result folder: it holds no meta.json, no seed_<k> folders and no experiment folders",
            path.display()
        )));
    }
    Ok(children
        .into_iter()
        .map(|c| {
            let seeds = seed_dirs_in(&c);
            (c, seeds)
        })
        .collect())
}

fn read_experiment(dir: PathBuf, seed_dirs: Vec<PathBuf>) -> Result<ExperimentResults, UsageError> {
    let seeds = seed_dirs
        .into_iter()
        .map(read_seed)
        .collect::<Result<Vec<_>, _>>()?;
    let first = &seeds[0].meta;
    for s in &seeds[1..] {
        if (s.meta.algo.as_str(), s.meta.env.as_str()) != (first.algo.as_str(), first.env.as_str())
        {
            return Err(UsageError::new(format!(
                "{}: mismatched seeds: {} ran {} on {}, but {} ran {} on {}",
                dir.display(),
                seeds[0].dir.display(),
                first.algo,
                first.env,
                s.dir.display(),
                s.meta.algo,
                s.meta.env
            )));
        }
    }
    Ok(ExperimentResults {
        name: first.experiment.clone(),
        algo: first.algo.clone(),
        env: first.env.clone(),
        reward_threshold: seeds.iter().find_map(|s| s.meta.reward_threshold),
        dir,
        seeds,
    })
}

fn read_seed(dir: PathBuf) -> Result<SeedResult, UsageError> {
    let meta_path = dir.join("meta.json");
    let meta = Meta::read(&meta_path).map_err(|e| {
        UsageError::new(format!(
            "{}: not a valid meta.json: {e}",
            meta_path.display()
        ))
    })?;
    let (curve, wall_s) = if meta.status == Status::Complete {
        let (curve, wall_s) = read_curve(&dir.join("curve.csv"))?;
        (Some(curve), wall_s)
    } else {
        (None, Vec::new())
    };
    Ok(SeedResult {
        dir,
        meta,
        curve,
        wall_s,
    })
}

/// Reads `step`, `eval_return_mean` and `wall_s` of every row; any malformed row is an error
/// naming its line.
pub fn read_curve(path: &Path) -> Result<(Curve, Vec<f64>), UsageError> {
    read_column(path, "eval_return_mean", false)
}

/// As [`read_curve`] with the values of column `y` (an algorithm's diagnostic such as a
/// bandit's `regret`) in place of the returns; with `skip_empty`, rows whose `y` cell is empty
/// (not available yet) are left out.
pub fn read_column(
    path: &Path,
    y: &str,
    skip_empty: bool,
) -> Result<(Curve, Vec<f64>), UsageError> {
    let bad = |what: String| UsageError::new(format!("{}: {what}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    // rl writes whole rows, each ending in a newline: anything else was cut off mid-row.
    if !text.ends_with('\n') {
        let line = text.lines().count();
        return Err(bad(format!(
            "line {line}: truncated row (the file ends mid-row)"
        )));
    }
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| bad(format!("cannot read the header: {e}")))?
        .clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no `{name}` column; not a curve.csv")))
    };
    let step_col = column("step")?;
    column("eval_return_mean")?;
    let y_col = header.iter().position(|h| h == y).ok_or_else(|| {
        let columns: Vec<&str> = header.iter().collect();
        bad(format!("no `{y}` column; it has {}", columns.join(", ")))
    })?;
    let wall_col = column("wall_s")?;
    let mut curve = Curve {
        steps: Vec::new(),
        returns: Vec::new(),
    };
    let mut wall_s = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record =
            record.map_err(|e| bad(format!("line {line}: truncated or malformed row: {e}")))?;
        let number = |col: usize, name: &str| {
            record
                .get(col)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| {
                    bad(format!(
                        "line {line}: `{name}` is `{}`, not a number",
                        record.get(col).unwrap_or("")
                    ))
                })
        };
        let step = number(step_col, "step")?;
        if curve.steps.last().is_some_and(|last| step <= *last) {
            return Err(bad(format!("line {line}: steps must increase")));
        }
        if skip_empty && record.get(y_col).is_some_and(str::is_empty) {
            continue;
        }
        curve.steps.push(step);
        curve.returns.push(number(y_col, y)?);
        wall_s.push(number(wall_col, "wall_s")?);
    }
    if curve.steps.is_empty() {
        return Err(bad("no evaluation rows".into()));
    }
    Ok((curve, wall_s))
}

/// One row of `episodes.csv`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
pub struct EpisodeRecord {
    pub step: f64,
    #[serde(rename = "return")]
    pub episode_return: f64,
    pub length: f64,
    pub wall_s: f64,
}

/// Every row of an `episodes.csv`; a malformed row is an error naming its line.
pub fn read_episodes(path: &Path) -> Result<Vec<EpisodeRecord>, UsageError> {
    let bad = |what: String| UsageError::new(format!("{}: {what}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| bad(format!("line {}: malformed row: {e}", i + 2))))
        .collect()
}
