//! Replays gymnasium 1.1.1's reference trajectories through the public env API.
//!
//! Reads every `*.json` file in `$RL_FIXTURES_DIR` (default: `../shared/fixtures/gymnasium`
//! next to the crate; schema and comparison advice in that directory's README.md) at two levels:
//!
//! * one-step: for every step, set the env to the state before it, take the action, compare;
//! * rollout: set the initial state once, replay every action, compare everything with `==`.
//!
//! A file with `state_layout` is classic control: its steps carry the internal `state`. A file
//! without it is toy text: its state is the observed index, and steps carry gymnasium's `info`.
//! Every mismatch of a file is collected, naming file, trajectory, step and field; a file that
//! cannot be read, parsed or built, or that contradicts its own schema, fails too.
//!
//! Comparisons are bit exact except where the README says the one-step test cannot be (see
//! [`one_step_tolerance`]). Exactness assumes glibc's libm
//! (`*-linux-gnu`, README source 3) and serde_json's exact float parsing (`float_roundtrip`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Debug};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

use rl::env::{Action, Env, EnvOptions, Info, Space, Step, TimeLimit, make_env};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

/// Where the fixtures live unless `$RL_FIXTURES_DIR` says otherwise.
const DEFAULT_FIXTURES_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/gymnasium");
const FIXTURES_DIR_VAR: &str = "RL_FIXTURES_DIR";

/// At most this many mismatch lines are printed per file (all are counted).
const MAX_LINES_PER_FILE: usize = 25;

/// The `end` values of the schema: how the last step's (terminated, truncated) flags read.
const ENDS: [(&str, (bool, bool)); 4] = [
    ("terminated", (true, false)),
    ("truncated", (false, true)),
    ("terminated+truncated", (true, true)),
    ("cut", (false, false)),
];

/// One fixture file (README.md, "Schema").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    env: String,
    gymnasium_version: String,
    numpy_version: String,
    env_kwargs: Map<String, Value>,
    max_episode_steps: Option<u32>,
    action_space: String,
    observation_space: String,
    #[serde(rename = "notes")]
    _notes: IgnoredAny,
    /// Present exactly for classic-control files.
    state_layout: Option<Vec<String>>,
    trajectories: Vec<Trajectory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Trajectory {
    name: String,
    #[serde(rename = "description")]
    _description: IgnoredAny,
    end: String,
    num_steps: usize,
    initial_state: Numbers,
    /// Taxi's `[row, col, passenger, destination]`, for readers; `initial_state` is what counts.
    #[serde(rename = "initial_state_decoded")]
    _initial_state_decoded: Option<IgnoredAny>,
    initial_observation: Numbers,
    initial_info: Option<InfoRecord>,
    steps: Vec<StepRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRecord {
    action: ActionRecord,
    observation: Numbers,
    reward: f64,
    terminated: bool,
    truncated: bool,
    /// Classic control: the internal state after the step.
    state: Option<Vec<f64>>,
    /// Toy text: the `info` dict `step()` returned.
    info: Option<InfoRecord>,
}

/// A discrete action is an integer; a continuous one a list of floats.
#[derive(Deserialize)]
#[serde(untagged)]
enum ActionRecord {
    Discrete(usize),
    Continuous(Vec<f64>),
}

/// A toy-text state or observation is one integer; a classic-control one a list of floats.
#[derive(Deserialize)]
#[serde(untagged)]
enum Numbers {
    Scalar(f64),
    List(Vec<f64>),
}

impl Numbers {
    fn to_vec(&self) -> Vec<f64> {
        match self {
            Numbers::Scalar(x) => vec![*x],
            Numbers::List(xs) => xs.clone(),
        }
    }
}

/// gymnasium's toy-text `info`: `{"prob": p}`, plus `"action_mask"` for Taxi.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InfoRecord {
    prob: f64,
    action_mask: Option<Vec<i8>>,
}

impl InfoRecord {
    fn to_info(&self) -> Info {
        Info {
            prob: Some(self.prob),
            action_mask: self.action_mask.clone(),
        }
    }
}

