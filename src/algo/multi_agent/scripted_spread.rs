//! `scripted_spread`: simple_spread's scripted reference. Every step, the agents are assigned
//! to the landmarks by an optimal assignment (the permutation minimising the summed
//! agent–landmark distances, solved exactly by dynamic programming over subsets of landmarks),
//! and each agent takes the move whose stopping point is nearest its landmark: under MPE's
//! dynamics (v' = (1 − d) v + a Δt, p' = p + v' Δt, damping d = 0.25) an agent that then coasts
//! comes to rest at p + v' Δt / d, so the move minimising |p + v' Δt / d − landmark| heads for
//! the landmark and brakes in time. It reads only the agents' own observations
//! (`vel, pos, landmark − pos, ...`), as decentralised agents with a shared plan would.

use std::path::Path;

use super::check_reference_envs;
use crate::algo::{Algorithm, Kind};
use crate::env::multi::MultiAgentSpec;
use crate::env::{Action, Space};
use crate::hyper::hyperparameters;
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{MultiPolicy, Session};

/// `World.dt`, `World.damping` and the default force sensitivity of MPE (mass 1).
const DT: f64 = 0.1;
const DAMPING: f64 = 0.25;
const SENSITIVITY: f64 = 5.0;
/// The most agents the exact assignment takes (its table has 2^N entries).
const MAX_AGENTS: usize = 16;
/// MPE's discrete moves: no-op, −x, +x, −y, +y.
const MOVES: [[f64; 2]; 5] = [[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]];

hyperparameters! {
    /// `scripted_spread` has no hyperparameters.
    pub struct ScriptedSpreadConfig {}
}

impl Algorithm for ScriptedSpreadConfig {
    const NAME: &'static str = "scripted_spread";
    const SUMMARY: &'static str = "multi-agent reference on simple_spread: each agent goes to its landmark by an optimal assignment (evaluated once)";
    const KIND: Kind = Kind::Planner;
    const MULTI_AGENT: bool = true;

    fn check_multi_env(
        &self,
        env: &MultiAgentSpec,
        num_envs: usize,
    ) -> Result<(), (&'static str, String)> {
        if env.id != "simple_spread_v3" {
            return Err((
                "env.id",
                format!(
                    "{} scripts simple_spread_v3's agents, not {}'s",
                    Self::NAME,
                    env.id
                ),
            ));
        }
        if env.num_agents() > MAX_AGENTS {
            return Err((
                "env.N",
                format!(
                    "{} solves the assignment over subsets of landmarks: N must be at most \
                     {MAX_AGENTS}, got {}",
                    Self::NAME,
                    env.num_agents()
                ),
            ));
        }
        check_reference_envs(Self::NAME, num_envs)
    }

    fn train(&self, session: &mut Session) -> anyhow::Result<()> {
        let env = session.make_multi_vec_env()?;
        let mut policy = ScriptedSpread::new(env.spec());
        session.set_diagnostics(&[])?;
        session.evaluate_multi(0, &mut policy, &[])
    }

    fn multi_policy(
        &self,
        env: &MultiAgentSpec,
        _: Rng,
        _: &Path,
        _: Backend,
    ) -> anyhow::Result<Box<dyn MultiPolicy>> {
        Ok(Box::new(ScriptedSpread::new(env)))
    }
}

/// The assignment `landmark[i]` of agent `i` minimising Σ_i cost[i][landmark[i]]: Held–Karp
/// style dynamic programming over the subsets of landmarks taken by the first agents, exact in
/// O(n² 2ⁿ).
pub fn optimal_assignment(cost: &[Vec<f64>]) -> Vec<usize> {
    let n = cost.len();
    let full = 1usize << n;
    // best[s]: the least cost of giving agents 0..|s| the landmarks in s.
    let mut best = vec![f64::INFINITY; full];
    let mut choice = vec![usize::MAX; full];
    best[0] = 0.0;
    for s in 0..full {
        if !best[s].is_finite() {
            continue;
        }
        let agent = s.count_ones() as usize;
        if agent == n {
            continue;
        }
        for (landmark, &c) in cost[agent].iter().enumerate() {
            let next = s | 1 << landmark;
            if next != s && best[s] + c < best[next] {
                best[next] = best[s] + c;
                choice[next] = landmark;
            }
        }
    }
    let mut assignment = vec![0; n];
    let mut s = full - 1;
    for agent in (0..n).rev() {
        assignment[agent] = choice[s];
        s &= !(1 << choice[s]);
    }
    assignment
}

