//! Replays MPE2 1.1.1's reference trajectories through the particle envs.
//!
//! Reads every `*.json` file in `$RL_MPE_FIXTURES_DIR` (default: `../shared/fixtures/mpe` next
//! to the crate; schema, ENV_SPEC and comparison advice in that directory's README.md) at two
//! levels, as `fixtures.rs` does for gymnasium:
//!
//! * rollout: set the world to `initial_state`, check `initial_observations`, then replay every
//!   step's actions and compare everything;
//! * one-step: for every step, set the agents' state to the previous step's `state` (or
//!   `initial_state`) and the step count to the step's index, take one step, compare.
//!
//! Everything is compared bit for bit: observations as f32 bits, rewards and state as f64 bits,
//! flags with `==`. Every mismatch of a file is collected, naming file, trajectory, step, agent
//! and field; a file that cannot be read, parsed or built, or whose world properties differ from
//! the env's, fails too.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Debug};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

use rl::env::multi::mpe::{ParticleEnv, World};
use rl::env::multi::registry::make_particle_env;
use rl::env::multi::{MultiAgentEnv, MultiStep};
use rl::env::{Action, EnvOptions};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

/// Where the fixtures live unless `$RL_MPE_FIXTURES_DIR` says otherwise.
const DEFAULT_FIXTURES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/mpe");
const FIXTURES_DIR_VAR: &str = "RL_MPE_FIXTURES_DIR";

/// At most this many mismatch lines are printed per file (all are counted).
const MAX_LINES_PER_FILE: usize = 25;

/// One fixture file (README.md, "File format").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    format: String,
    scenario: String,
    #[serde(rename = "import")]
    _import: IgnoredAny,
    #[serde(rename = "summary")]
    _summary: IgnoredAny,
    #[serde(rename = "generated_with")]
    _generated_with: IgnoredAny,
    env_kwargs: Map<String, Value>,
    continuous_actions: bool,
    max_cycles: u32,
    local_ratio: Option<f64>,
    agents: Vec<String>,
    world: WorldRecord,
    action_spaces: BTreeMap<String, String>,
    #[serde(rename = "action_layout")]
    _action_layout: IgnoredAny,
    observation_dims: BTreeMap<String, usize>,
    #[serde(rename = "observation_layout")]
    _observation_layout: IgnoredAny,
    trajectories: Vec<Trajectory>,
}

/// The world's constants (ENV_SPEC "Entities and constants").
#[derive(Deserialize, PartialEq, Debug)]
#[serde(deny_unknown_fields)]
struct WorldRecord {
    dim_p: usize,
    dim_c: usize,
    dim_color: usize,
    dt: f64,
    damping: f64,
    contact_force: f64,
    contact_margin: f64,
}

