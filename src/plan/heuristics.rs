//! Hand-made policies of the classic-control envs, used as MCTS default (rollout) policies:
//! cheap rules that act far better than chance, so leaf values say more (Browne et al. 2012,
//! §3.3 on domain knowledge in the default policy). They read the env's internal state.

/// A rule mapping an env's state (`Env::state`) to a discrete action.
pub type Heuristic = fn(&[f64]) -> usize;

/// The heuristic of env `id`, if it has one.
pub fn for_env(id: &str) -> Option<Heuristic> {
    match id {
        "CartPole-v1" => Some(cartpole),
        "Acrobot-v1" => Some(acrobot),
        "MountainCar-v0" => Some(mountain_car),
        _ => None,
    }
}

/// Ids with a heuristic (for error messages).
pub const ENVS: &[&str] = &["CartPole-v1", "Acrobot-v1", "MountainCar-v0"];

/// Push the cart towards where the pole is falling: right when θ + θ̇/2 > 0.
fn cartpole(s: &[f64]) -> usize {
    usize::from(s[2] + 0.5 * s[3] > 0.0)
}

/// Pump energy by driving the second joint against the first link's swing: torque +1
/// (action 2) when θ̇1 < 0, else −1 (action 0). (Found by trying the sign rules on θ̇1, θ̇2 and
/// their sum: this one swings up in about 80 steps; torque along θ̇1 never does.)
fn acrobot(s: &[f64]) -> usize {
    if s[2] < 0.0 { 2 } else { 0 }
}

/// Push the car the way it is moving (action 2 right, 0 left), building momentum.
fn mountain_car(s: &[f64]) -> usize {
    if s[1] >= 0.0 { 2 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Env, EnvOptions, TimeLimit, make_env};

    /// Mean return of `episodes` episodes of the env's heuristic.
    fn heuristic_return(id: &str, episodes: u64) -> f64 {
        let env = make_env(id, &EnvOptions::default()).unwrap();
        let limit = env.spec().max_episode_steps;
        let mut env = TimeLimit::new(env, limit);
        let policy = for_env(id).unwrap();
        let mut obs = vec![0.0; env.spec().observation_space.flat_dim()];
        let mut total = 0.0;
        for seed in 0..episodes {
            env.reset(Some(seed), &mut obs);
            loop {
                let step = env.step(Action::Discrete(policy(&env.state())), &mut obs);
                total += step.reward;
                if step.terminated || step.truncated {
                    break;
                }
            }
        }
        total / episodes as f64
    }

    #[test]
    fn heuristics_beat_chance_by_far() {
        // Uniformly random play scores about 22 (CartPole), −500 (Acrobot), −200 (MountainCar).
        assert!(heuristic_return("CartPole-v1", 10) > 150.0);
        assert!(heuristic_return("Acrobot-v1", 10) > -200.0);
        assert!(heuristic_return("MountainCar-v0", 10) > -200.0);
        assert!(for_env("Taxi-v3").is_none());
    }
}