/// The two levels of the README's "How to compare".
#[derive(Clone, Copy)]
enum Level {
    OneStep,
    Rollout,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::OneStep => "one-step",
            Level::Rollout => "rollout",
        }
    }
}

/// The label of the file's self-consistency checks.
const SCHEMA: &str = "schema";

/// How far a value may be from the fixture. Everything is exact unless the README names a
/// precision quirk that the public API cannot avoid (see [`one_step_tolerance`]).
#[derive(Clone, Copy)]
struct Tolerance {
    observation: Closeness,
    state: Closeness,
    /// Absolute reward tolerance (0: exact).
    reward: f64,
}

#[derive(Clone, Copy)]
enum Closeness {
    /// Bit for bit (`==`; observations compare their f32 bits).
    Exact,
    /// `|got - expected| <= a`.
    Absolute(f64),
}

const EXACT: Tolerance = Tolerance {
    observation: Closeness::Exact,
    state: Closeness::Exact,
    reward: 0.0,
};

/// The one-step tolerance for step `index` of `env`: exact except where the README says the
/// one-step test cannot be.
///
/// Pendulum and Acrobot need none: the envs square with glibc's `pow`/`powf` exactly as
/// gymnasium does (README "How to compare", source 1), and Acrobot's reset observation uses a
/// port of numpy's float32 `cos`/`sin` (source 2).
fn one_step_tolerance(env: &str, index: usize) -> Tolerance {
    match env {
        // README "One-step test": MountainCarContinuous runs step 0 on the float64 initial state
        // but every later step on a float32 state, which `set_state` (float64, as after reset)
        // cannot express. Computing one step in float64 instead of float32 changes the result
        // by at most one float32 ulp of the largest state magnitude (the position bound 0.6).
        "MountainCarContinuous-v0" if index > 0 => {
            let one_f32_ulp_at_bound = f64::from(f32::EPSILON) * 0.6;
            Tolerance {
                observation: Closeness::Absolute(one_f32_ulp_at_bound),
                state: Closeness::Absolute(one_f32_ulp_at_bound),
                reward: 0.0,
            }
        }
        _ => EXACT,
    }
}

/// The mismatches found in one file, each naming trajectory, step and field.
struct Report {
    file: String,
    lines: Vec<String>,
    per_trajectory: BTreeMap<String, usize>,
    /// The trajectory and spot being replayed, named if the env panics there.
    current: String,
}

/// Where a comparison happens: the check (`schema`, `one-step`, `rollout`), trajectory and spot.
#[derive(Clone, Copy)]
struct At<'a> {
    check: &'static str,
    trajectory: &'a str,
    spot: Spot,
}

/// The part of a trajectory a comparison concerns.
#[derive(Clone, Copy)]
enum Spot {
    Whole,
    Initial,
    /// `steps[i]` (step `i + 1` of the episode).
    Step(usize),
}

impl fmt::Display for Spot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spot::Whole => f.write_str("as a whole"),
            Spot::Initial => f.write_str("initial state"),
            Spot::Step(i) => write!(f, "steps[{i}]"),
        }
    }
}

impl Report {
    fn new(file: &str) -> Self {
        Self {
            file: file.to_string(),
            lines: Vec::new(),
            per_trajectory: BTreeMap::new(),
            current: String::new(),
        }
    }

    /// Notes where the replay is, before calling into the env.
    fn enter(&mut self, at: At<'_>) {
        self.current = format!("trajectory `{}`, {} ({})", at.trajectory, at.spot, at.check);
    }

    /// A problem with the file as a whole (parsing, env construction, spec).
    fn file_problem(&mut self, message: impl fmt::Display) {
        self.lines.push(format!("{}: {message}", self.file));
    }

    fn mismatch(&mut self, at: At<'_>, field: &str, expected: impl Debug, got: impl Debug) {
        self.lines.push(format!(
            "{}: trajectory `{}`, {} ({}): {field}: expected {expected:?}, got {got:?}",
            self.file, at.trajectory, at.spot, at.check
        ));
        *self
            .per_trajectory
            .entry(at.trajectory.to_string())
            .or_default() += 1;
    }

