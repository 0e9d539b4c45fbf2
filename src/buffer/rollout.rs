//! The rollout buffer of on-policy methods: `n_steps × n_envs` transitions in contiguous f32
//! storage, generalised advantage estimation, and minibatches as tensors.
//!
//! Layout: transition (t, e) is row `t * n_envs + e`. `ended[t, e]` says the episode of env `e`
//! ended at step t (terminated, or truncated by the time limit), so nothing flows back across
//! it. A truncated step's bootstrap γ V(s_final) (Pardo et al. 2018) is kept apart from its
//! reward, in `truncation_bootstrap`, and added only when advantages are computed: a learner may
//! overwrite the rewards of a collected rollout (GAIL's and AIRL's discriminator rewards) with
//! the bootstrap intact.

use burn::prelude::*;

use crate::nn::{ActionKind, Actions};

/// GAE(γ, λ) (Schulman et al. 2016, eq. 16): Â_t = Σ_l (γλ)^l δ_{t+l} with
/// δ_t = r_t + γ V(s_{t+1}) (1 − ended_t) − V(s_t), computed backwards; `last_values` are
/// V(s_T) of the observations after the rollout. Returns the advantages; the value targets are
/// Â_t + V(s_t) (the λ-returns).
pub fn gae(
    rewards: &[f32],
    values: &[f32],
    ended: &[bool],
    last_values: &[f32],
    gamma: f64,
    lambda: f64,
) -> Vec<f32> {
    let n_envs = last_values.len();
    let n_steps = rewards.len() / n_envs;
    let mut advantages = vec![0.0f32; rewards.len()];
    let mut running = vec![0.0f64; n_envs];
    for t in (0..n_steps).rev() {
        for e in 0..n_envs {
            let i = t * n_envs + e;
            let next_value = if t + 1 == n_steps {
                last_values[e]
            } else {
                values[i + n_envs]
            } as f64;
            let not_ended = if ended[i] { 0.0 } else { 1.0 };
            let delta = rewards[i] as f64 + gamma * next_value * not_ended - values[i] as f64;
            running[e] = delta + gamma * lambda * not_ended * running[e];
            advantages[i] = running[e] as f32;
        }
    }
    advantages
}

/// Discounted reward-to-go G_t = Σ_l γ^l r_{t+l} within each episode (Williams 1992 with the
/// causality trick), bootstrapped with `last_values` after the rollout's last step.
pub fn discounted_returns(
    rewards: &[f32],
    ended: &[bool],
    last_values: &[f32],
    gamma: f64,
) -> Vec<f32> {
    let zeros = vec![0.0f32; rewards.len()];
    gae(rewards, &zeros, ended, last_values, gamma, 1.0)
}

/// One rollout of `n_steps` steps of `n_envs` envs.
pub struct RolloutBuffer {
    pub n_steps: usize,
    pub n_envs: usize,
    pub obs_dim: usize,
    /// f32 values per action: 1 (an index) for discrete actions.
    pub act_dim: usize,
    /// Whether actions are indices.
    pub discrete: bool,
    /// Observations as the policy saw them (normalised when normalisation is on).
    pub observations: Vec<f32>,
    pub actions: Vec<f32>,
    /// r_t as the env gave it (scaled when reward normalisation is on), or as a learner
    /// relabelled it after collection.
    pub rewards: Vec<f64>,
    /// γ V(s_final) of a step truncated by the time limit, 0 elsewhere.
    pub truncation_bootstrap: Vec<f64>,
    /// s_{t+1} as the policy sees it: the final observation of an episode that ended at t.
    pub next_observations: Vec<f32>,
    /// The episode ended at t in a terminal state (not by the time limit).
    pub terminated: Vec<bool>,
    pub ended: Vec<bool>,
    pub values: Vec<f32>,
    pub log_probs: Vec<f32>,
    pub advantages: Vec<f32>,
    pub returns: Vec<f32>,
    len: usize,
}

/// What one step of every env ends with (see [`RolloutBuffer::finish_step`]).
pub struct StepEnd<'a> {
    pub rewards: &'a [f64],
    pub truncation_bootstrap: &'a [f64],
    pub next_observations: &'a [f32],
    pub terminated: &'a [bool],
    pub ended: &'a [bool],
}

/// Tensors of one minibatch.
pub struct Minibatch {
    pub observations: Tensor<2>,
    pub actions: Actions,
    pub old_log_probs: Tensor<1>,
    pub old_values: Tensor<1>,
    pub advantages: Tensor<1>,
    pub returns: Tensor<1>,
}

