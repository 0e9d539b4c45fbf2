//! The hindsight experience replay keys (Andrychowicz et al. 2017) of the off-policy learners
//! that store episodes of a goal env: DQN, and through the shared collector SAC, TD3 and DDPG.
//! The relabelling itself is [`Hindsight`].

use crate::buffer::{GoalStrategy, Hindsight};
use crate::env::Env;
use crate::env::goal::GoalEnv;
use crate::hyper::hyperparameters;

hyperparameters! {
    /// HER's keys (Stable-Baselines3's `HerReplayBuffer` names); off by default.
    pub struct HerConfig {
        /// hindsight experience replay on a goal env: each episode replayed with achieved goals
        her: bool = false;
        /// HER: relabelled copies of each transition (k ≥ 0)
        n_sampled_goal: i64 = 4, non_negative;
        /// HER: the goals, "future", "final" or "episode"
        goal_selection_strategy: GoalStrategy = GoalStrategy::Future;
    }
}

impl HerConfig {
    /// `her` needs an env with goals.
    pub fn check_env(&self, env: &dyn Env) -> Result<(), (&'static str, String)> {
        if self.her && env.goal_env().is_none() {
            return Err((
                "algo.her",
                format!(
                    "hindsight experience replay needs a goal env (BitFlipping-v0); {} has no goals",
                    env.spec().id
                ),
            ));
        }
        Ok(())
    }

    /// The relabelling of `n_envs` envs with goals `goals`, observations of `obs_dim` values
    /// and actions of `act_dim`, bootstrapping with `discount` (γ).
    pub fn hindsight(
        &self,
        goals: &dyn GoalEnv,
        n_envs: usize,
        (obs_dim, act_dim): (usize, usize),
        discount: f64,
    ) -> Hindsight {
        Hindsight::new(
            self.goal_selection_strategy,
            usize::try_from(self.n_sampled_goal).unwrap_or(0),
            n_envs,
            (obs_dim, act_dim, goals.goal_dim()),
            discount as f32,
        )
    }
}