    fn observation(&mut self, at: At<'_>, expected: &[f64], got: &[f32], closeness: Closeness) {
        if expected.len() != got.len() {
            return self.mismatch(at, "observation length", expected.len(), got.len());
        }
        for (k, (&e, &g)) in expected.iter().zip(got).enumerate() {
            let e = e as f32;
            let close = match closeness {
                Closeness::Exact => e.to_bits() == g.to_bits(),
                Closeness::Absolute(a) => (f64::from(g) - f64::from(e)).abs() <= a,
            };
            if !close {
                self.mismatch(at, &format!("observation[{k}]"), e, g);
            }
        }
    }

    fn state(&mut self, at: At<'_>, expected: &[f64], got: &[f64], closeness: Closeness) {
        if expected.len() != got.len() {
            return self.mismatch(at, "state length", expected.len(), got.len());
        }
        for (k, (&e, &g)) in expected.iter().zip(got).enumerate() {
            let close = match closeness {
                Closeness::Exact => e == g,
                Closeness::Absolute(a) => (g - e).abs() <= a,
            };
            if !close {
                self.mismatch(at, &format!("state[{k}]"), e, g);
            }
        }
    }

    fn reward(&mut self, at: At<'_>, expected: f64, got: f64, tolerance: f64) {
        let close = if tolerance == 0.0 {
            expected == got
        } else {
            (got - expected).abs() <= tolerance
        };
        if !close {
            self.mismatch(at, "reward", expected, got);
        }
    }

    fn same<T: PartialEq + Debug>(&mut self, at: At<'_>, field: &str, expected: T, got: T) {
        if expected != got {
            self.mismatch(at, field, expected, got);
        }
    }

    /// The report, at most [`MAX_LINES_PER_FILE`] lines plus a count per trajectory.
    fn render(&self) -> String {
        let mut out: Vec<String> = self
            .lines
            .iter()
            .take(MAX_LINES_PER_FILE)
            .cloned()
            .collect();
        if self.lines.len() > MAX_LINES_PER_FILE {
            out.push(format!(
                "... and {} more",
                self.lines.len() - MAX_LINES_PER_FILE
            ));
        }
        if !self.per_trajectory.is_empty() {
            let counts: Vec<String> = self
                .per_trajectory
                .iter()
                .map(|(name, n)| format!("`{name}`: {n}"))
                .collect();
            out.push(format!(
                "{}: mismatches per trajectory: {}",
                self.file,
                counts.join(", ")
            ));
        }
        out.join("\n")
    }
}

/// The environment a file describes: `make_env` with its `env_kwargs`, under its time limit.
fn build_env(fixture: &Fixture) -> Result<TimeLimit, String> {
    let kwargs = Value::Object(fixture.env_kwargs.clone());
    let options: EnvOptions = serde_json::from_value(kwargs.clone())
        .map_err(|e| format!("env_kwargs {kwargs} do not map to EnvOptions: {e}"))?;
    let env = make_env(&fixture.env, &options)
        .map_err(|e| format!("make_env({:?}, {kwargs}) failed: {e}", fixture.env))?;
    Ok(TimeLimit::new(env, fixture.max_episode_steps))
}

/// Whether `env`'s space prints as gymnasium's `described` space. Box bounds that differ per
/// component are printed by numpy (`Box([..], [..], (n,), float32)`): only the shape is checked.
fn space_matches(space: &Space, described: &str) -> bool {
    space.describe() == described
        || (matches!(space, Space::Box { .. })
            && described.starts_with("Box([")
            && described.ends_with(&format!(", ({},), float32)", space.flat_dim())))
}

