//! The particle env behind the parallel API: action decoding, the world step, rewards with
//! `local_ratio`, observations and `max_cycles`.
//!
//! MPE2 1.1.1 `mpe2/_mpe_utils/simple_env.py` (`SimpleEnv`, `_execute_world_step`,
//! `_set_action`) wrapped by PettingZoo 1.27.0's `aec_to_parallel` and
//! `clip_out_of_bounds`; ENV_SPEC sections "When the world steps" and "Action decoding" of
//! `shared/fixtures/mpe/README.md`.

use std::sync::Arc;

use super::Scenario;
use super::core::{AgentAction, DEFAULT_SENSITIVITY, DIM_P, World};
use crate::env::multi::{MultiAgentEnv, MultiAgentSpec, MultiStep};
use crate::env::{Action, EnvSnapshot, Space};
use crate::rng::{self, Rng};

/// Movement actions: no-op, -x, +x, -y, +y (`dim_p * 2 + 1`).
const MOVES: usize = 2 * DIM_P + 1;

/// An MPE2 scenario as a PettingZoo parallel env (`<scenario>.parallel_env(...)`).
#[derive(Clone, Debug)]
pub struct ParticleEnv {
    spec: MultiAgentSpec,
    scenario: Arc<dyn Scenario>,
    world: World,
    local_ratio: Option<f64>,
    /// World steps taken in this episode (`SimpleEnv.steps`).
    steps: u32,
    rng: Rng,
    /// Scratch: decoded actions, forces, a float64 observation.
    actions: Vec<AgentAction>,
    forces: Vec<Option<[f64; DIM_P]>>,
    observation: Vec<f64>,
}

impl ParticleEnv {
    /// The env `id` of `scenario`, reset once from seed 0 so that its state is valid.
    pub fn new(
        id: &str,
        scenario: Arc<dyn Scenario>,
        continuous_actions: bool,
        max_cycles: u32,
        local_ratio: Option<f64>,
    ) -> Self {
        let mut world = scenario.make_world();
        let mut rng = rng::from_seed(0);
        scenario.reset_world(&mut world, &mut rng);
        let dim_c = world.dim_c;
        let action_spaces = world
            .agents
            .iter()
            .map(|agent| {
                let mut dim = match (agent.movable, continuous_actions) {
                    (true, _) => MOVES,
                    (false, true) => 0,
                    (false, false) => 1,
                };
                if !agent.silent {
                    dim = if continuous_actions {
                        dim + dim_c
                    } else {
                        dim * dim_c
                    };
                }
                if continuous_actions {
                    Space::Box {
                        low: vec![0.0; dim],
                        high: vec![1.0; dim],
                    }
                } else {
                    Space::Discrete(dim)
                }
            })
            .collect();
        let mut observation = Vec::new();
        let observation_spaces = (0..world.agents.len())
            .map(|i| {
                observation.clear();
                scenario.observation(i, &world, &mut observation);
                let dim = observation.len();
                Space::Box {
                    low: vec![f32::NEG_INFINITY; dim],
                    high: vec![f32::INFINITY; dim],
                }
            })
            .collect();
        let spec = MultiAgentSpec {
            id: id.to_string(),
            agents: world.agents.iter().map(|a| a.name.clone()).collect(),
            observation_spaces,
            action_spaces,
            max_cycles,
        };
        let actions = world
            .agents
            .iter()
            .map(|_| AgentAction {
                u: [0.0; DIM_P],
                c: vec![0.0; dim_c],
            })
            .collect();
        Self {
            spec,
            scenario,
            world,
            local_ratio,
            steps: 0,
            rng,
            actions,
            forces: Vec::new(),
            observation,
        }
    }

    /// The world as it is now.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The scenario (for its diagnostics, e.g. [`super::SimpleSpread::benchmark_data`]).
    pub fn scenario(&self) -> &dyn Scenario {
        self.scenario.as_ref()
    }

    /// World steps taken in this episode.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Overwrites the whole world and the episode's step count (0: as if `reset()` had produced
    /// the world) and writes every agent's observation, rewards zero and flags false. `world`
    /// must have this env's entities (as [`Self::world`] returns them); only their state and
    /// properties may differ.
    pub fn set_world(&mut self, world: World, steps: u32, out: &mut MultiStep) {
        let names = |w: &World| -> Vec<String> {
            (0..w.num_entities())
                .map(|i| w.entity(i).name.clone())
                .collect()
        };
        assert_eq!(
            names(&world),
            names(&self.world),
            "set_world needs the entities of {}",
            self.spec.id
        );
        self.world = world;
        self.steps = steps;
        self.begin(out);
    }

