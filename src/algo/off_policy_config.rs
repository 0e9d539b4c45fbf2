//! The keys every off-policy learner shares (Stable-Baselines3's `OffPolicyAlgorithm`):
//! replay, the training rhythm and the target update.

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