/// The move of an agent at `pos` with velocity `vel` whose stopping point is nearest `target`.
pub fn best_move(pos: [f64; 2], vel: [f64; 2], target: [f64; 2]) -> usize {
    let coast = DT / DAMPING;
    let miss = |m: &[f64; 2]| -> f64 {
        (0..2)
            .map(|k| {
                let v = (1.0 - DAMPING) * vel[k] + m[k] * SENSITIVITY * DT;
                let stop = pos[k] + v * (DT + coast);
                (stop - target[k]).powi(2)
            })
            .sum()
    };
    (0..MOVES.len())
        .min_by(|&a, &b| miss(&MOVES[a]).total_cmp(&miss(&MOVES[b])))
        .expect("five moves")
}

/// simple_spread's scripted agents, in either action mode (a continuous action puts 1 on the
/// chosen move's component).
pub struct ScriptedSpread {
    continuous: bool,
    values: Vec<Vec<f32>>,
}

impl ScriptedSpread {
    pub fn new(env: &MultiAgentSpec) -> Self {
        let continuous = matches!(env.action_spaces[0], Space::Box { .. });
        let values = env
            .action_spaces
            .iter()
            .map(|s| vec![0.0; s.flat_dim()])
            .collect();
        Self { continuous, values }
    }
}

impl MultiPolicy for ScriptedSpread {
    fn act(&mut self, observations: &[Vec<f32>]) -> Vec<Action<'_>> {
        let n = observations.len();
        let pair = |o: &[f32], k: usize| [f64::from(o[k]), f64::from(o[k + 1])];
        let origin = pair(&observations[0], 2);
        let landmarks: Vec<[f64; 2]> = (0..n)
            .map(|j| {
                let rel = pair(&observations[0], 4 + 2 * j);
                [origin[0] + rel[0], origin[1] + rel[1]]
            })
            .collect();
        let cost: Vec<Vec<f64>> = observations
            .iter()
            .map(|o| {
                let rel = |j: usize| pair(o, 4 + 2 * j);
                (0..n).map(|j| rel(j)[0].hypot(rel(j)[1])).collect()
            })
            .collect();
        let assignment = optimal_assignment(&cost);
        let moves: Vec<usize> = observations
            .iter()
            .zip(&assignment)
            .map(|(o, &j)| best_move(pair(o, 2), pair(o, 0), landmarks[j]))
            .collect();
        if !self.continuous {
            return moves.into_iter().map(Action::Discrete).collect();
        }
        for (values, &m) in self.values.iter_mut().zip(&moves) {
            values.fill(0.0);
            values[m] = 1.0;
        }
        self.values.iter().map(|v| Action::Continuous(v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The assignment against brute force over all 24 permutations of a 4 × 4 cost matrix.
    #[test]
    fn the_assignment_is_the_cheapest_permutation() {
        let cost = vec![
            vec![4.0, 1.0, 3.0, 9.0],
            vec![2.0, 0.5, 5.0, 1.0],
            vec![3.0, 2.0, 2.0, 7.0],
            vec![0.1, 6.0, 4.0, 3.0],
        ];
        let total = |p: &[usize]| p.iter().enumerate().map(|(i, &j)| cost[i][j]).sum::<f64>();
        let mut best = f64::INFINITY;
        for a in 0..4 {
            for b in 0..4 {
                for c in 0..4 {
                    for d in 0..4 {
                        let p = [a, b, c, d];
                        let distinct = (0..4).all(|i| (0..i).all(|k| p[k] != p[i]));
                        if distinct {
                            best = best.min(total(&p));
                        }
                    }
                }
            }
        }
        let assignment = optimal_assignment(&cost);
        assert_eq!(total(&assignment), best);
        // 1 + 1 + 2 + 0.1: agents 0→1, 1→3, 2→2, 3→0.
        assert_eq!(assignment, [1, 3, 2, 0]);
    }

    /// At rest, the agent pushes towards a far target; moving fast towards a near one, it
    /// brakes (the opposite move) rather than overshoot.
    #[test]
    fn moves_head_for_the_target_and_brake() {
        assert_eq!(best_move([0.0, 0.0], [0.0, 0.0], [1.0, 0.0]), 2);
        assert_eq!(best_move([0.0, 0.0], [0.0, 0.0], [0.0, -1.0]), 3);
        // Coasting on (v' = 0.75) stops 0.375 further on, braking 0.125; the target is 0.1 away.
        assert_eq!(best_move([0.0, 0.0], [1.0, 0.0], [0.1, 0.0]), 1);
        assert_eq!(best_move([0.5, 0.5], [0.0, 0.0], [0.5, 0.5]), 0);
    }
}