    /// Writes the observations of a fresh episode, rewards zero and flags false.
    fn begin(&mut self, out: &mut MultiStep) {
        self.observe(out);
        out.rewards.fill(0.0);
        out.terminations.fill(false);
        out.truncations.fill(false);
    }

    /// Every agent's observation, rounded to f32 (`observe(agent)`'s `.astype(np.float32)`).
    fn observe(&mut self, out: &mut MultiStep) {
        for (i, obs) in out.observations.iter_mut().enumerate() {
            self.observation.clear();
            self.scenario
                .observation(i, &self.world, &mut self.observation);
            assert_eq!(obs.len(), self.observation.len(), "observation buffer");
            for (o, x) in obs.iter_mut().zip(&self.observation) {
                *o = *x as f32;
            }
        }
    }

    /// `_set_action` for agent `i`: the force `u` (times the sensitivity) and the utterance `c`.
    fn decode(&mut self, i: usize, action: Action<'_>) {
        let agent = &self.world.agents[i];
        let name = &self.spec.agents[i];
        let sensitivity = agent.accel.unwrap_or(DEFAULT_SENSITIVITY);
        let decoded = &mut self.actions[i];
        decoded.u = [0.0; DIM_P];
        decoded.c.fill(0.0);
        match (action, &self.spec.action_spaces[i]) {
            (Action::Discrete(a), Space::Discrete(n)) if a < *n => {
                let mut a = a;
                if agent.movable {
                    match a % MOVES {
                        1 => decoded.u[0] = -1.0,
                        2 => decoded.u[0] = 1.0,
                        3 => decoded.u[1] = -1.0,
                        4 => decoded.u[1] = 1.0,
                        _ => {}
                    }
                    decoded.u = decoded.u.map(|u| u * sensitivity);
                    a /= MOVES;
                }
                if !agent.silent {
                    decoded.c[a] = 1.0;
                }
            }
            (Action::Continuous(values), Space::Box { low, .. }) if values.len() == low.len() => {
                // clip_out_of_bounds clips the whole vector in float32 (a no-op inside [0, 1]).
                let clipped = |k: usize| values[k].clamp(0.0, 1.0);
                let mut rest = 0;
                if agent.movable {
                    decoded.u = [
                        0.0 + f64::from(clipped(2) - clipped(1)),
                        0.0 + f64::from(clipped(4) - clipped(3)),
                    ]
                    .map(|u| u * sensitivity);
                    rest = MOVES;
                }
                if !agent.silent {
                    for (k, c) in decoded.c.iter_mut().enumerate() {
                        *c = f64::from(clipped(rest + k));
                    }
                }
            }
            (action, space) => panic!(
                "{} agent {name} takes an action of {}, got {action:?}",
                self.spec.id,
                space.describe()
            ),
        }
    }
}

