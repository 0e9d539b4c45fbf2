//! The supervised learner of behavioural cloning and DAgger: the action head of an on-policy
//! [`ActorCritic`] network (its value net unused), trained by maximum likelihood on (state,
//! expert action) pairs, L(θ) = −E_D[log π_θ(a|s)]:
//!
//! - discrete actions: the cross-entropy of the softmax over the logits;
//! - continuous actions: the negative log-likelihood of a diagonal Gaussian N(μ_θ(s), σ²) with a
//!   learned state-independent log σ (the mean is what the policy plays).
//!
//! The policy is saved as an on-policy run's is (`model.bpk`, `obs_normalization.json`), so `rl
//! eval` and evaluation play it deterministically (argmax, or the mean clipped to the bounds).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::RngExt;

use crate::algo::policy_gradient::saved::{self, DeterministicPolicy};
use crate::env::EnvSpec;
use crate::env::normalize::ObsNormalizer;
use crate::nn::{Acting, ActionKind, Actions, ActorCritic, PolicyConfig, adam, to_vec};
use crate::rng::Rng;
use crate::session::Session;

/// Clip of standardised observations, as the on-policy methods' normaliser.
const OBS_CLIP: f64 = 10.0;

/// Labelled states: observations and the expert's actions, row-aligned.
#[derive(Clone, Debug, Default)]
pub struct Labels {
    pub obs: Vec<f32>,
    pub actions: Vec<f32>,
    pub obs_dim: usize,
    pub action_dim: usize,
}

impl Labels {
    pub fn new(obs_dim: usize, action_dim: usize) -> Self {
        Self {
            obs_dim,
            action_dim,
            ..Self::default()
        }
    }

    pub fn push(&mut self, obs: &[f32], action: &[f32]) {
        self.obs.extend_from_slice(obs);
        self.actions.extend_from_slice(action);
    }

    pub fn len(&self) -> usize {
        self.obs.len() / self.obs_dim.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.obs.is_empty()
    }

    /// The rows `idx` as (observations, actions).
    pub fn gather(&self, idx: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let (d, k) = (self.obs_dim, self.action_dim);
        let mut obs = Vec::with_capacity(idx.len() * d);
        let mut actions = Vec::with_capacity(idx.len() * k);
        for &i in idx {
            obs.extend_from_slice(&self.obs[i * d..(i + 1) * d]);
            actions.extend_from_slice(&self.actions[i * k..(i + 1) * k]);
        }
        (obs, actions)
    }
}

/// A policy network trained by maximum likelihood on labels.
pub struct Learner {
    model: ActorCritic,
    optimizer: ModuleOptimizer,
    device: Device,
    plain: Device,
    action: ActionKind,
    obs_dim: usize,
    learning_rate: f64,
    /// Observation standardisation (statistics of the labelled states), if on.
    pub normalizer: Option<ObsNormalizer>,
}

impl Learner {
    /// A fresh network for `spec`, trained on the session's training device.
    pub fn new(
        spec: &EnvSpec,
        policy: &PolicyConfig,
        learning_rate: f64,
        normalize_obs: bool,
        session: &Session,
        init: &mut Rng,
    ) -> Self {
        let device = session.training_device();
        let obs_dim = spec.observation_space.flat_dim();
        let action = ActionKind::of(&spec.action_space);
        Self {
            model: ActorCritic::new(obs_dim, action, policy, init, &device),
            optimizer: adam(1e-8),
            device,
            plain: session.device().clone(),
            action,
            obs_dim,
            learning_rate,
            normalizer: normalize_obs.then(|| ObsNormalizer::new(obs_dim, OBS_CLIP)),
        }
    }

    /// Sets the standardisation statistics to those of `obs` (row-major), when on.
    pub fn fit_normalizer(&mut self, obs: &[f32]) {
        if let Some(n) = &mut self.normalizer {
            *n = ObsNormalizer::new(self.obs_dim, OBS_CLIP);
            n.stats.update(obs);
        }
    }

    fn input(&self, obs: &[f32], device: &Device) -> Tensor<2> {
        let rows = obs.len() / self.obs_dim;
        let values = match &self.normalizer {
            Some(n) => {
                let mut out = vec![0.0; obs.len()];
                n.normalize(obs, &mut out);
                out
            }
            None => obs.to_vec(),
        };
        Tensor::<2>::from_data(TensorData::new(values, [rows, self.obs_dim]), device)
    }

    fn targets(&self, actions: &[f32], device: &Device) -> Actions {
        match self.action {
            ActionKind::Discrete(_) => {
                let idx: Vec<i64> = actions.iter().map(|&a| a as i64).collect();
                let n = idx.len();
                Actions::Discrete(Tensor::<1, Int>::from_data(
                    TensorData::new(idx, [n]),
                    device,
                ))
            }
            ActionKind::Continuous(k) => {
                let n = actions.len() / k;
                Actions::Continuous(Tensor::<2>::from_data(
                    TensorData::new(actions.to_vec(), [n, k]),
                    device,
                ))
            }
        }
    }

    /// −mean log π(a|s) of `model` over the rows.
    fn nll(&self, model: &ActorCritic, obs: &[f32], actions: &[f32], device: &Device) -> Tensor<1> {
        let out = model.actor(self.input(obs, device));
        let (log_prob, _) = model.log_prob_entropy(out, &self.targets(actions, device));
        log_prob.mean().neg()
    }

    /// One Adam step on a minibatch; returns its loss (before the step).
    pub fn step(&mut self, obs: &[f32], actions: &[f32]) -> f64 {
        let loss = self.nll(&self.model, obs, actions, &self.device);
        let value = f64::from(to_vec(loss.clone().detach())[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let model = self.model.clone();
        self.model = self.optimizer.step(self.learning_rate, model, grads);
        value
    }

    /// `steps` minibatch steps of `batch_size` rows drawn uniformly (with replacement) from
    /// `rows` of `labels`; returns the mean minibatch loss.
    pub fn fit(
        &mut self,
        labels: &Labels,
        rows: &[usize],
        steps: usize,
        batch_size: usize,
        rng: &mut Rng,
    ) -> f64 {
        let mut total = 0.0;
        let mut idx = vec![0usize; batch_size];
        for _ in 0..steps {
            for i in idx.iter_mut() {
                *i = rows[rng.random_range(0..rows.len())];
            }
            let (obs, actions) = labels.gather(&idx);
            total += self.step(&obs, &actions);
        }
        total / steps.max(1) as f64
    }

    /// −mean log π(a|s) over `rows` of `labels` without training (NaN for no rows).
    pub fn loss(&self, labels: &Labels, rows: &[usize]) -> f64 {
        if rows.is_empty() {
            return f64::NAN;
        }
        let (obs, actions) = labels.gather(rows);
        let model = self.model.valid();
        f64::from(to_vec(self.nll(&model, &obs, &actions, &self.plain))[0])
    }

    /// The deterministic policy of the current network (argmax, or the clipped mean).
    pub fn policy(&self, spec: &EnvSpec) -> DeterministicPolicy {
        let acting = Acting::new(&self.model, self.action, self.obs_dim, &self.plain);
        DeterministicPolicy::new(acting, self.normalizer.clone(), spec)
    }

    /// Saves the network and the statistics as an on-policy run's artifacts.
    pub fn save(&self, session: &mut Session) -> anyhow::Result<()> {
        saved::save(session, &self.model, self.normalizer.as_ref())
    }
}
