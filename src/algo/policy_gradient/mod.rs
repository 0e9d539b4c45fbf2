//! Policy-gradient methods on Burn networks: REINFORCE, A2C, A3C, DPPO, ACER, PPO, NPG, TRPO and Q-Prop. They share the rollout
//! collector (vectorised envs, normalisation, truncation bootstrap) and the saved policy.

pub mod a2c;
pub mod a2c_update;
pub mod a3c;
pub mod acer;
pub mod acer_replay;
pub mod acer_update;
pub mod checkpoint;
pub mod dppo;
pub mod line_search;
pub mod natural_gradient;
pub mod ppo;
pub mod ppo_host;
pub mod ppo_rnd;
pub mod ppo_update;
pub mod qprop;
pub mod qprop_update;
pub mod reinforce;
pub mod rollout;
pub mod saved;
pub mod trpo;
pub mod trpo_update;

use std::path::Path;

use crate::algo::flops::{Pass, UpdateWork};
use crate::algo::footprint::{Footprint, RunShape, TRAINED_PARAMETER_BYTES, mlp_parameters};
use crate::buffer::RolloutBuffer;
use crate::env::{Env, Space};
use crate::nn::Backend;
use crate::nn::PolicyConfig;
use crate::session::Policy;

/// 1 − Var[R − V] / Var[R]: how much of the return variance the value function explains
/// (1 perfect, 0 no better than a constant; NaN when the returns do not vary).
pub fn explained_variance(values: &[f32], returns: &[f32]) -> f64 {
    let n = returns.len() as f64;
    let var = |x: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = x.collect();
        let mean = v.iter().sum::<f64>() / n;
        v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n
    };
    let var_returns = var(&mut returns.iter().map(|&r| r as f64));
    if var_returns == 0.0 {
        return f64::NAN;
    }
    let var_residual = var(&mut returns.iter().zip(values).map(|(&r, &v)| (r - v) as f64));
    1.0 - var_residual / var_returns
}

/// One seed's rollout of `n_steps × num_envs` transitions and its policy and value nets in
/// training (each `policy.net_arch` deep; a Gaussian head's log σ counted with its mean).
pub fn footprint(policy: &PolicyConfig, n_steps: usize, run: &RunShape) -> Footprint {
    let (obs, act) = (run.obs_dim(), run.act_dim());
    let rollout = RolloutBuffer::bytes(n_steps, run.num_envs, obs, act);
    let nets = mlp_parameters(obs, &policy.net_arch, 2 * run.action_outputs())
        + mlp_parameters(obs, &policy.net_arch, 1);
    Footprint::default()
        .with("rollout", "algo.n_steps × env.num_envs", rollout)
        .with(
            "networks",
            "algo.policy.net_arch",
            nets.saturating_mul(TRAINED_PARAMETER_BYTES),
        )
}

/// `updates` minibatch steps of `batch` rows through the policy and value nets (separate, or
/// one trunk with a head each). A Gaussian's log σ is a free parameter, not a layer.
pub fn update_work(
    policy: &PolicyConfig,
    run: &RunShape,
    updates: u64,
    batch: usize,
) -> UpdateWork {
    let (obs, head) = (run.obs_dim(), run.action_outputs());
    let work = UpdateWork::new(updates);
    let hidden = &policy.net_arch;
    match hidden.split_last() {
        Some((&last, trunk)) if policy.share_features_extractor => work
            .mlp(Pass::Train, 1.0, batch, (obs, trunk, last))
            // The heads are trained and pass their gradient on to the trunk: three products.
            .mlp(Pass::Forward, 3.0, batch, (last, &[], head))
            .mlp(Pass::Forward, 3.0, batch, (last, &[], 1)),
        _ => {
            let (policy_net, value_net) = ((obs, &hidden[..], head), (obs, &hidden[..], 1));
            work.mlp(Pass::Train, 1.0, batch, policy_net)
                .mlp(Pass::Train, 1.0, batch, value_net)
        }
    }
}

/// Neural policies read a flat vector of floats: the env needs a `Box` observation space.
pub fn check_env(name: &str, env: &dyn Env) -> Result<(), (&'static str, String)> {
    let spec = env.spec();
    if let Space::Discrete(_) = spec.observation_space {
        return Err((
            "env.id",
            format!(
                "{name} needs vector observations (CartPole-v1, Pendulum-v1, Acrobot-v1, \
                 MountainCar-v0, ...); {} has {} observations (use a tabular method)",
                spec.id,
                spec.observation_space.describe()
            ),
        ));
    }
    Ok(())
}

/// The policy network an on-policy run saved in `run_dir`, acting deterministically on
/// `backend` (observations normalised with the saved statistics when `normalize_obs`).
pub fn saved_policy(
    policy: &PolicyConfig,
    normalize_obs: bool,
    backend: Backend,
    env: &dyn Env,
    run_dir: &Path,
) -> anyhow::Result<Box<dyn Policy>> {
    Ok(Box::new(saved::load(
        policy,
        normalize_obs,
        backend,
        env,
        run_dir,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explained_variance_closed_forms() {
        let returns = [1.0f32, 2.0, 3.0, 4.0];
        assert_eq!(explained_variance(&returns, &returns), 1.0);
        assert_eq!(explained_variance(&[2.5; 4], &returns), 0.0);
        // Residual [1, 1, 1, 1] has no variance either: V off by a constant still explains all.
        assert_eq!(explained_variance(&[0.0, 1.0, 2.0, 3.0], &returns), 1.0);
        assert!(explained_variance(&[0.0; 4], &[1.0; 4]).is_nan());
    }
}
