//! Off-policy actor-critic methods for continuous actions on Burn networks: DDPG and TD3
//! (deterministic actors), SAC and the course notes' off-policy actor-critic (tanh-squashed
//! Gaussians). They share the replay collector, the action box scaling, the exploration noise
//! and the saved actor.

pub mod collect;
pub mod noise;
pub mod offpolicy_ac;
pub mod offpolicy_ac_update;
pub mod sac;
pub mod sac_host;
pub mod sac_update;
pub mod saved;
pub mod td3;
pub mod td3_host;
pub mod td3_update;

use crate::algo::footprint::{RunShape, mlp_parameters};
use crate::env::{Env, Space};
use crate::hyper::{Checker, hyperparameters};
use crate::nn::Activation;

hyperparameters! {
    /// `[algo.policy]` of the off-policy actor-critics (SB3's `policy_kwargs`): the same hidden
    /// layers for the actor and each critic. These defaults are SAC's; DDPG and TD3 embed it
    /// with 400 × 300.
    pub struct ActorCriticNets {
        /// hidden layer sizes of the actor and each critic
        net_arch: Vec<usize> = vec![256, 256], all_nonzero;
        /// "relu" or "tanh"
        activation: Activation = Activation::Relu;
    }
    check: Self::check_depth;
}

impl ActorCriticNets {
    fn check_depth(&self, c: &mut Checker) {
        c.require("net_arch", !self.net_arch.is_empty(), || {
            "needs at least one hidden layer".into()
        });
    }

    /// Parameters of the actor (with `heads` outputs per action dimension: 2 for a Gaussian's
    /// mean and log σ) and of one critic Q(s, a).
    pub fn parameters(&self, run: &RunShape, heads: usize) -> (u64, u64) {
        let (obs, act) = (run.obs_dim(), run.act_dim());
        (
            mlp_parameters(obs, &self.net_arch, heads * act),
            mlp_parameters(obs + act, &self.net_arch, 1),
        )
    }
}

/// The affine map between the actors' box [−1, 1]^d and the env's bounds [low, high]
/// (Stable-Baselines3's `unscale_action`).
#[derive(Clone, Debug)]
pub struct ActionBox {
    low: Vec<f32>,
    high: Vec<f32>,
}

impl ActionBox {
    /// The box of a bounded continuous action space.
    pub fn of(space: &Space) -> Option<Self> {
        match space {
            Space::Box { low, high } => Some(Self {
                low: low.clone(),
                high: high.clone(),
            }),
            Space::Discrete(_) => None,
        }
    }

    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// a_env = low + (a + 1)(high − low)/2 for each row of `scaled` (clipped to [−1, 1] first).
    pub fn to_env(&self, scaled: &[f32], out: &mut [f32]) {
        let d = self.dim();
        for (row, out) in scaled.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
            for (j, (&a, o)) in row.iter().zip(out.iter_mut()).enumerate() {
                let a = a.clamp(-1.0, 1.0);
                *o = self.low[j] + (a + 1.0) * 0.5 * (self.high[j] - self.low[j]);
            }
        }
    }
}

/// Vector observations and bounded continuous actions.
pub fn check_env(name: &str, env: &dyn Env) -> Result<(), (&'static str, String)> {
    crate::algo::policy_gradient::check_env(name, env)?;
    let spec = env.spec();
    match &spec.action_space {
        Space::Box { low, high } if low.iter().chain(high).all(|x| x.is_finite()) => Ok(()),
        space => Err((
            "env.id",
            format!(
                "{name} acts in a bounded continuous action box (Pendulum-v1, \
                 MountainCarContinuous-v0); {} has actions {} (use dqn or ppo)",
                spec.id,
                space.describe()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_maps_affinely_and_clips() {
        let b = ActionBox::of(&Space::Box {
            low: vec![-2.0, 0.0],
            high: vec![2.0, 10.0],
        })
        .unwrap();
        let mut out = [0.0; 4];
        b.to_env(&[-1.0, 0.0, 0.5, 3.0], &mut out);
        assert_eq!(out, [-2.0, 5.0, 1.0, 10.0]);
    }
}
