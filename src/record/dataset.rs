//! Expert datasets (`rl collect`, read by the imitation methods): transitions as CSV with a JSON
//! metadata sidecar, readable without rl (Python: `pandas.read_csv(f)`, `json.load(open(f + ".json"))`).
//!
//! `<file>`: one header line, then one row per transition, in episode order:
//!
//! ```text
//! episode,step,obs_0,…,obs_{d−1},action | action_0,…,action_{k−1},reward,next_obs_0,…,next_obs_{d−1},terminated,truncated
//! ```
//!
//! `episode` counts from 0, `step` from 0 within the episode; a discrete action is one integer
//! column `action`, a continuous one `k` columns `action_i`; floats are written in Rust's shortest
//! round-trip form (f32 exact); `terminated`/`truncated` are 0 or 1 (truncated: the time limit).
//! `<file>.json`: [`DatasetMeta`] (format, env id and options, spaces, the policy's source, seed,
//! noise, per-episode returns, transition count).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::space::Space;

/// The `format` value of the sidecar.
pub const FORMAT: &str = "rl-dataset/1";

/// The action space as the sidecar records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionSpace {
    /// `Discrete(n)`.
    Discrete(usize),
    /// `Box(low, high)` (finite bounds).
    Box { low: Vec<f32>, high: Vec<f32> },
}

impl ActionSpace {
    pub fn of(space: &Space) -> Self {
        match space {
            Space::Discrete(n) => ActionSpace::Discrete(*n),
            Space::Box { low, high } => ActionSpace::Box {
                low: low.clone(),
                high: high.clone(),
            },
        }
    }

    /// f32 values per action (1 for a discrete index).
    pub fn dim(&self) -> usize {
        match self {
            ActionSpace::Discrete(_) => 1,
            ActionSpace::Box { low, .. } => low.len(),
        }
    }

    fn describe(&self) -> String {
        match self {
            ActionSpace::Discrete(n) => Space::Discrete(*n).describe(),
            ActionSpace::Box { low, high } => Space::Box {
                low: low.clone(),
                high: high.clone(),
            }
            .describe(),
        }
    }
}

/// Where the actions came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicySource {
    /// The seed folder of the finished run whose policy acted.
    pub run_dir: PathBuf,
    /// Its algorithm and experiment.
    pub algo: String,
    pub experiment: String,
}

/// The sidecar `<file>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    pub format: String,
    /// `[env] id`.
    pub env_id: String,
    /// The whole `[env]` table of the run (options such as `is_slippery`, `map_name`).
    pub env: serde_json::Value,
    /// gymnasium's `str()` of the observation space, and its flat dimension.
    pub observation_space: String,
    pub observation_dim: usize,
    pub action_space: ActionSpace,
    pub policy: PolicySource,
    /// `--seed`: the episodes are those `rl eval --seed` runs.
    pub seed: u64,
    /// `--noise ε`: the share of actions replaced by uniform random ones.
    pub noise: f64,
    pub episodes: usize,
    pub transitions: usize,
    /// Undiscounted return of each episode.
    pub returns: Vec<f64>,
}

/// A dataset in memory: row `i` of each array is transition `i`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub meta: DatasetMeta,
    pub episode: Vec<u32>,
    pub step: Vec<u32>,
    /// `transitions × observation_dim`.
    pub obs: Vec<f32>,
    /// `transitions × action_space.dim()` (a discrete action as its index).
    pub actions: Vec<f32>,
    pub rewards: Vec<f32>,
    pub next_obs: Vec<f32>,
    pub terminated: Vec<bool>,
    pub truncated: Vec<bool>,
}

/// The sidecar's path: `<file>.json`.
pub fn meta_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