impl MultiAgentEnv for ParticleEnv {
    fn spec(&self) -> &MultiAgentSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut MultiStep) {
        if let Some(seed) = seed {
            self.reseed(seed);
        }
        self.scenario.reset_world(&mut self.world, &mut self.rng);
        self.steps = 0;
        self.begin(out);
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = rng::from_seed(seed);
    }

    fn step(&mut self, actions: &[Action<'_>], out: &mut MultiStep) {
        assert!(
            self.steps < self.spec.max_cycles,
            "{}: the episode is over (max_cycles = {}); reset first",
            self.spec.id,
            self.spec.max_cycles
        );
        assert_eq!(
            actions.len(),
            self.spec.num_agents(),
            "{}: one action per agent",
            self.spec.id
        );
        for (i, action) in actions.iter().enumerate() {
            self.decode(i, *action);
        }
        self.world.step(&self.actions, &mut self.forces);
        let global = self
            .local_ratio
            .map(|_| self.scenario.global_reward(&self.world));
        for (i, reward) in out.rewards.iter_mut().enumerate() {
            let local = self.scenario.reward(i, &self.world);
            let r = match (global, self.local_ratio) {
                (Some(g), Some(ratio)) => g * (1.0 - ratio) + local * ratio,
                _ => local,
            };
            // The parallel wrapper sums into an integer 0.
            *reward = 0.0 + r;
        }
        self.steps += 1;
        out.terminations.fill(false);
        out.truncations.fill(self.steps >= self.spec.max_cycles);
        self.observe(out);
    }

    fn diagnostics(&self) -> Vec<(&'static str, f64)> {
        self.scenario.diagnostics(&self.world)
    }

    fn snapshot(&self) -> EnvSnapshot {
        let mut state = Vec::new();
        for i in 0..self.world.num_entities() {
            let e = self.world.entity(i);
            state.extend(e.p_pos);
            state.extend(e.p_vel);
            state.extend(&e.c);
            state.extend(e.color);
        }
        let goal = |g: Option<usize>| g.map_or(-1.0, |g| g as f64);
        let mut extra = vec![f64::from(self.steps)];
        for agent in &self.world.agents {
            extra.extend([goal(agent.goal_a), goal(agent.goal_b)]);
        }
        EnvSnapshot {
            state,
            extra,
            rng: self.rng.clone(),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) {
        let mut state = snapshot.state.iter().copied();
        let mut next = || state.next().expect("a snapshot of this env");
        let agents = self.world.agents.len();
        for i in 0..self.world.num_entities() {
            let e = match i.checked_sub(agents) {
                None => &mut self.world.agents[i],
                Some(j) => &mut self.world.landmarks[j],
            };
            e.p_pos = [next(), next()];
            e.p_vel = [next(), next()];
            for c in &mut e.c {
                *c = next();
            }
            e.color = [next(), next(), next()];
        }
        let goal = |g: f64| (g >= 0.0).then_some(g as usize);
        self.steps = snapshot.extra[0] as u32;
        for (agent, goals) in self
            .world
            .agents
            .iter_mut()
            .zip(snapshot.extra[1..].chunks(2))
        {
            agent.goal_a = goal(goals[0]);
            agent.goal_b = goal(goals[1]);
        }
        self.rng = snapshot.rng.clone();
    }

    fn clone_box(&self) -> Box<dyn MultiAgentEnv> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvOptions;
    use crate::env::multi::registry::make_particle_env;

    fn env(id: &str, continuous: bool) -> ParticleEnv {
        let options = EnvOptions {
            continuous_actions: Some(continuous),
            ..EnvOptions::default()
        };
        make_particle_env(id, &options).unwrap()
    }

    #[test]
    fn resets_are_reproducible_and_drawn_from_mpe2s_ranges() {
        let mut tag = env("simple_tag_v3", false);
        let mut out = MultiStep::new(tag.spec());
        tag.reset(Some(7), &mut out);
        let first = tag.world().clone();
        tag.reset(None, &mut out);
        assert_ne!(tag.world(), &first);
        tag.reset(Some(7), &mut out);
        assert_eq!(tag.world(), &first);
        for agent in &first.agents {
            assert!(agent.p_pos.iter().all(|x| (-1.0..1.0).contains(x)));
            assert_eq!((agent.p_vel, agent.c.as_slice()), ([0.0; 2], &[0.0; 2][..]));
        }
        for obstacle in &first.landmarks {
            assert!(obstacle.p_pos.iter().all(|x| (-0.9..0.9).contains(x)));
        }
        assert_eq!(tag.steps(), 0);
    }

    /// A continuous `+x` push equals the discrete one; entries outside [0, 1] are clipped.
    #[test]
    fn continuous_actions_decode_like_discrete_ones_after_clipping() {
        let mut discrete = env("simple_v3", false);
        let mut continuous = env("simple_v3", true);
        let (mut a, mut b) = (
            MultiStep::new(discrete.spec()),
            MultiStep::new(continuous.spec()),
        );
        discrete.reset(Some(1), &mut a);
        continuous.reset(Some(1), &mut b);
        discrete.step(&[Action::Discrete(2)], &mut a);
        continuous.step(&[Action::Continuous(&[0.3, -1.0, 2.0, 0.0, 0.0])], &mut b);
        assert_eq!(a, b);
        assert_eq!(discrete.world(), continuous.world());
    }

    #[test]
    fn the_speaker_utters_a_one_hot_and_every_agent_is_truncated_on_max_cycles() {
        let mut env = env("simple_speaker_listener_v4", false);
        let mut out = MultiStep::new(env.spec());
        env.reset(Some(2), &mut out);
        for t in 1..=25 {
            env.step(&[Action::Discrete(1), Action::Discrete(0)], &mut out);
            assert_eq!(out.truncations, [t == 25; 2]);
        }
        assert_eq!(env.world().agents[0].c, [0.0, 1.0, 0.0]);
        assert_eq!(out.observations[1][8..], [0.0, 1.0, 0.0]);
        assert!(out.episode_over());
        assert_eq!(out.rewards[0], out.rewards[1]);
    }

    #[test]
    #[should_panic(expected = "reset first")]
    fn stepping_an_ended_episode_panics() {
        let mut env = env("simple_v3", false);
        let mut out = MultiStep::new(env.spec());
        env.reset(Some(0), &mut out);
        for _ in 0..26 {
            env.step(&[Action::Discrete(0)], &mut out);
        }
    }
}
