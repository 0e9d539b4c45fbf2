//! n-step transitions for replay (Sutton 1988; Hessel et al. 2018): the k-step return
//! R = Σ_{j<k} γ^j r_{t+j} with next observation s_{t+k} and bootstrap discount γ^k, where
//! k = n, or fewer when the episode ends first (terminated: no bootstrap; truncated: bootstrap
//! from the final observation). With n = 1 these are the plain one-step transitions.
//!
//! Each env keeps its last n − 1 steps in a fixed ring; nothing is allocated per step.

use serde::{Deserialize, Serialize};

use super::replay::Transition;

/// The steps of one env not yet complete as n-step transitions.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Pending {
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f64>,
    /// Ring position of the oldest step.
    start: usize,
    len: usize,
}

/// Turns each env's stream of one-step transitions into n-step ones.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NStep {
    n: usize,
    gamma: f64,
    obs_dim: usize,
    act_dim: usize,
    envs: Vec<Pending>,
}

impl NStep {
    pub fn new(n: usize, gamma: f64, n_envs: usize, obs_dim: usize, act_dim: usize) -> Self {
        assert!(n >= 1, "n-step returns need n >= 1");
        let pending = Pending {
            obs: vec![0.0; n * obs_dim],
            actions: vec![0.0; n * act_dim],
            rewards: vec![0.0; n],
            start: 0,
            len: 0,
        };
        Self {
            n,
            gamma,
            obs_dim,
            act_dim,
            envs: vec![pending; n_envs],
        }
    }

    /// Adds the step (s, a, r, s') of env `env` (s' the final observation when the episode
    /// ended) and hands every transition it completes to `emit`, oldest first.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        env: usize,
        obs: &[f32],
        action: &[f32],
        reward: f64,
        next_obs: &[f32],
        terminated: bool,
        truncated: bool,
        mut emit: impl FnMut(&Transition),
    ) {
        let (n, o, a, gamma) = (self.n, self.obs_dim, self.act_dim, self.gamma);
        let p = &mut self.envs[env];
        let slot = (p.start + p.len) % n;
        p.obs[slot * o..(slot + 1) * o].copy_from_slice(obs);
        p.actions[slot * a..(slot + 1) * a].copy_from_slice(action);
        p.rewards[slot] = reward;
        p.len += 1;

        // Emits the pending step `i` (0 = oldest) with the rewards of the steps after it.
        let emit_from = |p: &Pending, i: usize, emit: &mut dyn FnMut(&Transition), ended| {
            let k = p.len - i;
            let reward = (0..k)
                .rev()
                .fold(0.0, |acc, j| p.rewards[(p.start + i + j) % n] + gamma * acc);
            let slot = (p.start + i) % n;
            emit(&Transition {
                obs: &p.obs[slot * o..(slot + 1) * o],
                action: &p.actions[slot * a..(slot + 1) * a],
                reward: reward as f32,
                next_obs,
                terminated: ended && terminated,
                truncated: ended && truncated,
                discount: gamma.powi(k as i32) as f32,
            });
        };

        if terminated || truncated {
            for i in 0..p.len {
                emit_from(p, i, &mut emit, true);
            }
            p.start = 0;
            p.len = 0;
        } else if p.len == n {
            emit_from(p, 0, &mut emit, false);
            p.start = (p.start + 1) % n;
            p.len -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (obs[0], reward, next_obs[0], terminated, truncated, discount) of each emitted transition.
    type Row = (f32, f32, f32, bool, bool, f32);

    fn run(n: usize, gamma: f64, steps: &[(f64, bool, bool)]) -> Vec<Row> {
        let mut nstep = NStep::new(n, gamma, 1, 1, 1);
        let mut out = Vec::new();
        for (t, &(r, term, trunc)) in steps.iter().enumerate() {
            let (s, s2) = ([t as f32], [t as f32 + 1.0]);
            nstep.push(0, &s, &[0.0], r, &s2, term, trunc, |x| {
                out.push((
                    x.obs[0],
                    x.reward,
                    x.next_obs[0],
                    x.terminated,
                    x.truncated,
                    x.discount,
                ))
            });
        }
        out
    }

    #[test]
    fn one_step_passes_transitions_through() {
        let out = run(1, 0.9, &[(1.0, false, false), (2.0, true, false)]);
        assert_eq!(
            out,
            vec![
                (0.0, 1.0, 1.0, false, false, 0.9),
                (1.0, 2.0, 2.0, true, false, 0.9)
            ]
        );
    }

    /// n = 3, γ = 0.5: R_t = r_t + ½ r_{t+1} + ¼ r_{t+2}, discount ⅛, next s_{t+3}; at a
    /// termination the pending steps flush with shorter returns and no bootstrap.
    #[test]
    fn three_step_returns_stop_at_episode_ends() {
        let steps = [
            (1.0, false, false),
            (2.0, false, false),
            (4.0, false, false),
            (8.0, false, false),
            (16.0, true, false),
            (1.0, false, false),
        ];
        let out = run(3, 0.5, &steps);
        assert_eq!(
            out,
            vec![
                (0.0, 1.0 + 1.0 + 1.0, 3.0, false, false, 0.125),
                (1.0, 2.0 + 2.0 + 2.0, 4.0, false, false, 0.125),
                (2.0, 4.0 + 4.0 + 4.0, 5.0, true, false, 0.125),
                (3.0, 8.0 + 8.0, 5.0, true, false, 0.25),
                (4.0, 16.0, 5.0, true, false, 0.5),
            ],
            "the step after the termination starts a new episode and stays pending"
        );
    }

    /// A truncation flushes like a termination but keeps the bootstrap (terminated stays false).
    #[test]
    fn truncation_flushes_with_bootstrap() {
        let out = run(4, 1.0, &[(1.0, false, false), (1.0, false, true)]);
        assert_eq!(
            out,
            vec![
                (0.0, 2.0, 2.0, false, true, 1.0),
                (1.0, 1.0, 2.0, false, true, 1.0)
            ]
        );
    }

    /// Envs keep separate rings.
    #[test]
    fn envs_are_independent() {
        let mut nstep = NStep::new(2, 1.0, 2, 1, 1);
        let mut out = Vec::new();
        for t in 0..2 {
            for env in 0..2 {
                let r = (env * 10 + t) as f64;
                nstep.push(env, &[r as f32], &[0.0], r, &[0.0], false, false, |x| {
                    out.push(x.reward)
                });
            }
        }
        assert_eq!(out, vec![1.0, 21.0]);
    }
}