impl Dataset {
    /// An empty dataset with this metadata (counts and returns are filled in by [`Dataset::push`]
    /// and [`Dataset::end_episode`]).
    pub fn new(mut meta: DatasetMeta) -> Self {
        meta.format = FORMAT.into();
        meta.episodes = 0;
        meta.transitions = 0;
        meta.returns.clear();
        Self {
            meta,
            episode: Vec::new(),
            step: Vec::new(),
            obs: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            next_obs: Vec::new(),
            terminated: Vec::new(),
            truncated: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Appends one transition of the current episode (`meta.episodes`).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        step: u32,
        obs: &[f32],
        action: &[f32],
        reward: f64,
        next_obs: &[f32],
        terminated: bool,
        truncated: bool,
    ) {
        self.episode.push(self.meta.episodes as u32);
        self.step.push(step);
        self.obs.extend_from_slice(obs);
        self.actions.extend_from_slice(action);
        self.rewards.push(reward as f32);
        self.next_obs.extend_from_slice(next_obs);
        self.terminated.push(terminated);
        self.truncated.push(truncated);
        self.meta.transitions += 1;
    }

    /// Closes the current episode with its return.
    pub fn end_episode(&mut self, episode_return: f64) {
        self.meta.returns.push(episode_return);
        self.meta.episodes += 1;
    }

    /// The transitions of the first `episodes` episodes.
    pub fn first_episodes(&self, episodes: usize) -> Dataset {
        let n = self
            .episode
            .iter()
            .take_while(|&&e| (e as usize) < episodes)
            .count();
        let (d, k) = (self.meta.observation_dim, self.meta.action_space.dim());
        let mut meta = self.meta.clone();
        meta.episodes = episodes.min(self.meta.episodes);
        meta.transitions = n;
        meta.returns.truncate(meta.episodes);
        Dataset {
            meta,
            episode: self.episode[..n].to_vec(),
            step: self.step[..n].to_vec(),
            obs: self.obs[..n * d].to_vec(),
            actions: self.actions[..n * k].to_vec(),
            rewards: self.rewards[..n].to_vec(),
            next_obs: self.next_obs[..n * d].to_vec(),
            terminated: self.terminated[..n].to_vec(),
            truncated: self.truncated[..n].to_vec(),
        }
    }

    /// The CSV header.
    fn header(d: usize, action: &ActionSpace) -> String {
        let mut h = String::from("episode,step");
        for i in 0..d {
            let _ = write!(h, ",obs_{i}");
        }
        match action {
            ActionSpace::Discrete(_) => h.push_str(",action"),
            ActionSpace::Box { low, .. } => {
                for i in 0..low.len() {
                    let _ = write!(h, ",action_{i}");
                }
            }
        }
        h.push_str(",reward");
        for i in 0..d {
            let _ = write!(h, ",next_obs_{i}");
        }
        h.push_str(",terminated,truncated");
        h
    }

    /// Writes `path` and `<path>.json` (each through a temporary file and a rename).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let (d, k) = (self.meta.observation_dim, self.meta.action_space.dim());
        let discrete = matches!(self.meta.action_space, ActionSpace::Discrete(_));
        let mut csv = Self::header(d, &self.meta.action_space);
        csv.push('\n');
        for i in 0..self.len() {
            let _ = write!(csv, "{},{}", self.episode[i], self.step[i]);
            for x in &self.obs[i * d..(i + 1) * d] {
                let _ = write!(csv, ",{x}");
            }
            for x in &self.actions[i * k..(i + 1) * k] {
                if discrete {
                    let _ = write!(csv, ",{}", *x as usize);
                } else {
                    let _ = write!(csv, ",{x}");
                }
            }
            let _ = write!(csv, ",{}", self.rewards[i]);
            for x in &self.next_obs[i * d..(i + 1) * d] {
                let _ = write!(csv, ",{x}");
            }
            let _ = writeln!(
                csv,
                ",{},{}",
                u8::from(self.terminated[i]),
                u8::from(self.truncated[i])
            );
        }
        let json = serde_json::to_string_pretty(&self.meta).map_err(std::io::Error::other)?;
        super::write_atomically(&meta_path(path), json.as_bytes())?;
        super::write_atomically(path, csv.as_bytes())
    }

