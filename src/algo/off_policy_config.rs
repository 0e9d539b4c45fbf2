//! The keys every off-policy learner shares (Stable-Baselines3's `OffPolicyAlgorithm`):
//! replay, the training rhythm and the target update.

use super::flops::off_policy_rounds;
use super::footprint::{CrossChecks, Footprint, RunShape, TRAINED_PARAMETER_BYTES};
use super::off_policy::Replay;
use crate::hyper::hyperparameters;

hyperparameters! {
    /// Replay, training and target-update keys of DQN, DDPG, TD3 and SAC. Each embeds them with
    /// its own defaults; these are SAC's (Stable-Baselines3's base-class values).
    pub struct OffPolicyConfig {
        /// Adam step size (of every network, and of SAC's temperature)
        learning_rate: f64 = 3e-4, positive;
        /// replay capacity in transitions
        buffer_size: usize = 1_000_000, nonzero;
        /// env steps of uniform random actions before training
        learning_starts: u64 = 100;
        /// transitions per gradient step
        batch_size: usize = 256, nonzero;
        /// target update θ' ← (1 − τ)θ' + τθ, τ ∈ (0, 1] (1: hard copy)
        tau: f64 = 0.005, in_half_open(0.0, 1.0);
        /// discount factor γ ∈ [0, 1]
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
        /// train every this many vector-env steps
        train_freq: u64 = 1, nonzero;
        /// gradient steps per training round
        gradient_steps: usize = 1;
    }
}

impl OffPolicyConfig {
    /// The warm-up against the budget, the minibatch against the replay.
    pub fn check_run(&self, run: &RunShape) -> CrossChecks {
        let mut c = CrossChecks::default();
        c.require(
            "algo.learning_starts",
            self.learning_starts < run.total_steps,
            || {
                format!(
                    "{} must be below experiment.total_steps = {}: no gradient step would be taken",
                    self.learning_starts, run.total_steps
                )
            },
        );
        c.require("algo.batch_size", self.batch_size <= self.buffer_size, || {
            format!(
                "{} must be at most algo.buffer_size = {}: a minibatch is drawn from the replay",
                self.batch_size, self.buffer_size
            )
        });
        c
    }

    /// Gradient steps over the run's budget: `gradient_steps` per training round.
    pub fn updates(&self, run: &RunShape) -> u64 {
        let rounds = off_policy_rounds(
            run.total_steps,
            run.num_envs,
            self.learning_starts,
            self.train_freq,
        );
        rounds * self.gradient_steps as u64
    }

    /// The replay buffer (with a sum tree when `prioritized`), the `trained` parameters (with
    /// their gradients and Adam's moments) and the `target` networks' parameters.
    pub fn footprint(
        &self,
        run: &RunShape,
        prioritized: bool,
        trained: u64,
        target: u64,
    ) -> Footprint {
        let replay = Replay::bytes(self.buffer_size, run.obs_dim(), run.act_dim(), prioritized);
        let nets = trained
            .saturating_mul(TRAINED_PARAMETER_BYTES)
            .saturating_add(target.saturating_mul(4));
        Footprint::default()
            .with("replay buffer", "algo.buffer_size", replay)
            .with("networks", "algo.policy.net_arch", nets)
    }
}
