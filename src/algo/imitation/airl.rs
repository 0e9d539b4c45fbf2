//! Adversarial inverse reinforcement learning (Fu, Luo & Levine 2018, Algorithm 1), chosen over
//! guided cost learning (Finn et al. 2016) as its adversarial form: the discriminator has the
//! structure
//!
//! D(s, a, s') = exp f(s, a, s') / (exp f(s, a, s') + π(a|s)),
//! f(s, a, s') = g(s) + γ h(s') − h(s)   (eq. 4, the state-only "disentangled" reward g),
//!
//! i.e. the logit of D is f − log π(a|s), trained by the same cross-entropy as GAIL's
//! ([`super::discriminator`]; the policy's log-probability enters as a constant, which is the
//! importance weight of guided cost learning's sampler). h(s') counts 0 after a terminal state
//! (an absorbing one), and in full after a time-limit truncation. The policy's reward is
//! log D − log(1 − D) = f(s, a, s') − log π(a|s): PPO on it maximises the learned reward with an
//! entropy bonus. g and h are MLPs over the observation; the loop is [`super::adversarial`]'s.

use std::path::Path;

use burn::prelude::*;

use super::adversarial::{self, AdversarialConfig, Discriminate, Transitions};
use super::discriminator::{DiscriminatorState, DiscriminatorStats};
use crate::algo::footprint::{TRAINED_PARAMETER_BYTES, mlp_parameters};
use crate::algo::policy_gradient::ppo::PpoConfig;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::mlp::{Init, Mlp};
use crate::nn::{
    ActionKind, Actions, Activation, ActorCritic, Backend, adam, matrix, to_vec, vector,
};
use crate::rng::Rng;
use crate::session::{Policy, Session};

hyperparameters! {
    /// AIRL's hyperparameters: PPO's keys (its γ also discounts h(s')), the demonstrations'
    /// and the discriminator's (g and h each `disc_net_arch` deep).
    pub struct AirlConfig {
        ..ppo: PpoConfig;
        ..adversarial: AdversarialConfig;
    }
    check: Self::check_ppo;
}

impl AirlConfig {
    fn check_ppo(&self, c: &mut Checker) {
        AdversarialConfig::check_ppo(&self.ppo, c);
        self.ppo.check_no_bonus(<Self as Algorithm>::NAME, c);
    }
}

impl Algorithm for AirlConfig {
    const NAME: &'static str = "airl";
    const SUMMARY: &'static str = "adversarial inverse RL: a discriminator exp f/(exp f + π) with f = g(s) + γh(s') − h(s), PPO on f − log π (Fu et al. 2018)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        self.adversarial.check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.ppo.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let net = mlp_parameters(run.obs_dim(), &self.adversarial.disc_net_arch, 1);
        self.ppo.footprint(run).with(
            "discriminator",
            "algo.disc_net_arch",
            net.saturating_mul(2 * TRAINED_PARAMETER_BYTES),
        )
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        let cfg = &self.adversarial;
        let gamma = self.ppo.gamma;
        adversarial::train(&self.ppo, cfg, session, |spec, rng, device, plain| {
            let obs_dim = spec.observation_space.flat_dim();
            Airl {
                f: ShapedReward::new(obs_dim, &cfg.disc_net_arch, rng, device),
                optimizer: adam(1e-8),
                learning_rate: cfg.disc_learning_rate,
                gamma,
                action: ActionKind::of(&spec.action_space),
                device: device.clone(),
                plain: plain.clone(),
            }
        })
    }

    fn policy(
        &self,
        env: &dyn Env,
        _: Rng,
        run_dir: &Path,
        backend: Backend,
    ) -> anyhow::Result<Box<dyn Policy>> {
        adversarial::saved_policy(&self.ppo, env, run_dir, backend)
    }
}

/// f(s, a, s') = g(s) + γ h(s') − h(s): the reward g and the shaping potential h.
#[derive(Module, Debug)]
pub struct ShapedReward {
    g: Mlp,
    h: Mlp,
}

impl ShapedReward {
    /// Fresh g and h, `obs_dim → hidden (ReLU) → 1` each (PyTorch's default initialisation).
    pub fn new(obs_dim: usize, hidden: &[usize], rng: &mut Rng, device: &Device) -> Self {
        let sizes: Vec<usize> = std::iter::once(obs_dim)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(1))
            .collect();
        let mut net = || Mlp::new(&sizes, Activation::Relu, false, Init::Default, rng, device);
        Self { g: net(), h: net() }
    }

    /// g(s), the learned reward.
    pub fn reward(&self, obs: Tensor<2>) -> Tensor<1> {
        self.g.forward(obs).squeeze_dim::<1>(1)
    }

    /// h(s), the shaping potential.
    pub fn potential(&self, obs: Tensor<2>) -> Tensor<1> {
        self.h.forward(obs).squeeze_dim::<1>(1)
    }

    /// f(s, a, s') with h(s') dropped after a terminal state (`not_terminal` 0).
    pub fn f(
        &self,
        obs: Tensor<2>,
        next_obs: Tensor<2>,
        not_terminal: Tensor<1>,
        gamma: f64,
    ) -> Tensor<1> {
        let shaping = self.potential(next_obs) * not_terminal * gamma - self.potential(obs.clone());
        self.reward(obs) + shaping
    }
}

