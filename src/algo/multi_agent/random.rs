//! `uniform_random`: every agent draws its action uniformly from its action space (a discrete
//! index, or each component of a box in [low, high]). The floor of the acceptance tables.

use std::path::Path;

use rand::RngExt;

use super::check_reference_envs;
use crate::algo::{Algorithm, Kind};
use crate::env::multi::MultiAgentSpec;
use crate::env::{Action, Space};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::{Rng, Stream};
use crate::session::{MultiPolicy, Session};

hyperparameters! {
    /// `uniform_random` has no hyperparameters.
    pub struct RandomAgentsConfig {}
}

impl Algorithm for RandomAgentsConfig {
    const NAME: &'static str = "uniform_random";
    const SUMMARY: &'static str =
        "multi-agent reference: every agent acts uniformly at random (evaluated once)";
    const KIND: Kind = Kind::Planner;
    const MULTI_AGENT: bool = true;

    fn check_multi_env(
        &self,
        _: &MultiAgentSpec,
        num_envs: usize,
    ) -> Result<(), (&'static str, String)> {
        check_reference_envs(Self::NAME, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        let env = session.make_multi_vec_env()?;
        let mut policy = RandomAgents::new(env.spec(), session.rng(Stream::Explore));
        session.set_diagnostics(&[])?;
        session.evaluate_multi(0, &mut policy, &[])
    }

    fn multi_policy(
        &self,
        env: &MultiAgentSpec,
        rng: Rng,
        _: &Path,
        _: Backend,
    ) -> anyhow::Result<Box<dyn MultiPolicy>> {
        Ok(Box::new(RandomAgents::new(env, rng)))
    }
}

/// Uniform actions from each agent's space, drawn from `rng`.
pub struct RandomAgents {
    spaces: Vec<Space>,
    rng: Rng,
    values: Vec<Vec<f32>>,
}

impl RandomAgents {
    pub fn new(env: &MultiAgentSpec, rng: Rng) -> Self {
        let spaces = env.action_spaces.clone();
        let values = spaces.iter().map(|s| vec![0.0; s.flat_dim()]).collect();
        Self {
            spaces,
            rng,
            values,
        }
    }
}

impl MultiPolicy for RandomAgents {
    fn act(&mut self, _: &[Vec<f32>]) -> Vec<Action<'_>> {
        for (space, values) in self.spaces.iter().zip(&mut self.values) {
            match space {
                Space::Discrete(n) => values[0] = self.rng.random_range(0..*n) as f32,
                Space::Box { low, high } => {
                    for ((v, lo), hi) in values.iter_mut().zip(low).zip(high) {
                        *v = lo + (hi - lo) * self.rng.random::<f32>();
                    }
                }
            }
        }
        self.spaces
            .iter()
            .zip(&self.values)
            .map(|(space, values)| match space {
                Space::Discrete(_) => Action::Discrete(values[0] as usize),
                Space::Box { .. } => Action::Continuous(values),
            })
            .collect()
    }
}
