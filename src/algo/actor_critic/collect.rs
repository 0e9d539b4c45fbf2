//! Collecting off-policy experience: one step of every env with actions in the normalised box,
//! each transition stored with its final observation when the episode ended, so that
//! truncations bootstrap and terminations do not. A skill-conditioned learner (DIAYN) stores
//! each observation with its env's conditioning vector appended. With hindsight experience
//! replay (SAC, TD3, DDPG with `her`), each finished episode of a goal env is also stored
//! relabelled by [`Hindsight`].

use serde::{Deserialize, Serialize};

use super::ActionBox;
use crate::algo::her_config::HerConfig;
use crate::algo::off_policy::Replay;
use crate::buffer::{Hindsight, Transition};
use crate::env::vector::VecEnvSnapshot;
use crate::env::{Env, TimeLimit, VecEnv};
use crate::rng::{Rng, Stream};
use crate::session::Session;

/// The envs' state for a checkpoint (the current observations are the envs' own), and the
/// episodes in progress of hindsight relabelling with its goal draws.
#[derive(Serialize, Deserialize)]
pub struct CollectorState {
    envs: VecEnvSnapshot,
    #[serde(default)]
    hindsight: Option<(Hindsight, Rng)>,
}

/// Hindsight relabelling of the collected episodes.
struct Relabelling {
    /// An env of the run's kind, for its goal structure.
    goals: TimeLimit,
    hindsight: Hindsight,
    rng: Rng,
}

/// The training envs of an off-policy learner and their current observations.
pub struct Collector {
    pub envs: VecEnv,
    /// Current observations, `num_envs × obs_dim`.
    pub obs: Vec<f32>,
    pub action_box: ActionBox,
    env_actions: Vec<f32>,
    /// The stored observation and next observation of one transition, conditioning appended.
    stored_obs: Vec<f32>,
    stored_next: Vec<f32>,
    gamma: f32,
    relabelling: Option<Relabelling>,
}

impl Collector {
    pub fn new(session: &Session, gamma: f64) -> anyhow::Result<Self> {
        let envs = session.make_vec_env()?;
        let action_box = ActionBox::of(&envs.spec().action_space)
            .ok_or_else(|| anyhow::anyhow!("continuous actions are checked with the config"))?;
        Ok(Self {
            obs: envs.observations().to_vec(),
            env_actions: vec![0.0; envs.num_envs() * action_box.dim()],
            action_box,
            envs,
            stored_obs: Vec::new(),
            stored_next: Vec::new(),
            gamma: gamma as f32,
            relabelling: None,
        })
    }

    /// Also stores every finished episode relabelled as `her` says (nothing when it is off);
    /// the env has goals (checked with the config).
    pub fn with_hindsight(mut self, session: &Session, her: &HerConfig) -> anyhow::Result<Self> {
        if her.her {
            let goals = session.make_env()?;
            let structure = goals
                .goal_env()
                .ok_or_else(|| anyhow::anyhow!("algo.her needs a goal env (checked)"))?;
            let dims = (self.obs_dim(), self.act_dim());
            let hindsight = her.hindsight(structure, self.num_envs(), dims, f64::from(self.gamma));
            self.relabelling = Some(Relabelling {
                goals,
                hindsight,
                rng: session.rng(Stream::Hindsight),
            });
        }
        Ok(self)
    }

    pub fn state(&self) -> CollectorState {
        CollectorState {
            envs: self.envs.snapshot(),
            hindsight: self
                .relabelling
                .as_ref()
                .map(|r| (r.hindsight.clone(), r.rng.clone())),
        }
    }

    pub fn restore(&mut self, state: &CollectorState) {
        self.envs.restore(&state.envs);
        self.obs.copy_from_slice(self.envs.observations());
        if let (Some(r), Some((hindsight, rng))) = (self.relabelling.as_mut(), &state.hindsight) {
            r.hindsight = hindsight.clone();
            r.rng = rng.clone();
        }
    }

    pub fn num_envs(&self) -> usize {
        self.envs.num_envs()
    }

    pub fn obs_dim(&self) -> usize {
        self.envs.obs_dim()
    }

    pub fn act_dim(&self) -> usize {
        self.action_box.dim()
    }

    /// Steps every env with `actions` (rows in [−1, 1]^d, as stored), adds the transitions to
    /// `replay`, advances `step` and records finished episodes. Returns whether each env's
    /// episode ended.
    pub fn step(
        &mut self,
        actions: &[f32],
        replay: &mut Replay,
        session: &mut Session,
        step: &mut u64,
    ) -> anyhow::Result<Vec<bool>> {
        self.step_conditioned(actions, &[], replay, session, step)
    }

    /// As [`Collector::step`], storing each observation and next observation of env `e` with
    /// row `e` of `condition` (`num_envs` rows, possibly empty) appended: [s, c_e].
    pub fn step_conditioned(
        &mut self,
        actions: &[f32],
        condition: &[f32],
        replay: &mut Replay,
        session: &mut Session,
        step: &mut u64,
    ) -> anyhow::Result<Vec<bool>> {
        if let Some(&a) = actions.iter().find(|a| !a.is_finite()) {
            session.non_finite(*step, "an action", f64::from(a))?;
        }
        self.action_box.to_env(actions, &mut self.env_actions);
        self.envs.step_continuous(&self.env_actions);
        let (o, d) = (self.obs_dim(), self.act_dim());
        let c = condition.len() / self.num_envs();
        let mut ended = Vec::with_capacity(self.num_envs());
        for e in 0..self.num_envs() {
            let (terminated, truncated) = (self.envs.terminated()[e], self.envs.truncated()[e]);
            let next_obs = if terminated || truncated {
                self.envs.final_observation(e)
            } else {
                self.envs.observation(e)
            };
            let conditioning = &condition[e * c..(e + 1) * c];
            self.stored_obs.clear();
            self.stored_obs
                .extend_from_slice(&self.obs[e * o..(e + 1) * o]);
            self.stored_obs.extend_from_slice(conditioning);
            self.stored_next.clear();
            self.stored_next.extend_from_slice(next_obs);
            self.stored_next.extend_from_slice(conditioning);
            replay.add(&Transition {
                obs: &self.stored_obs,
                action: &actions[e * d..(e + 1) * d],
                reward: self.envs.rewards()[e] as f32,
                next_obs: &self.stored_next,
                terminated,
                truncated,
                discount: self.gamma,
            });
            if let Some(Relabelling {
                goals,
                hindsight,
                rng,
            }) = self.relabelling.as_mut()
            {
                let obs = &self.obs[e * o..(e + 1) * o];
                hindsight.push(e, obs, &actions[e * d..(e + 1) * d], next_obs);
                if terminated || truncated {
                    let structure = goals.goal_env().expect("a goal env (checked)");
                    hindsight.finish(e, structure, rng, |t| replay.add(t));
                }
            }
            ended.push(terminated || truncated);
        }
        self.obs.copy_from_slice(self.envs.observations());
        *step += self.num_envs() as u64;
        session.record_episodes(*step, self.envs.ended())?;
        Ok(ended)
    }
}