/// Checks the env's spec against the file's header.
fn check_spec(fixture: &Fixture, env: &TimeLimit, report: &mut Report) {
    let spec = env.spec();
    if spec.id != fixture.env {
        report.file_problem(format!(
            "spec id: expected {:?}, got {:?}",
            fixture.env, spec.id
        ));
    }
    if spec.max_episode_steps != fixture.max_episode_steps {
        report.file_problem(format!(
            "spec max_episode_steps: expected {:?}, got {:?}",
            fixture.max_episode_steps, spec.max_episode_steps
        ));
    }
    for (what, space, described) in [
        ("action_space", &spec.action_space, &fixture.action_space),
        (
            "observation_space",
            &spec.observation_space,
            &fixture.observation_space,
        ),
    ] {
        if !space_matches(space, described) {
            report.file_problem(format!(
                "{what}: expected {described}, got {}",
                space.describe()
            ));
        }
    }
}

/// Checks that the file agrees with its own schema: classic files carry `state`, toy-text files
/// `info`; step counts, `end` and the flags agree; continuous actions are float32 values.
fn check_schema(fixture: &Fixture, report: &mut Report) {
    if fixture.trajectories.is_empty() {
        report.file_problem("no trajectories");
    }
    let classic = fixture.state_layout.as_ref().map(Vec::len);
    let mut names = BTreeSet::new();
    for traj in &fixture.trajectories {
        let at = |spot| At {
            check: SCHEMA,
            trajectory: &traj.name,
            spot,
        };
        if !names.insert(&traj.name) {
            report.file_problem(format!("trajectory name `{}` is not unique", traj.name));
        }
        report.same(
            at(Spot::Whole),
            "num_steps",
            traj.num_steps,
            traj.steps.len(),
        );
        match (
            ENDS.iter().find(|(end, _)| *end == traj.end),
            traj.steps.last(),
        ) {
            (None, _) => report.mismatch(at(Spot::Whole), "end", ENDS.map(|e| e.0), &traj.end),
            (_, None) => report.mismatch(at(Spot::Whole), "number of steps", "at least 1", 0),
            (Some((end, flags)), Some(last)) => report.same(
                at(Spot::Whole),
                &format!("last step's (terminated, truncated) for end `{end}`"),
                *flags,
                (last.terminated, last.truncated),
            ),
        }
        let dims = traj.initial_state.to_vec().len();
        report.same(
            at(Spot::Initial),
            "initial_state length",
            classic.unwrap_or(1),
            dims,
        );
        let toy_text = classic.is_none();
        report.same(
            at(Spot::Initial),
            "initial_info present",
            toy_text,
            traj.initial_info.is_some(),
        );
        for (i, step) in traj.steps.iter().enumerate() {
            let at = at(Spot::Step(i));
            if i + 1 < traj.steps.len() && (step.terminated || step.truncated) {
                report.mismatch(
                    at,
                    "terminated or truncated before the last step",
                    false,
                    true,
                );
            }
            let state_dims = step.state.as_ref().map(Vec::len);
            report.same(at, "state length", classic, state_dims);
            report.same(at, "info present", toy_text, step.info.is_some());
            if let ActionRecord::Continuous(values) = &step.action {
                for &a in values {
                    report.same(at, "action is a float32 value", a, f64::from(a as f32));
                }
            }
        }
    }
}

/// The state after `step` as `set_state` takes it: the `state` of classic files, the observed
/// index of toy-text files.
fn state_after(step: &StepRecord) -> Vec<f64> {
    step.state
        .clone()
        .unwrap_or_else(|| step.observation.to_vec())
}

/// Takes the recorded action; the observation lands in `obs`.
fn take(env: &mut TimeLimit, action: &ActionRecord, obs: &mut [f32]) -> Step {
    obs.fill(f32::NAN);
    match action {
        ActionRecord::Discrete(a) => env.step(Action::Discrete(*a), obs),
        ActionRecord::Continuous(values) => {
            let values: Vec<f32> = values.iter().map(|&a| a as f32).collect();
            env.step(Action::Continuous(&values), obs)
        }
    }
}

/// Compares what a step returned with its record.
fn check_step(
    report: &mut Report,
    at: At<'_>,
    record: &StepRecord,
    env: &TimeLimit,
    (obs, step): (&[f32], Step),
    tolerance: Tolerance,
) {
    report.observation(at, &record.observation.to_vec(), obs, tolerance.observation);
    report.reward(at, record.reward, step.reward, tolerance.reward);
    report.same(at, "terminated", record.terminated, step.terminated);
    report.state(at, &state_after(record), &env.state(), tolerance.state);
    if let Some(info) = &record.info {
        report.same(at, "info", info.to_info(), env.info());
    }
}

