//! Generative adversarial imitation learning (Ho & Ermon 2016, Algorithm 1) with PPO as the
//! policy step (the paper's TRPO step, as Stable-Baselines' and the imitation library's GAIL
//! do): a discriminator D(s, a) learns to tell the expert's pairs from the policy's by binary
//! cross-entropy, without gradient penalty ([`super::discriminator`]), and the policy maximises
//! the reward r(s, a) = −log(1 − D(s, a)) (D the probability of the expert), the GAN
//! generator's "non-saturating" form of the paper's cost log D. Actions enter D one-hot
//! (discrete) or clipped to the bounds (continuous). The loop is [`super::adversarial`]'s.

use std::path::Path;

use burn::prelude::*;

use super::adversarial::{self, AdversarialConfig, Discriminate, Transitions};
use super::discriminator::{
    ActionFeatures, Discriminator, DiscriminatorState, DiscriminatorStats, gail_reward,
};
use crate::algo::footprint::{TRAINED_PARAMETER_BYTES, mlp_parameters};
use crate::algo::policy_gradient::ppo::PpoConfig;
use crate::algo::{Algorithm, CrossChecks, Footprint, Kind, RunShape};
use crate::env::Env;
use crate::hyper::{Checker, hyperparameters};
use crate::nn::{ActorCritic, Backend, adam, matrix, to_vec};
use crate::rng::Rng;
use crate::session::{Policy, Session};

hyperparameters! {
    /// GAIL's hyperparameters: PPO's keys, the demonstrations' and the discriminator's.
    pub struct GailConfig {
        ..ppo: PpoConfig;
        ..adversarial: AdversarialConfig;
    }
    check: Self::check_ppo;
}

impl GailConfig {
    fn check_ppo(&self, c: &mut Checker) {
        AdversarialConfig::check_ppo(&self.ppo, c);
        self.ppo.check_no_bonus(<Self as Algorithm>::NAME, c);
    }
}

impl Algorithm for GailConfig {
    const NAME: &'static str = "gail";
    const SUMMARY: &'static str = "generative adversarial imitation: PPO on the reward −log(1 − D(s, a)) of a discriminator of expert vs policy pairs (Ho & Ermon 2016)";
    const KIND: Kind = Kind::Learner;

    fn check_env(&self, env: &dyn Env, _: usize) -> Result<(), (&'static str, String)> {
        self.adversarial.check_env(Self::NAME, env)
    }

    fn check_run(&self, run: &RunShape) -> CrossChecks {
        self.ppo.check_run(run)
    }

    fn footprint(&self, run: &RunShape) -> Footprint {
        let input = run.obs_dim().saturating_add(run.action_outputs());
        let disc = mlp_parameters(input, &self.adversarial.disc_net_arch, 1);
        self.ppo.footprint(run).with(
            "discriminator",
            "algo.disc_net_arch",
            disc.saturating_mul(TRAINED_PARAMETER_BYTES),
        )
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        let cfg = &self.adversarial;
        adversarial::train(&self.ppo, cfg, session, |spec, rng, device, plain| {
            let features = ActionFeatures::new(&spec.action_space);
            let input = spec.observation_space.flat_dim() + features.dim();
            Gail {
                disc: Discriminator::new(input, &cfg.disc_net_arch, rng, device),
                optimizer: adam(1e-8),
                learning_rate: cfg.disc_learning_rate,
                features,
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

/// GAIL's discriminator in training.
struct Gail {
    disc: Discriminator,
    optimizer: burn::optim::ModuleOptimizer,
    learning_rate: f64,
    features: ActionFeatures,
    device: Device,
    plain: Device,
}

impl Gail {
    fn inputs(&self, t: &Transitions, device: &Device) -> Tensor<2> {
        let x = self.features.inputs(&t.obs, t.obs_dim, &t.actions);
        matrix(&x, t.obs_dim + self.features.dim(), device)
    }
}

impl Discriminate for Gail {
    fn step(
        &mut self,
        from_policy: &Transitions,
        from_expert: &Transitions,
        _: &ActorCritic,
    ) -> DiscriminatorStats {
        let expert = self.disc.logits(self.inputs(from_expert, &self.device));
        let policy = self.disc.logits(self.inputs(from_policy, &self.device));
        let stats;
        (self.disc, stats) = DiscriminatorStats::step(
            self.disc.clone(),
            &mut self.optimizer,
            self.learning_rate,
            expert,
            policy,
        );
        stats
    }

    fn rewards(&self, transitions: &Transitions, _: &ActorCritic) -> Vec<f64> {
        let logits = self
            .disc
            .valid()
            .logits(self.inputs(transitions, &self.plain));
        to_vec(logits)
            .into_iter()
            .map(|x| gail_reward(f64::from(x)))
            .collect()
    }

    fn state(&self) -> anyhow::Result<DiscriminatorState> {
        DiscriminatorState::of(&self.disc, &self.optimizer)
    }

    fn restore(&mut self, state: DiscriminatorState) -> anyhow::Result<()> {
        self.disc = state.restore(self.disc.clone(), &mut self.optimizer)?;
        Ok(())
    }
}
