//! Checkpoints of MADDPG and IDDPG, taken between vector-env steps: every agent's actor, critic
//! and their targets with both Adam states, the training envs (every particle env's state and
//! RNG, see [`MultiVecEnvSnapshot`]), the exploration and minibatch streams, the running means
//! of the diagnostics, and the shared replay when `experiment.checkpoint_replay` is on. Without
//! the replay a resumed run refills it for `learning_starts` more env steps before training
//! again, as the single-agent off-policy learners do ([`crate::algo::off_policy`]).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::maddpg_update::{MaddpgNets, MaddpgOptimizers};
use crate::algo::diagnostics::{DeviceMeans, MeansState};
use crate::buffer::MultiReplay;
use crate::env::multi::MultiVecEnv;
use crate::env::multi::vector::MultiVecEnvSnapshot;
use crate::nn::{SavedModule, SavedOptimizer};
use crate::rng::Rng;

/// One agent's four networks.
#[derive(Serialize, Deserialize)]
struct SavedAgent {
    actor: SavedModule,
    critic: SavedModule,
    actor_target: SavedModule,
    critic_target: SavedModule,
    actor_optimizer: SavedOptimizer,
    critic_optimizer: SavedOptimizer,
}

#[derive(Serialize, Deserialize)]
pub struct MaddpgState {
    agents: Vec<SavedAgent>,
    envs: MultiVecEnvSnapshot,
    explore: Rng,
    sampler: Rng,
    /// None when `experiment.checkpoint_replay` is off.
    replay: Option<MultiReplay>,
    /// Training waits until this env step (`learning_starts`, later after a resume without
    /// the replay).
    train_from: u64,
    vector_steps: u64,
    stats: MeansState,
}

/// The loop's state a checkpoint saves and a resume continues from.
pub struct MaddpgLoop<'a> {
    pub nets: &'a mut MaddpgNets,
    pub optimizers: &'a mut MaddpgOptimizers,
    pub envs: &'a mut MultiVecEnv,
    pub explore: &'a mut Rng,
    pub sampler: &'a mut Rng,
    pub replay: &'a mut MultiReplay,
    pub train_from: &'a mut u64,
    pub vector_steps: &'a mut u64,
    pub stats: &'a mut DeviceMeans,
}

impl MaddpgState {
    /// The state of `run`, with the replay when `keep_replay`.
    pub fn capture(run: &MaddpgLoop<'_>, keep_replay: bool) -> anyhow::Result<Self> {
        let agents = run
            .nets
            .agents
            .iter()
            .zip(&run.optimizers.actors)
            .zip(&run.optimizers.critics)
            .map(|((nets, actor_opt), critic_opt)| {
                Ok(SavedAgent {
                    actor: SavedModule::of(&nets.actor)?,
                    critic: SavedModule::of(&nets.critic)?,
                    actor_target: SavedModule::of(&nets.actor_target)?,
                    critic_target: SavedModule::of(&nets.critic_target)?,
                    actor_optimizer: SavedOptimizer::of(actor_opt)?,
                    critic_optimizer: SavedOptimizer::of(critic_opt)?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            agents,
            envs: run.envs.snapshot(),
            explore: run.explore.clone(),
            sampler: run.sampler.clone(),
            replay: keep_replay.then(|| run.replay.clone()),
            train_from: *run.train_from,
            vector_steps: *run.vector_steps,
            stats: run.stats.state(),
        })
    }

    /// Puts the state saved after env step `at` into the freshly built `run` (networks on
    /// `device`); without a saved replay, training resumes once `learning_starts` more steps
    /// have refilled it.
    pub fn restore(
        self,
        run: MaddpgLoop<'_>,
        at: u64,
        learning_starts: u64,
        device: &Device,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.agents.len() == run.nets.agents.len(),
            "the checkpoint has {} agents, the env {}",
            self.agents.len(),
            run.nets.agents.len()
        );
        let optimizers = run
            .optimizers
            .actors
            .iter_mut()
            .zip(run.optimizers.critics.iter_mut());
        for ((saved, nets), (actor_opt, critic_opt)) in self
            .agents
            .into_iter()
            .zip(&mut run.nets.agents)
            .zip(optimizers)
        {
            nets.actor = saved.actor.restore(nets.actor.clone())?;
            nets.critic = saved.critic.restore(nets.critic.clone())?;
            nets.actor_target = saved.actor_target.restore(nets.actor_target.clone())?;
            nets.critic_target = saved.critic_target.restore(nets.critic_target.clone())?;
            *actor_opt = saved.actor_optimizer.restore(actor_opt.clone())?;
            *critic_opt = saved.critic_optimizer.restore(critic_opt.clone())?;
        }
        run.envs.restore(&self.envs);
        *run.explore = self.explore;
        *run.sampler = self.sampler;
        *run.train_from = match self.replay {
            Some(replay) => {
                *run.replay = replay;
                self.train_from
            }
            None => at + learning_starts,
        };
        *run.vector_steps = self.vector_steps;
        run.stats.restore(self.stats, device);
        Ok(())
    }
}