/// AIRL's discriminator in training.
struct Airl {
    f: ShapedReward,
    optimizer: burn::optim::ModuleOptimizer,
    learning_rate: f64,
    gamma: f64,
    action: ActionKind,
    device: Device,
    plain: Device,
}

impl Airl {
    /// The logit of D, f(s, a, s') − log π(a|s), with `f` evaluated by `reward` on `device`.
    fn logits(
        &self,
        reward: &ShapedReward,
        t: &Transitions,
        policy: &ActorCritic,
        device: &Device,
    ) -> Tensor<1> {
        let d = t.obs_dim;
        let not_terminal: Vec<f32> = t
            .terminated
            .iter()
            .map(|&done| if done { 0.0 } else { 1.0 })
            .collect();
        let f = reward.f(
            matrix(&t.obs, d, device),
            matrix(&t.next_obs, d, device),
            vector(&not_terminal, device),
            self.gamma,
        );
        f - vector(&self.log_pi(t, policy), device)
    }

    /// log π(a|s) of the transitions under the current policy (no gradient).
    fn log_pi(&self, t: &Transitions, policy: &ActorCritic) -> Vec<f32> {
        let n = t.len();
        let actions = match self.action {
            ActionKind::Discrete(_) => {
                let idx: Vec<i64> = t.actions.iter().map(|&a| a as i64).collect();
                Actions::Discrete(Tensor::<1, Int>::from_data(
                    TensorData::new(idx, [n]),
                    &self.plain,
                ))
            }
            ActionKind::Continuous(k) => Actions::Continuous(matrix(&t.actions, k, &self.plain)),
        };
        let out = policy.actor(matrix(&t.obs, t.obs_dim, &self.plain));
        to_vec(policy.log_prob_entropy(out, &actions).0)
    }
}

impl Discriminate for Airl {
    fn step(
        &mut self,
        from_policy: &Transitions,
        from_expert: &Transitions,
        policy: &ActorCritic,
    ) -> DiscriminatorStats {
        let expert = self.logits(&self.f, from_expert, policy, &self.device);
        let from = self.logits(&self.f, from_policy, policy, &self.device);
        let stats;
        (self.f, stats) = DiscriminatorStats::step(
            self.f.clone(),
            &mut self.optimizer,
            self.learning_rate,
            expert,
            from,
        );
        stats
    }

    /// log D − log(1 − D) = f(s, a, s') − log π(a|s).
    fn rewards(&self, transitions: &Transitions, policy: &ActorCritic) -> Vec<f64> {
        let logits = self.logits(&self.f.valid(), transitions, policy, &self.plain);
        to_vec(logits).into_iter().map(f64::from).collect()
    }

    fn state(&self) -> anyhow::Result<DiscriminatorState> {
        DiscriminatorState::of(&self.f, &self.optimizer)
    }

    fn restore(&mut self, state: DiscriminatorState) -> anyhow::Result<()> {
        self.f = state.restore(self.f.clone(), &mut self.optimizer)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};
    use burn::tensor::activation;

    /// f is g(s) + γ h(s') − h(s), with h(s') dropped after a terminal state; D = σ(f − log π)
    /// is exp f / (exp f + π), and log D − log(1 − D) is f − log π.
    #[test]
    fn f_decomposes_and_the_discriminator_is_airls() {
        let device = Device::flex();
        let mut rng = stream(0, Stream::Init);
        let net = ShapedReward::new(2, &[8], &mut rng, &device);
        let (s, s2) = ([0.3f32, -1.0, 2.0, 0.5], [1.0f32, 0.2, -0.4, 0.9]);
        let gamma = 0.9;
        let f = to_vec(net.f(
            matrix(&s, 2, &device),
            matrix(&s2, 2, &device),
            vector(&[1.0, 0.0], &device),
            gamma,
        ));
        let g = to_vec(net.reward(matrix(&s, 2, &device)));
        let (h, h2) = (
            to_vec(net.potential(matrix(&s, 2, &device))),
            to_vec(net.potential(matrix(&s2, 2, &device))),
        );
        let expected = [g[0] + 0.9 * h2[0] - h[0], g[1] - h[1]];
        for (a, b) in f.iter().zip(expected) {
            assert!((a - b).abs() < 1e-5, "{f:?} vs {expected:?}");
        }
        let log_pi = [(0.25f32).ln(), (0.8f32).ln()];
        let logits: Vec<f32> = f.iter().zip(log_pi).map(|(f, l)| f - l).collect();
        let d = to_vec(activation::sigmoid(vector(&logits, &device)));
        for i in 0..2 {
            let (ef, pi) = (f[i].exp(), log_pi[i].exp());
            assert!((d[i] - ef / (ef + pi)).abs() < 1e-5);
            let reward = (d[i].ln() - (1.0 - d[i]).ln()) as f64;
            assert!((reward - f64::from(f[i] - log_pi[i])).abs() < 1e-4);
        }
    }
}