/// The constants `rl::env::multi::mpe::core` uses.
const WORLD: WorldRecord = WorldRecord {
    dim_p: 2,
    dim_c: 0,
    dim_color: 3,
    dt: 0.1,
    damping: 0.25,
    contact_force: 100.0,
    contact_margin: 0.001,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Trajectory {
    name: String,
    #[serde(rename = "description")]
    _description: IgnoredAny,
    #[serde(rename = "reset_seed")]
    _reset_seed: IgnoredAny,
    #[serde(rename = "initial_state_edited")]
    _initial_state_edited: IgnoredAny,
    initial_state: InitialState,
    initial_observations: BTreeMap<String, Vec<f64>>,
    num_steps: usize,
    end: String,
    steps: Vec<StepRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InitialState {
    agents: Vec<AgentRecord>,
    landmarks: Vec<LandmarkRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentRecord {
    name: String,
    p_pos: [f64; 2],
    p_vel: [f64; 2],
    c: Vec<f64>,
    size: f64,
    mass: f64,
    movable: bool,
    collide: bool,
    silent: bool,
    accel: Option<f64>,
    max_speed: Option<f64>,
    u_noise: Option<f64>,
    c_noise: Option<f64>,
    color: [f64; 3],
    adversary: Option<bool>,
    #[serde(default)]
    goal_a: Option<String>,
    #[serde(default)]
    goal_b: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LandmarkRecord {
    name: String,
    p_pos: [f64; 2],
    p_vel: [f64; 2],
    size: f64,
    mass: f64,
    movable: bool,
    collide: bool,
    max_speed: Option<f64>,
    color: [f64; 3],
    boundary: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRecord {
    t: u32,
    actions: BTreeMap<String, ActionRecord>,
    observations: BTreeMap<String, Vec<f64>>,
    rewards: BTreeMap<String, f64>,
    terminations: BTreeMap<String, bool>,
    truncations: BTreeMap<String, bool>,
    state: BTreeMap<String, AgentState>,
}

/// An agent's state after a step.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct AgentState {
    p_pos: [f64; 2],
    p_vel: [f64; 2],
    c: Vec<f64>,
}

/// A discrete action is an integer; a continuous one a list of float32 values.
#[derive(Deserialize)]
#[serde(untagged)]
enum ActionRecord {
    Discrete(usize),
    Continuous(Vec<f64>),
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

/// Where a comparison happens: the check, trajectory and spot.
#[derive(Clone, Copy)]
struct At<'a> {
    check: &'static str,
    trajectory: &'a str,
    spot: Spot,
}

/// The mismatches found in one file, and how much of it matched.
struct Report {
    file: String,
    lines: Vec<String>,
    per_trajectory: BTreeMap<String, usize>,
    /// The trajectory and spot being replayed, named if the env panics there.
    current: String,
    /// Steps compared.
    steps: usize,
}

impl Report {
    fn new(file: &str) -> Self {
        Self {
            file: file.to_string(),
            lines: Vec::new(),
            per_trajectory: BTreeMap::new(),
            current: String::new(),
            steps: 0,
        }
    }

    fn enter(&mut self, at: At<'_>) {
        self.current = format!("trajectory `{}`, {} ({})", at.trajectory, at.spot, at.check);
    }

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

    fn same<T: PartialEq + Debug>(&mut self, at: At<'_>, field: &str, expected: T, got: T) {
        if expected != got {
            self.mismatch(at, field, expected, got);
        }
    }

    /// f64 values compared bit for bit.
    fn bits(&mut self, at: At<'_>, field: &str, expected: &[f64], got: &[f64]) {
        if expected.len() != got.len() {
            return self.mismatch(at, &format!("{field} length"), expected.len(), got.len());
        }
        for (k, (e, g)) in expected.iter().zip(got).enumerate() {
            if e.to_bits() != g.to_bits() {
                self.mismatch(at, &format!("{field}[{k}]"), e, g);
            }
        }
    }

    /// An observation: the file's float64 values are float32 values; compared as f32 bits.
    fn observation(&mut self, at: At<'_>, agent: &str, expected: Option<&Vec<f64>>, got: &[f32]) {
        let field = format!("agent {agent}: observation");
        let Some(expected) = expected else {
            return self.mismatch(at, &field, "a record", "none");
        };
        if expected.len() != got.len() {
            return self.mismatch(at, &format!("{field} length"), expected.len(), got.len());
        }
        for (k, (&e, &g)) in expected.iter().zip(got).enumerate() {
            let e = e as f32;
            if e.to_bits() != g.to_bits() {
                self.mismatch(at, &format!("{field}[{k}]"), e, g);
            }
        }
    }

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

/// The env a file describes: its scenario with its `env_kwargs`.
fn build_env(fixture: &Fixture) -> Result<ParticleEnv, String> {
    let kwargs = Value::Object(fixture.env_kwargs.clone());
    let options: EnvOptions = serde_json::from_value(kwargs.clone())
        .map_err(|e| format!("env_kwargs {kwargs} do not map to EnvOptions: {e}"))?;
    make_particle_env(&fixture.scenario, &options).map_err(|e| {
        format!(
            "make_particle_env({:?}, {kwargs}) failed: {e}",
            fixture.scenario
        )
    })
}

/// Checks the env's spec and world constants against the file's header.
fn check_spec(fixture: &Fixture, env: &ParticleEnv, report: &mut Report) {
    let spec = env.spec();
    let header = |report: &mut Report, field: &str, expected: &dyn Debug, got: &dyn Debug| {
        let (e, g) = (format!("{expected:?}"), format!("{got:?}"));
        if e != g {
            report.file_problem(format!("{field}: expected {e}, got {g}"));
        }
    };
    header(
        report,
        "format",
        &"mpe2-fixture/1",
        &fixture.format.as_str(),
    );
    header(report, "agents", &fixture.agents, &spec.agents);
    header(report, "max_cycles", &fixture.max_cycles, &spec.max_cycles);
    let world = WorldRecord {
        dim_c: env.world().dim_c,
        ..WORLD
    };
    header(report, "world", &fixture.world, &world);
    for (i, agent) in spec.agents.iter().enumerate() {
        let action = spec.action_spaces[i].describe();
        header(
            report,
            &format!("action_spaces[{agent}]"),
            &fixture.action_spaces.get(agent),
            &Some(&action),
        );
        header(
            report,
            &format!("observation_dims[{agent}]"),
            &fixture.observation_dims.get(agent),
            &Some(&spec.observation_spaces[i].flat_dim()),
        );
    }
    let continuous = fixture.env_kwargs.get("continuous_actions");
    header(
        report,
        "continuous_actions",
        &Some(&Value::Bool(fixture.continuous_actions)),
        &continuous,
    );
    let ratio = fixture
        .env_kwargs
        .get("local_ratio")
        .and_then(Value::as_f64);
    header(report, "local_ratio", &fixture.local_ratio, &ratio);
}

/// Checks that each trajectory agrees with its own schema: step numbers, `end`, flags, and
/// continuous actions that are float32 values.
fn check_schema(fixture: &Fixture, report: &mut Report) {
    if fixture.trajectories.is_empty() {
        report.file_problem("no trajectories");
    }
    let mut names = BTreeSet::new();
    for traj in &fixture.trajectories {
        let at = |spot| At {
            check: "schema",
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
        report.same(at(Spot::Whole), "end", "truncated", traj.end.as_str());
        for (i, step) in traj.steps.iter().enumerate() {
            report.same(at(Spot::Step(i)), "t", i as u32 + 1, step.t);
            for values in step.actions.values() {
                if let ActionRecord::Continuous(values) = values {
                    for &a in values {
                        report.same(
                            at(Spot::Step(i)),
                            "action is a float32 value",
                            a,
                            f64::from(a as f32),
                        );
                    }
                }
            }
        }
    }
}

/// `initial_state` on top of the env's own world: positions, velocities, `c`, colours and goals
/// are set; every fixed property is compared with what the scenario made.
fn initial_world(env: &ParticleEnv, traj: &Trajectory, report: &mut Report) -> World {
    let at = At {
        check: "initial world",
        trajectory: &traj.name,
        spot: Spot::Initial,
    };
    let mut world = env.world().clone();
    let state = &traj.initial_state;
    report.same(
        at,
        "number of agents",
        world.agents.len(),
        state.agents.len(),
    );
    report.same(
        at,
        "number of landmarks",
        world.landmarks.len(),
        state.landmarks.len(),
    );
    let index = |name: &Option<String>| name.as_ref().map(|n| world.index_of(n));
    let goals: Vec<_> = state
        .agents
        .iter()
        .map(|r| (index(&r.goal_a), index(&r.goal_b)))
        .collect();
    for ((agent, record), (goal_a, goal_b)) in world.agents.iter_mut().zip(&state.agents).zip(goals)
    {
        let field = |f: &str| format!("agent {}: {f}", record.name);
        report.same(
            at,
            &field("name"),
            record.name.as_str(),
            agent.name.as_str(),
        );
        report.same(at, &field("size"), record.size, agent.size);
        report.same(at, &field("mass"), record.mass, agent.mass);
        report.same(at, &field("movable"), record.movable, agent.movable);
        report.same(at, &field("collide"), record.collide, agent.collide);
        report.same(at, &field("silent"), record.silent, agent.silent);
        report.same(at, &field("accel"), record.accel, agent.accel);
        report.same(at, &field("max_speed"), record.max_speed, agent.max_speed);
        report.same(
            at,
            &field("u_noise, c_noise"),
            (None, None),
            (record.u_noise, record.c_noise),
        );
        report.same(
            at,
            &field("adversary"),
            record.adversary.unwrap_or(false),
            agent.adversary,
        );
        report.same(at, &field("c length"), record.c.len(), agent.c.len());
        for (name, goal) in [("goal_a", goal_a), ("goal_b", goal_b)] {
            report.same(
                at,
                &field(&format!("{name} is an entity")),
                None,
                goal.filter(Option::is_none),
            );
        }
        agent.p_pos = record.p_pos;
        agent.p_vel = record.p_vel;
        agent.c.clone_from(&record.c);
        agent.color = record.color;
        agent.goal_a = goal_a.flatten();
        agent.goal_b = goal_b.flatten();
    }
    for (landmark, record) in world.landmarks.iter_mut().zip(&state.landmarks) {
        let field = |f: &str| format!("landmark {}: {f}", record.name);
        report.same(
            at,
            &field("name"),
            record.name.as_str(),
            landmark.name.as_str(),
        );
        report.same(at, &field("size"), record.size, landmark.size);
        report.same(at, &field("mass"), record.mass, landmark.mass);
        report.same(at, &field("movable"), record.movable, landmark.movable);
        report.same(at, &field("collide"), record.collide, landmark.collide);
        report.same(
            at,
            &field("max_speed"),
            record.max_speed,
            landmark.max_speed,
        );
        report.same(
            at,
            &field("boundary"),
            record.boundary.unwrap_or(false),
            landmark.boundary,
        );
        landmark.p_pos = record.p_pos;
        landmark.p_vel = record.p_vel;
        landmark.color = record.color;
    }
    world
}

/// The recorded actions in agent order; continuous values as f32.
fn actions<'a>(
    fixture: &Fixture,
    record: &StepRecord,
    values: &'a mut Vec<Vec<f32>>,
) -> Result<Vec<Action<'a>>, String> {
    values.clear();
    let mut discrete = Vec::new();
    for agent in &fixture.agents {
        match record.actions.get(agent) {
            Some(ActionRecord::Discrete(a)) => discrete.push(Some(*a)),
            Some(ActionRecord::Continuous(v)) => {
                discrete.push(None);
                values.push(v.iter().map(|&a| a as f32).collect());
            }
            None => return Err(format!("no action for agent {agent}")),
        }
    }
    let values: &'a Vec<Vec<f32>> = values;
    let mut continuous = values.iter();
    Ok(discrete
        .into_iter()
        .map(|d| match d {
            Some(a) => Action::Discrete(a),
            None => Action::Continuous(continuous.next().expect("one per continuous action")),
        })
        .collect())
}

/// Compares what a step returned, and the agents' state after it, with its record.
fn check_step(
    report: &mut Report,
    at: At<'_>,
    fixture: &Fixture,
    record: &StepRecord,
    env: &ParticleEnv,
    out: &MultiStep,
) {
    report.steps += 1;
    for (i, agent) in fixture.agents.iter().enumerate() {
        report.observation(
            at,
            agent,
            record.observations.get(agent),
            &out.observations[i],
        );
        let field = |f: &str| format!("agent {agent}: {f}");
        match record.rewards.get(agent) {
            Some(r) => report.bits(at, &field("reward"), &[*r], &[out.rewards[i]]),
            None => report.mismatch(at, &field("reward"), "a record", "none"),
        }
        report.same(
            at,
            &field("termination"),
            record.terminations.get(agent),
            Some(&out.terminations[i]),
        );
        report.same(
            at,
            &field("truncation"),
            record.truncations.get(agent),
            Some(&out.truncations[i]),
        );
        let Some(state) = record.state.get(agent) else {
            report.mismatch(at, &field("state"), "a record", "none");
            continue;
        };
        let got = &env.world().agents[i];
        report.bits(at, &field("p_pos"), &state.p_pos, &got.p_pos);
        report.bits(at, &field("p_vel"), &state.p_vel, &got.p_vel);
        report.bits(at, &field("c"), &state.c, &got.c);
    }
}

/// Takes the recorded step; a missing action is a mismatch.
fn take(
    report: &mut Report,
    at: At<'_>,
    fixture: &Fixture,
    record: &StepRecord,
    env: &mut ParticleEnv,
    out: &mut MultiStep,
) -> bool {
    let mut values = Vec::new();
    match actions(fixture, record, &mut values) {
        Ok(actions) => {
            env.step(&actions, out);
            true
        }
        Err(e) => {
            report.mismatch(at, "actions", "one per agent", e);
            false
        }
    }
}

/// Rollout test: the initial state once, then every action.
fn rollout(fixture: &Fixture, env: &mut ParticleEnv, report: &mut Report) {
    let mut out = MultiStep::new(env.spec());
    for traj in &fixture.trajectories {
        let at = At {
            check: Level::Rollout.name(),
            trajectory: &traj.name,
            spot: Spot::Initial,
        };
        report.enter(at);
        let world = initial_world(env, traj, report);
        env.set_world(world, 0, &mut out);
        for (i, agent) in fixture.agents.iter().enumerate() {
            report.observation(
                at,
                agent,
                traj.initial_observations.get(agent),
                &out.observations[i],
            );
        }
        for (i, record) in traj.steps.iter().enumerate() {
            let at = At {
                spot: Spot::Step(i),
                ..at
            };
            report.enter(at);
            if !take(report, at, fixture, record, env, &mut out) {
                break;
            }
            check_step(report, at, fixture, record, env, &out);
        }
    }
}

/// One-step test: every step from its recorded predecessor state.
fn one_step(fixture: &Fixture, env: &mut ParticleEnv, report: &mut Report) {
    let mut out = MultiStep::new(env.spec());
    for traj in &fixture.trajectories {
        let initial = initial_world(env, traj, report);
        let mut before = initial.clone();
        for (i, record) in traj.steps.iter().enumerate() {
            let at = At {
                check: Level::OneStep.name(),
                trajectory: &traj.name,
                spot: Spot::Step(i),
            };
            report.enter(at);
            env.set_world(before.clone(), i as u32, &mut out);
            if !take(report, at, fixture, record, env, &mut out) {
                break;
            }
            check_step(report, at, fixture, record, env, &out);
            for (agent, name) in before.agents.iter_mut().zip(&fixture.agents) {
                if let Some(state) = record.state.get(name) {
                    agent.p_pos = state.p_pos;
                    agent.p_vel = state.p_vel;
                    agent.c.clone_from(&state.c);
                }
            }
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
            "{} panicked at {}: {message}",
            fixture.scenario, report.current
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
    let mut steps = 0;
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
        steps += report.steps;
        if report.lines.is_empty() {
            eprintln!("{}: {name} matches ({} steps)", level.name(), report.steps);
        } else {
            failures.push(report.render());
        }
    }
    eprintln!(
        "{}: {steps} steps compared in {} files",
        level.name(),
        files.len()
    );
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

#[test]
fn mpe_fixtures_rollouts_match_mpe2() {
    check_all(Level::Rollout);
}

#[test]
fn mpe_fixtures_one_step_match_mpe2() {
    check_all(Level::OneStep);
}

/// simple_v3.json, parsed, for the checker's own tests.
fn simple_fixture() -> Value {
    let path = PathBuf::from(DEFAULT_FIXTURES_DIR).join("simple_v3.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn mpe_fixtures_checker_reports_a_corrupted_reward() {
    let mut fixture = simple_fixture();
    let reward = &mut fixture["trajectories"][1]["steps"][3]["rewards"]["agent_0"];
    *reward = Value::from(reward.as_f64().unwrap() + 1.0);
    let text = fixture.to_string();
    for level in [Level::OneStep, Level::Rollout] {
        let report = check_text("simple.json", &text, level);
        assert_eq!(report.lines.len(), 1, "{}", report.render());
        let line = &report.lines[0];
        for part in [
            "simple.json",
            "`01_mixed`",
            "steps[3]",
            "agent agent_0: reward",
            level.name(),
        ] {
            assert!(line.contains(part), "`{part}` missing from: {line}");
        }
    }
}

#[test]
fn mpe_fixtures_checker_rejects_unparseable_files_and_unknown_fields() {
    let report = check_text("broken.json", "{\"format\": ", Level::Rollout);
    assert!(
        report
            .render()
            .contains("does not match the fixture schema"),
        "{}",
        report.render()
    );
    let mut fixture = simple_fixture();
    fixture["env_kwargs"]["bogus"] = Value::from(1);
    let report = check_text("simple.json", &fixture.to_string(), Level::OneStep);
    assert!(
        report.render().contains("unknown field `bogus`"),
        "{}",
        report.render()
    );
}