/// One-step test: every step from its recorded predecessor state.
fn one_step(fixture: &Fixture, env: &mut TimeLimit, report: &mut Report) {
    let mut obs = vec![f32::NAN; env.spec().observation_space.flat_dim()];
    for traj in &fixture.trajectories {
        let mut before = traj.initial_state.to_vec();
        for (i, record) in traj.steps.iter().enumerate() {
            let at = At {
                check: Level::OneStep.name(),
                trajectory: &traj.name,
                spot: Spot::Step(i),
            };
            report.enter(at);
            env.set_state(&before, &mut obs);
            let step = take(env, &record.action, &mut obs);
            let tolerance = one_step_tolerance(&fixture.env, i);
            check_step(report, at, record, env, (&obs, step), tolerance);
            // Truncation is the time limit's step count, which a set_state'd env restarts.
            let limit_reached = fixture.max_episode_steps == Some(i as u32 + 1);
            report.same(
                at,
                "truncated (time limit step count)",
                record.truncated,
                limit_reached,
            );
            before = state_after(record);
        }
    }
}

/// Rollout test: the initial state once, then every action, compared with `==`.
fn rollout(fixture: &Fixture, env: &mut TimeLimit, report: &mut Report) {
    let mut obs = vec![f32::NAN; env.spec().observation_space.flat_dim()];
    for traj in &fixture.trajectories {
        let at = At {
            check: Level::Rollout.name(),
            trajectory: &traj.name,
            spot: Spot::Initial,
        };
        report.enter(at);
        env.set_state(&traj.initial_state.to_vec(), &mut obs);
        report.observation(
            at,
            &traj.initial_observation.to_vec(),
            &obs,
            Closeness::Exact,
        );
        report.state(
            at,
            &traj.initial_state.to_vec(),
            &env.state(),
            Closeness::Exact,
        );
        if let Some(info) = &traj.initial_info {
            report.same(at, "info", info.to_info(), env.info());
        }
        for (i, record) in traj.steps.iter().enumerate() {
            let at = At {
                spot: Spot::Step(i),
                ..at
            };
            report.enter(at);
            let step = take(env, &record.action, &mut obs);
            check_step(report, at, record, env, (&obs, step), EXACT);
            report.same(at, "truncated", record.truncated, step.truncated);
        }
    }
}

/// Checks one fixture file's text at `level`; an empty report means it passes.
fn check_text(file: &str, text: &str, level: Level) -> Report {
    let mut report = Report::new(file);
    let fixture: Fixture = match serde_json::from_str(text) {
        Ok(fixture) => fixture,
        Err(e) => {
            report.file_problem(format!("does not match the fixture schema: {e}"));
            return report;
        }
    };
    check_schema(&fixture, &mut report);
    let mut env = match build_env(&fixture) {
        Ok(env) => env,
        Err(e) => {
            report.file_problem(e);
            return report;
        }
    };
    check_spec(&fixture, &env, &mut report);
    let run = panic::catch_unwind(AssertUnwindSafe(|| match level {
        Level::OneStep => one_step(&fixture, &mut env, &mut report),
        Level::Rollout => rollout(&fixture, &mut env, &mut report),
    }));
    if let Err(payload) = run {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        report.file_problem(format!(
            "{} (gymnasium {}, numpy {}) panicked at {}: {message}",
            fixture.env, fixture.gymnasium_version, fixture.numpy_version, report.current
        ));
    }
    report
}

/// The fixture directory and its `*.json` files, sorted; panics if there are none.
fn fixture_files() -> (PathBuf, Vec<PathBuf>) {
    let dir = std::env::var_os(FIXTURES_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FIXTURES_DIR));
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "cannot read fixture directory {} (${FIXTURES_DIR_VAR}): {e}",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no *.json fixture files in {} (${FIXTURES_DIR_VAR})",
        dir.display()
    );
    (dir, files)
}