impl RolloutBuffer {
    /// The bytes [`RolloutBuffer::new`] allocates: per transition the observation and the next
    /// one, the action, four f32 (value, log-probability, advantage, return), two f64 (reward,
    /// truncation bootstrap) and two flags.
    pub fn bytes(n_steps: usize, n_envs: usize, obs_dim: usize, act_dim: usize) -> u64 {
        let per_transition = 4 * (2 * obs_dim + act_dim + 4) as u64 + 16 + 2;
        (n_steps as u64)
            .saturating_mul(n_envs as u64)
            .saturating_mul(per_transition)
    }

    pub fn new(n_steps: usize, n_envs: usize, obs_dim: usize, action: ActionKind) -> Self {
        let n = n_steps * n_envs;
        let act_dim = action.stored_dim();
        Self {
            n_steps,
            n_envs,
            obs_dim,
            act_dim,
            discrete: matches!(action, ActionKind::Discrete(_)),
            observations: vec![0.0; n * obs_dim],
            actions: vec![0.0; n * act_dim],
            rewards: vec![0.0; n],
            truncation_bootstrap: vec![0.0; n],
            next_observations: vec![0.0; n * obs_dim],
            terminated: vec![false; n],
            ended: vec![false; n],
            values: vec![0.0; n],
            log_probs: vec![0.0; n],
            advantages: vec![0.0; n],
            returns: vec![0.0; n],
            len: 0,
        }
    }

    /// Transitions stored (at most `n_steps × n_envs`).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == self.n_steps * self.n_envs
    }

    /// Starts a new rollout.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Stores one step of every env: the observations the policy acted on, its actions, their
    /// log-probabilities and values; the rest is filled in by [`Self::finish_step`].
    pub fn push(
        &mut self,
        observations: &[f32],
        actions: &[f32],
        log_probs: &[f32],
        values: &[f32],
    ) {
        let (n, i) = (self.n_envs, self.len);
        self.observations[i * self.obs_dim..(i + n) * self.obs_dim].copy_from_slice(observations);
        self.actions[i * self.act_dim..(i + n) * self.act_dim].copy_from_slice(actions);
        self.log_probs[i..i + n].copy_from_slice(log_probs);
        self.values[i..i + n].copy_from_slice(values);
        self.len += n;
    }

    /// The rewards, bootstraps, next observations and episode ends of the step last pushed.
    pub fn finish_step(&mut self, end: StepEnd) {
        let (n, start) = (self.n_envs, self.len - self.n_envs);
        let rows = start..start + n;
        self.rewards[rows.clone()].copy_from_slice(&end.rewards[..n]);
        self.truncation_bootstrap[rows.clone()].copy_from_slice(&end.truncation_bootstrap[..n]);
        self.terminated[rows.clone()].copy_from_slice(&end.terminated[..n]);
        self.ended[rows].copy_from_slice(&end.ended[..n]);
        let d = self.obs_dim;
        self.next_observations[start * d..(start + n) * d]
            .copy_from_slice(&end.next_observations[..n * d]);
    }

    /// [`Self::finish_step`] for unit tests: these rewards, no truncation (an end is a
    /// termination), next observations all zero.
    #[cfg(test)]
    pub fn finish_test_step(&mut self, rewards: &[f64], ended: impl Fn(usize) -> bool) {
        let n = self.n_envs;
        let ended: Vec<bool> = (0..n).map(ended).collect();
        self.finish_step(StepEnd {
            rewards,
            truncation_bootstrap: &vec![0.0; n],
            next_observations: &vec![0.0; n * self.obs_dim],
            terminated: &ended,
            ended: &ended,
        });
    }

    /// r_t + γ V(s_final) where the time limit truncated step t, else r_t: the rewards GAE and
    /// reward-to-go discount, in f32.
    pub fn bootstrapped_rewards(&self) -> Vec<f32> {
        self.rewards
            .iter()
            .zip(&self.truncation_bootstrap)
            .map(|(r, b)| (r + b) as f32)
            .collect()
    }

    /// Fills advantages (GAE) and returns (λ-returns) from the values of the next observations.
    pub fn compute_advantages(&mut self, last_values: &[f32], gamma: f64, lambda: f64) {
        self.advantages = gae(
            &self.bootstrapped_rewards(),
            &self.values,
            &self.ended,
            last_values,
            gamma,
            lambda,
        );
        for ((ret, adv), v) in self
            .returns
            .iter_mut()
            .zip(&self.advantages)
            .zip(&self.values)
        {
            *ret = adv + v;
        }
    }

    /// The transitions `indices` gathered on the host; advantages standardised within the
    /// minibatch when `normalize_advantage` (as SB3 and CleanRL do).
    pub fn host_minibatch(&self, indices: &[usize], normalize_advantage: bool) -> HostMinibatch {
        let b = indices.len();
        let rows = |src: &[f32], width: usize| -> Vec<f32> {
            let mut out = Vec::with_capacity(b * width);
            for &i in indices {
                out.extend_from_slice(&src[i * width..(i + 1) * width]);
            }
            out
        };
        let column = |src: &[f32]| -> Vec<f32> { indices.iter().map(|&i| src[i]).collect() };
        let mut advantages = column(&self.advantages);
        if normalize_advantage && b > 1 {
            let mean = advantages.iter().map(|&a| a as f64).sum::<f64>() / b as f64;
            // Sample standard deviation (PyTorch's `std()`), plus 1e-8.
            let var = advantages
                .iter()
                .map(|&a| (a as f64 - mean).powi(2))
                .sum::<f64>()
                / (b - 1) as f64;
            let std = var.sqrt() + 1e-8;
            advantages
                .iter_mut()
                .for_each(|a| *a = ((*a as f64 - mean) / std) as f32);
        }
        HostMinibatch {
            obs_dim: self.obs_dim,
            act_dim: self.act_dim,
            discrete: self.discrete,
            observations: rows(&self.observations, self.obs_dim),
            actions: rows(&self.actions, self.act_dim),
            old_log_probs: column(&self.log_probs),
            old_values: column(&self.values),
            advantages,
            returns: column(&self.returns),
        }
    }

    /// The transitions `indices` as tensors on `device` ([`RolloutBuffer::host_minibatch`]).
    pub fn minibatch(
        &self,
        indices: &[usize],
        normalize_advantage: bool,
        device: &Device,
    ) -> Minibatch {
        self.host_minibatch(indices, normalize_advantage)
            .to_tensors(device)
    }
}