    /// Reads `path` and its sidecar, checking every row against the metadata. The error names
    /// the file and what is wrong (missing, empty, truncated, malformed).
    pub fn read(path: &Path) -> Result<Dataset, String> {
        let shown = path.display();
        let sidecar = meta_path(path);
        let meta_text = std::fs::read_to_string(&sidecar).map_err(|e| {
            format!(
                "{}: cannot read the dataset's metadata ({e}); datasets are written by `rl collect`",
                sidecar.display()
            )
        })?;
        let meta: DatasetMeta = serde_json::from_str(&meta_text)
            .map_err(|e| format!("{}: not dataset metadata ({e})", sidecar.display()))?;
        if meta.format != FORMAT {
            return Err(format!(
                "{}: format {:?}, expected {FORMAT:?}",
                sidecar.display(),
                meta.format
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{shown}: cannot read the dataset ({e})"))?;
        let mut lines = text.lines();
        let header = lines
            .next()
            .ok_or_else(|| format!("{shown}: empty file (no header, no transitions)"))?;
        let (d, k) = (meta.observation_dim, meta.action_space.dim());
        let expected = Self::header(d, &meta.action_space);
        if header != expected {
            return Err(format!(
                "{shown}: header {header:?} does not match its metadata ({} observations, {} actions): expected {expected:?}",
                meta.observation_space,
                meta.action_space.describe()
            ));
        }
        if !text.ends_with('\n') {
            return Err(format!(
                "{shown}: truncated (the last line is not complete)"
            ));
        }
        let meta_transitions = meta.transitions;
        let mut data = Dataset::new(meta.clone());
        data.meta = meta;
        data.meta.transitions = 0;
        let fields = 2 + d + k + 1 + d + 2;
        let mut row = Vec::with_capacity(fields);
        for (i, line) in lines.enumerate() {
            let line_no = i + 2;
            row.clear();
            row.extend(line.split(','));
            if row.len() != fields {
                return Err(format!(
                    "{shown}: line {line_no} has {} fields, the header {fields} (truncated or malformed)",
                    row.len()
                ));
            }
            let bad = |col: usize| {
                format!(
                    "{shown}: line {line_no}, column {}: {:?} is not a number",
                    col + 1,
                    row[col]
                )
            };
            let int = |col: usize| row[col].parse::<u32>().map_err(|_| bad(col));
            let float = |col: usize| row[col].parse::<f32>().map_err(|_| bad(col));
            let flag = |col: usize| match row[col] {
                "0" => Ok(false),
                "1" => Ok(true),
                _ => Err(format!(
                    "{shown}: line {line_no}, column {}: {:?} is not 0 or 1",
                    col + 1,
                    row[col]
                )),
            };
            data.episode.push(int(0)?);
            data.step.push(int(1)?);
            for c in 2..2 + d {
                data.obs.push(float(c)?);
            }
            for c in 2 + d..2 + d + k {
                let a = float(c)?;
                if let ActionSpace::Discrete(n) = data.meta.action_space
                    && (a < 0.0 || a as usize >= n || a.fract() != 0.0)
                {
                    return Err(format!(
                        "{shown}: line {line_no}: action {a} is not in Discrete({n})"
                    ));
                }
                data.actions.push(a);
            }
            data.rewards.push(float(2 + d + k)?);
            for c in 3 + d + k..3 + 2 * d + k {
                data.next_obs.push(float(c)?);
            }
            data.terminated.push(flag(3 + 2 * d + k)?);
            data.truncated.push(flag(4 + 2 * d + k)?);
            data.meta.transitions += 1;
        }
        if data.is_empty() {
            return Err(format!("{shown}: no transitions (an empty dataset)"));
        }
        if data.len() != meta_transitions {
            return Err(format!(
                "{shown}: {} transitions, its metadata says {meta_transitions} (truncated)",
                data.len()
            ));
        }
        let episodes = data.episode.last().map_or(0, |&e| e as usize + 1);
        if episodes != data.meta.episodes || data.meta.returns.len() != episodes {
            return Err(format!(
                "{shown}: {episodes} episodes, its metadata says {} with {} returns",
                data.meta.episodes,
                data.meta.returns.len()
            ));
        }
        Ok(data)
    }

    /// Whether the dataset fits an env `env_id` with these spaces: `Err(reason)`.
    pub fn check_env(
        &self,
        env_id: &str,
        observation: &Space,
        action: &Space,
    ) -> Result<(), String> {
        let obs = observation.describe();
        let act = ActionSpace::of(action);
        if self.meta.observation_space != obs || self.meta.action_space != act {
            return Err(format!(
                "a dataset of {} ({} observations, {} actions) does not fit {env_id} ({obs} observations, {} actions)",
                self.meta.env_id,
                self.meta.observation_space,
                self.meta.action_space.describe(),
                act.describe()
            ));
        }
        if self.meta.env_id != env_id {
            return Err(format!(
                "a dataset of {} does not fit {env_id}",
                self.meta.env_id
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(action: ActionSpace) -> Dataset {
        let k = action.dim();
        let mut data = Dataset::new(DatasetMeta {
            format: String::new(),
            env_id: "Test-v0".into(),
            env: serde_json::json!({"id": "Test-v0"}),
            observation_space: "Box(-1.0, 1.0, (2,), float32)".into(),
            observation_dim: 2,
            action_space: action,
            policy: PolicySource {
                run_dir: "results/x/seed_0".into(),
                algo: "ppo".into(),
                experiment: "x".into(),
            },
            seed: 3,
            noise: 0.0,
            episodes: 0,
            transitions: 0,
            returns: vec![],
        });
        let a = vec![1.0f32; k];
        data.push(0, &[0.1, -0.2], &a, 1.0, &[0.3, 1e-7], false, false);
        data.push(
            1,
            &[0.3, 1e-7],
            &a,
            0.5,
            &[f32::MIN_POSITIVE, 2.0],
            true,
            false,
        );
        data.end_episode(1.5);
        data.push(0, &[0.0, 0.0], &a, -1.25, &[1.0, 1.0], false, true);
        data.end_episode(-1.25);
        data
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rl-dataset-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("data.csv")
    }

    #[test]
    fn round_trips_exactly_and_first_episodes_slices() {
        for (name, action) in [
            ("discrete", ActionSpace::Discrete(2)),
            (
                "box",
                ActionSpace::Box {
                    low: vec![-2.0],
                    high: vec![2.0],
                },
            ),
        ] {
            let path = temp(name);
            let data = sample(action);
            data.write(&path).unwrap();
            let back = Dataset::read(&path).unwrap();
            assert_eq!(back, data);
            let first = data.first_episodes(1);
            assert_eq!((first.len(), first.meta.returns.clone()), (2, vec![1.5]));
        }
    }

    #[test]
    fn truncated_empty_and_foreign_files_are_refused() {
        let path = temp("bad");
        let data = sample(ActionSpace::Discrete(2));
        data.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        // Cut mid-line, cut at a line end, emptied.
        std::fs::write(&path, &text[..text.len() - 3]).unwrap();
        assert!(Dataset::read(&path).unwrap_err().contains("truncated"));
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&path, format!("{}\n", lines[..3].join("\n"))).unwrap();
        assert!(Dataset::read(&path).unwrap_err().contains("truncated"));
        std::fs::write(&path, "").unwrap();
        assert!(Dataset::read(&path).unwrap_err().contains("empty"));
        std::fs::write(&path, format!("{}\n", lines[0])).unwrap();
        assert!(Dataset::read(&path).unwrap_err().contains("no transitions"));
        let err = data
            .check_env("Other-v0", &Space::Discrete(3), &Space::Discrete(2))
            .unwrap_err();
        assert!(err.contains("Test-v0") && err.contains("Other-v0"), "{err}");
        let box2 = Space::Box {
            low: vec![-1.0; 2],
            high: vec![1.0; 2],
        };
        assert_eq!(
            data.check_env("Test-v0", &box2, &Space::Discrete(2)),
            Ok(())
        );
    }
}