/// Checks every fixture file at `level` and fails with all reports together.
fn check_all(level: Level) {
    let (dir, files) = fixture_files();
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let report = match std::fs::read_to_string(path) {
            Ok(text) => check_text(&name, &text, level),
            Err(e) => {
                let mut report = Report::new(&name);
                report.file_problem(format!("cannot read: {e}"));
                report
            }
        };
        if report.lines.is_empty() {
            eprintln!("{}: {name} matches", level.name());
        } else {
            failures.push(report.render());
        }
    }
    assert!(
        failures.is_empty(),
        "{} test: {} of {} fixture files in {} disagree:\n\n{}",
        level.name(),
        failures.len(),
        files.len(),
        dir.display(),
        failures.join("\n\n")
    );
}

fn assert_passes(report: &Report) {
    assert!(report.lines.is_empty(), "{}", report.render());
}

#[test]
fn fixtures_one_step_match_gymnasium() {
    check_all(Level::OneStep);
}

#[test]
fn fixtures_rollouts_match_gymnasium() {
    check_all(Level::Rollout);
}

/// Bit-exact comparisons need float64 values parsed exactly: serde_json's default parser can be
/// 1 ulp off, its `float_roundtrip` feature (Cargo.toml) is exact.
#[test]
fn fixtures_parse_floats_exactly() {
    for text in [
        "-0.37920084595680237",
        "0.9969518780708313",
        "-0.04510956927174968",
    ] {
        let parsed: f64 = serde_json::from_str(text).unwrap();
        assert_eq!(
            parsed,
            text.parse::<f64>().unwrap(),
            "serde_json misparses {text}"
        );
    }
}

/// A two-step FrozenLake trajectory: right to 1, then down into the hole at 5.
const FROZEN_LAKE_FIXTURE: &str = r#"{
  "env": "FrozenLake-v1", "gymnasium_version": "1.1.1", "numpy_version": "2.4.6",
  "env_kwargs": {"is_slippery": false}, "max_episode_steps": 100,
  "action_space": "Discrete(4)", "observation_space": "Discrete(16)", "notes": "",
  "trajectories": [{
    "name": "right_then_hole", "description": "", "end": "terminated", "num_steps": 2,
    "initial_state": 0, "initial_observation": 0, "initial_info": {"prob": 1.0},
    "steps": [
      {"action": 2, "observation": 1, "reward": 0.0, "terminated": false, "truncated": false,
       "info": {"prob": 1.0}},
      {"action": 1, "observation": 5, "reward": 0.0, "terminated": true, "truncated": false,
       "info": {"prob": 1.0}}
    ]
  }]
}"#;

#[test]
fn fixtures_checker_reports_a_corrupted_reward() {
    let (good, bad) = (
        r#""observation": 5, "reward": 0.0"#,
        r#""observation": 5, "reward": 1.0"#,
    );
    let corrupted = FROZEN_LAKE_FIXTURE.replacen(good, bad, 1);
    for level in [Level::OneStep, Level::Rollout] {
        assert_passes(&check_text("lake.json", FROZEN_LAKE_FIXTURE, level));
        let report = check_text("lake.json", &corrupted, level);
        assert_eq!(report.lines.len(), 1, "{}", report.render());
        let line = &report.lines[0];
        let parts = [
            "lake.json",
            "`right_then_hole`",
            "steps[1]",
            "reward",
            "expected 1.0, got 0.0",
        ];
        for part in parts {
            assert!(line.contains(part), "`{part}` missing from: {line}");
        }
    }
}

#[test]
fn fixtures_checker_rejects_unknown_env_kwargs() {
    let (known, unknown) = (
        r#"{"is_slippery": false}"#,
        r#"{"is_slippery": false, "bogus": 1}"#,
    );
    let bogus = FROZEN_LAKE_FIXTURE.replacen(known, unknown, 1);
    let report = check_text("lake.json", &bogus, Level::OneStep);
    assert!(
        report.render().contains("unknown field `bogus`"),
        "{}",
        report.render()
    );
}