/// A minibatch on the host: row-major observations and actions (an index per row, or
/// `act_dim` values), one value per row for the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct HostMinibatch {
    pub obs_dim: usize,
    pub act_dim: usize,
    pub discrete: bool,
    pub observations: Vec<f32>,
    pub actions: Vec<f32>,
    pub old_log_probs: Vec<f32>,
    pub old_values: Vec<f32>,
    pub advantages: Vec<f32>,
    pub returns: Vec<f32>,
}

impl HostMinibatch {
    /// The number of transitions.
    pub fn len(&self) -> usize {
        self.returns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.returns.is_empty()
    }

    /// The same minibatch as tensors on `device`.
    pub fn to_tensors(self, device: &Device) -> Minibatch {
        let b = self.len();
        let vector = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [b]), device);
        let actions = if self.discrete {
            let idx: Vec<i64> = self.actions.iter().map(|&a| a as i64).collect();
            Actions::Discrete(Tensor::<1, Int>::from_data(
                TensorData::new(idx, [b]),
                device,
            ))
        } else {
            Actions::Continuous(Tensor::<2>::from_data(
                TensorData::new(self.actions, [b, self.act_dim]),
                device,
            ))
        };
        Minibatch {
            observations: Tensor::<2>::from_data(
                TensorData::new(self.observations, [b, self.obs_dim]),
                device,
            ),
            actions,
            old_log_probs: vector(self.old_log_probs),
            old_values: vector(self.old_values),
            advantages: vector(self.advantages),
            returns: vector(self.returns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((*x as f64 - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    /// λ = 0: the advantage is the one-step TD error.
    #[test]
    fn gae_with_lambda_zero_is_the_td_error() {
        let (r, v) = ([1.0f32, 2.0, 3.0], [0.5f32, 1.0, 1.5]);
        let adv = gae(&r, &v, &[false, false, false], &[2.0], 0.9, 0.0);
        close(
            &adv,
            &[
                1.0 + 0.9 * 1.0 - 0.5,
                2.0 + 0.9 * 1.5 - 1.0,
                3.0 + 0.9 * 2.0 - 1.5,
            ],
        );
    }

    /// λ = 1: Â_t + V(s_t) is the discounted Monte Carlo return, bootstrapped at the end.
    #[test]
    fn gae_with_lambda_one_is_the_monte_carlo_advantage() {
        let (r, v) = ([1.0f32, 2.0, 3.0], [0.5f32, 1.0, 1.5]);
        let g = 0.9f64;
        let adv = gae(&r, &v, &[false, false, false], &[2.0], g, 1.0);
        let g2 = 3.0 + g * 2.0;
        let g1 = 2.0 + g * g2;
        let g0 = 1.0 + g * g1;
        close(&adv, &[g0 - 0.5, g1 - 1.0, g2 - 1.5]);
    }

    /// An episode end stops both bootstrapping and the backward recursion; envs are interleaved.
    #[test]
    fn gae_respects_episode_ends_and_env_layout() {
        // Two envs, three steps; env 0's episode ends at t = 1.
        let r = [1.0f32, 10.0, 1.0, 10.0, 1.0, 10.0];
        let v = [0.0f32; 6];
        let ended = [false, false, true, false, false, false];
        let (g, l) = (0.5, 0.8);
        let adv = gae(&r, &v, &ended, &[4.0, 8.0], g, l);
        // env 0: t=2 starts a new episode: δ2 = 1 + 0.5·4 = 3; t=1 ended: δ1 = 1; t=0: δ0 = 1.
        let e0 = [1.0 + g * l * 1.0, 1.0, 3.0];
        // env 1: δ = 10 everywhere but the last, 10 + 0.5·8 = 14.
        let a2 = 14.0;
        let a1 = 10.0 + g * l * a2;
        let a0 = 10.0 + g * l * a1;
        close(&adv, &[e0[0], a0, e0[1], a1, e0[2], a2]);
    }

    #[test]
    fn reward_to_go_is_causal_and_resets_at_episode_ends() {
        let g = discounted_returns(
            &[1.0, 1.0, 1.0, 1.0],
            &[false, true, false, false],
            &[0.0],
            0.5,
        );
        close(&g, &[1.5, 1.0, 1.5, 1.0]);
    }

    /// The hook: a truncated step's bootstrap lives apart from its reward, so GAE on a rollout
    /// whose rewards were overwritten after collection equals GAE on the new rewards with the
    /// bootstrap folded in, r'_t + γ V(s_final), bit for bit; and before any relabelling it is
    /// the folded rollout's.
    #[test]
    fn relabelled_rewards_keep_the_truncation_bootstrap() {
        let (g, l) = (0.9, 0.95);
        // One env, three steps, truncated by the time limit at t = 1 with γ V(s_final) = 0.9 · 5.
        let mut buf = RolloutBuffer::new(3, 1, 1, ActionKind::Discrete(2));
        let bootstrap = [0.0, g * 5.0, 0.0];
        for t in 0..3 {
            buf.push(&[t as f32], &[0.0], &[0.0], &[0.5]);
            buf.finish_step(StepEnd {
                rewards: &[1.0],
                truncation_bootstrap: &bootstrap[t..t + 1],
                next_observations: &[t as f32 + 1.0],
                terminated: &[false],
                ended: &[t == 1],
            });
        }
        let ended = [false, true, false];
        let folded = |r: [f64; 3]| -> Vec<f32> {
            let r: Vec<f32> = r
                .iter()
                .zip(bootstrap)
                .map(|(r, b)| (r + b) as f32)
                .collect();
            gae(&r, &[0.5; 3], &ended, &[2.0], g, l)
        };
        buf.compute_advantages(&[2.0], g, l);
        assert_eq!(buf.advantages, folded([1.0; 3]));
        let relabelled = [0.25, -1.5, 3.0];
        buf.rewards.copy_from_slice(&relabelled);
        buf.compute_advantages(&[2.0], g, l);
        assert_eq!(buf.advantages, folded(relabelled));
        // The truncated step's advantage is r' + γ V(s_final) − V(s): no γ V(s_2) across the end.
        close(&buf.advantages[1..2], &[-1.5 + g * 5.0 - 0.5]);
    }

    #[test]
    fn minibatches_gather_rows_and_standardise_advantages() {
        let mut buf = RolloutBuffer::new(2, 2, 2, ActionKind::Discrete(2));
        buf.push(
            &[0.0, 1.0, 2.0, 3.0],
            &[1.0, 0.0],
            &[-0.1, -0.2],
            &[0.5, 0.6],
        );
        buf.finish_test_step(&[1.0, 2.0], |_| false);
        buf.push(
            &[4.0, 5.0, 6.0, 7.0],
            &[0.0, 1.0],
            &[-0.3, -0.4],
            &[0.7, 0.8],
        );
        buf.finish_test_step(&[3.0, 4.0], |_| true);
        assert!(buf.is_full());
        buf.compute_advantages(&[0.0, 0.0], 0.9, 0.95);
        let mb = buf.minibatch(&[3, 0], true, &Device::flex());
        let obs = mb.observations.into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(obs, vec![6.0, 7.0, 0.0, 1.0]);
        let Actions::Discrete(actions) = mb.actions else {
            panic!("discrete actions")
        };
        let actions: Vec<i64> = actions.into_data().iter::<i64>().collect();
        assert_eq!(actions, vec![1, 1]);
        let adv = mb.advantages.into_data().try_into_vec::<f32>().unwrap();
        // Two values standardised with the sample std: ±1/√2.
        assert!(
            (adv[0].abs() - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-4,
            "{adv:?}"
        );
        assert!((adv[0] + adv[1]).abs() < 1e-5);
    }
}
