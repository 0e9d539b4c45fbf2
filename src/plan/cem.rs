//! The cross-entropy method as model-predictive control (Rubinstein 1999; CS285 lecture 10;
//! Chua et al. 2018, PETS): sample N action sequences from p(A), score J(A_i) = Σ_t γ^t r_t on
//! a [`Dynamics`] model (clones of the env, or a learned model), keep the K elites, refit p(A) to them, repeat I times; execute the first
//! action of the refit p(A) and replan at the next step.
//!
//! p(A) factorises over the horizon: a diagonal Gaussian N(μ_t, σ_t²) per step for continuous
//! actions (samples clipped to the action bounds), a categorical p_t per step for discrete ones.
//! Refits are smoothed with α, the weight of the *old* parameters (α = 0: no smoothing):
//! μ ← α μ + (1−α) μ_elite, σ ← α σ + (1−α) σ_elite, p ← α p + (1−α) p_elite.
//! Warm start: the next step's p(A) is this one shifted by one step, its last step
//! re-initialised; σ is reset to its initial value (a categorical is mixed half-and-half with
//! the uniform distribution, so that no action starts with a probability below 1/(2n)).

use std::f64::consts::TAU;
use std::time::Instant;

use rand::RngExt;

use super::dynamics::{Dynamics, EnvClones};
use super::shooting::{Chosen, Sequences, score};
use super::stats::PlanStats;
use crate::env::{Action, Env, Space};
use crate::rng::Rng;
use crate::session::Policy;

/// The knobs of CEM.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// H, steps of each sequence.
    pub horizon: usize,
    /// N, sequences sampled per iteration.
    pub population: usize,
    /// K ≤ N, best sequences p(A) is refit to.
    pub elites: usize,
    /// I, sample-and-refit rounds per real step.
    pub iterations: usize,
    /// α ∈ [0, 1), the weight of the old parameters in a refit.
    pub alpha: f64,
    /// σ_0 in units of half the action range (continuous actions).
    pub init_std: f64,
    /// γ of the objective Σ_t γ^t r_t.
    pub gamma: f64,
}

/// p(A), one factor per step of the horizon (step-major, `dim` or `n` values per step).
#[derive(Clone, Debug, PartialEq)]
enum Distribution {
    Gaussian {
        mean: Vec<f64>,
        std: Vec<f64>,
        low: Vec<f64>,
        high: Vec<f64>,
        /// σ_0 per action component.
        init_std: Vec<f64>,
    },
    Categorical {
        probs: Vec<f64>,
        n: usize,
    },
}

/// The CEM optimiser of one open-loop plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Cem {
    dist: Distribution,
    horizon: usize,
    population: usize,
    elites: usize,
    iterations: usize,
    alpha: f64,
}

/// A draw from N(0, 1) (Box–Muller, two uniforms per draw).
fn standard_normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

impl Cem {
    /// p(A) at its initial value: μ at the middle of the bounds and σ = `init_std` × half their
    /// width, or uniform probabilities. `action_space` must be discrete or a finite box.
    pub fn new(action_space: &Space, options: &Options) -> Self {
        let dist = match action_space {
            Space::Discrete(n) => Distribution::Categorical {
                probs: vec![1.0 / *n as f64; options.horizon * n],
                n: *n,
            },
            Space::Box { low, high } => {
                let low: Vec<f64> = low.iter().map(|&x| f64::from(x)).collect();
                let high: Vec<f64> = high.iter().map(|&x| f64::from(x)).collect();
                let init_std = low
                    .iter()
                    .zip(&high)
                    .map(|(l, h)| options.init_std * (h - l) / 2.0)
                    .collect();
                Distribution::Gaussian {
                    mean: Vec::new(),
                    std: Vec::new(),
                    low,
                    high,
                    init_std,
                }
            }
        };
        let mut cem = Self {
            dist,
            horizon: options.horizon,
            population: options.population,
            elites: options.elites,
            iterations: options.iterations,
            alpha: options.alpha,
        };
        cem.reset();
        cem
    }

    /// Back to the initial p(A) (a new episode: no warm start).
    pub fn reset(&mut self) {
        let horizon = self.horizon;
        match &mut self.dist {
            Distribution::Gaussian {
                mean,
                std,
                low,
                high,
                init_std,
            } => {
                *mean = (0..horizon)
                    .flat_map(|_| low.iter().zip(high.iter()).map(|(l, h)| (l + h) / 2.0))
                    .collect();
                *std = (0..horizon)
                    .flat_map(|_| init_std.iter().copied())
                    .collect();
            }
            Distribution::Categorical { probs, n } => probs.fill(1.0 / *n as f64),
        }
    }

    /// Warm start for the next real step: shift p(A) one step forward, re-initialise the last
    /// step, reset σ (or mix the probabilities with the uniform distribution).
    pub fn shift(&mut self) {
        match &mut self.dist {
            Distribution::Gaussian {
                mean,
                std,
                low,
                high,
                init_std,
            } => {
                let dim = low.len();
                mean.rotate_left(dim);
                let last = mean.len() - dim;
                for d in 0..dim {
                    mean[last + d] = (low[d] + high[d]) / 2.0;
                }
                for (t, s) in std.iter_mut().enumerate() {
                    *s = init_std[t % dim];
                }
            }
            Distribution::Categorical { probs, n } => {
                let uniform = 1.0 / *n as f64;
                probs.rotate_left(*n);
                let last = probs.len() - *n;
                probs[last..].fill(uniform);
                for p in probs.iter_mut() {
                    *p = 0.5 * (*p + uniform);
                }
            }
        }
    }

    /// `population` sequences drawn from p(A), in a fixed order from `rng`.
    pub fn sample(&self, rng: &mut Rng) -> Sequences {
        let horizon = self.horizon;
        match &self.dist {
            Distribution::Gaussian {
                mean,
                std,
                low,
                high,
                ..
            } => {
                let dim = low.len();
                let values = (0..self.population * mean.len())
                    .map(|j| {
                        let k = j % mean.len();
                        let a = mean[k] + std[k] * standard_normal(rng);
                        a.clamp(low[k % dim], high[k % dim]) as f32
                    })
                    .collect();
                Sequences::Continuous {
                    values,
                    horizon,
                    dim,
                }
            }
            Distribution::Categorical { probs, n } => {
                let actions = (0..self.population * horizon)
                    .map(|j| {
                        let p = &probs[(j % horizon) * n..][..*n];
                        let u = rng.random::<f64>();
                        let mut cumulative = 0.0;
                        p.iter()
                            .position(|&pa| {
                                cumulative += pa;
                                u < cumulative
                            })
                            .unwrap_or(n - 1)
                    })
                    .collect();
                Sequences::Discrete { actions, horizon }
            }
        }
    }

    /// Refits p(A) to the sequences `elites` of `sequences`, smoothed with α.
    pub fn refit(&mut self, sequences: &Sequences, elites: &[usize]) {
        let (alpha, k) = (self.alpha, elites.len() as f64);
        match (&mut self.dist, sequences) {
            (Distribution::Gaussian { mean, std, .. }, Sequences::Continuous { values, .. }) => {
                let len = mean.len();
                for j in 0..len {
                    let elite = |i: &usize| f64::from(values[i * len + j]);
                    let mu = elites.iter().map(elite).sum::<f64>() / k;
                    let var = elites.iter().map(|i| (elite(i) - mu).powi(2)).sum::<f64>() / k;
                    mean[j] = alpha * mean[j] + (1.0 - alpha) * mu;
                    std[j] = alpha * std[j] + (1.0 - alpha) * var.sqrt();
                }
            }
            (Distribution::Categorical { probs, n }, Sequences::Discrete { actions, horizon }) => {
                let mut freq = vec![0.0; probs.len()];
                for i in elites {
                    for t in 0..*horizon {
                        freq[t * *n + actions[i * horizon + t]] += 1.0 / k;
                    }
                }
                for (p, f) in probs.iter_mut().zip(freq) {
                    *p = alpha * *p + (1.0 - alpha) * f;
                }
            }
            _ => unreachable!("sequences are sampled from this distribution"),
        }
    }

    /// I rounds of sample → score → refit to the K best; `objective` returns J of every
    /// sequence. Returns the number of simulated steps the objective reported.
    pub fn optimise(
        &mut self,
        rng: &mut Rng,
        mut objective: impl FnMut(&Sequences, &mut Rng) -> (Vec<f64>, usize),
    ) -> usize {
        let mut sim_steps = 0;
        for _ in 0..self.iterations {
            let sequences = self.sample(rng);
            let (scores, steps) = objective(&sequences, rng);
            sim_steps += steps;
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]));
            self.refit(&sequences, &order[..self.elites]);
        }
        sim_steps
    }

    /// The first action of the plan p(A) stands for: μ_0, or the most probable action at t = 0.
    pub fn first_action(&self) -> Chosen {
        match &self.dist {
            Distribution::Gaussian { mean, low, .. } => {
                Chosen::Continuous(mean[..low.len()].iter().map(|&m| m as f32).collect())
            }
            Distribution::Categorical { probs, n } => Chosen::Discrete(
                (0..*n)
                    .reduce(|b, a| if probs[a] > probs[b] { a } else { b })
                    .expect("n ≥ 1"),
            ),
        }
    }
}

/// CEM replanned at every real step, warm-started from the previous step's plan.
pub struct CemMpc {
    cem: Cem,
    gamma: f64,
    rng: Rng,
    chosen: Chosen,
    stats: PlanStats,
}

impl CemMpc {
    pub fn new(options: &Options, action_space: &Space, rng: Rng) -> Self {
        Self {
            cem: Cem::new(action_space, options),
            gamma: options.gamma,
            rng,
            chosen: Chosen::Discrete(0),
            stats: PlanStats::default(),
        }
    }

    pub fn stats(&self) -> &PlanStats {
        &self.stats
    }

    /// One planning step on `dynamics`: optimise p(A), return its first action and shift it
    /// for the next step.
    pub fn plan<D: Dynamics>(&mut self, dynamics: &D) -> Action<'_> {
        let started = Instant::now();
        let gamma = self.gamma;
        let sim_steps = self.cem.optimise(&mut self.rng, |sequences, rng| {
            score(dynamics, sequences, gamma, rng)
        });
        self.chosen = self.cem.first_action();
        self.cem.shift();
        self.stats.record(started, sim_steps);
        self.chosen.as_action()
    }
}

/// CEM-MPC on the true dynamics: clones of the controlled env.
impl Policy for CemMpc {
    fn act(&mut self, _obs: &[f32], env: &dyn Env) -> Action<'_> {
        self.plan(&EnvClones::new(env))
    }

    fn start_episode(&mut self) {
        self.cem.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, TimeLimit, make_env};
    use crate::rng;

    fn options(horizon: usize, alpha: f64) -> Options {
        Options {
            horizon,
            population: 100,
            elites: 10,
            iterations: 10,
            alpha,
            init_std: 0.5,
            gamma: 1.0,
        }
    }

    fn unit_box(dim: usize) -> Space {
        Space::Box {
            low: vec![-1.0; dim],
            high: vec![1.0; dim],
        }
    }

    #[test]
    fn gaussian_refit_is_the_smoothed_elite_mean_and_std() {
        let mut cem = Cem::new(&unit_box(1), &options(2, 0.25));
        // Three sequences of horizon 2; the elites are sequences 0 and 2.
        let sequences = Sequences::Continuous {
            values: vec![0.2, -0.4, 0.9, 0.9, 0.6, 0.0],
            horizon: 2,
            dim: 1,
        };
        cem.refit(&sequences, &[0, 2]);
        let Distribution::Gaussian { mean, std, .. } = &cem.dist else {
            unreachable!()
        };
        // Before: μ = 0, σ = 0.5 · (1 − (−1)) / 2 = 0.5. Elites: t=0 {0.2, 0.6}, t=1 {−0.4, 0}.
        let want_mean = [0.75 * 0.4, 0.75 * -0.2];
        let want_std = [0.25 * 0.5 + 0.75 * 0.2, 0.25 * 0.5 + 0.75 * 0.2];
        for t in 0..2 {
            assert!((mean[t] - want_mean[t]).abs() < 1e-6, "{mean:?}");
            assert!((std[t] - want_std[t]).abs() < 1e-6, "{std:?}");
        }
    }

    #[test]
    fn categorical_refit_is_the_smoothed_elite_frequency() {
        let mut cem = Cem::new(&Space::Discrete(3), &options(1, 0.5));
        let sequences = Sequences::Discrete {
            actions: vec![2, 0, 2, 1],
            horizon: 1,
        };
        cem.refit(&sequences, &[0, 1, 2]);
        let Distribution::Categorical { probs, .. } = &cem.dist else {
            unreachable!()
        };
        let third = 1.0 / 3.0;
        let want = [
            0.5 * third + 0.5 * third,
            0.5 * third,
            0.5 * third + 0.5 * 2.0 * third,
        ];
        for a in 0..3 {
            assert!((probs[a] - want[a]).abs() < 1e-12, "{probs:?}");
        }
    }

    /// J(A) = −Σ_t ‖a_t − a*_t‖², maximised by a* (inside the bounds).
    #[test]
    fn gaussian_cem_finds_the_optimum_of_a_quadratic() {
        let target = [0.5, -0.25, 0.8, 0.0, -0.6, 0.3];
        let mut cem = Cem::new(&unit_box(2), &options(3, 0.1));
        let mut rng = rng::from_seed(0);
        cem.optimise(&mut rng, |sequences, _| {
            let Sequences::Continuous { values, .. } = sequences else {
                unreachable!()
            };
            let scores = values
                .chunks(target.len())
                .map(|a| {
                    -a.iter()
                        .zip(&target)
                        .map(|(x, y)| (f64::from(*x) - y).powi(2))
                        .sum::<f64>()
                })
                .collect();
            (scores, 0)
        });
        let Distribution::Gaussian { mean, std, .. } = &cem.dist else {
            unreachable!()
        };
        for (m, t) in mean.iter().zip(target) {
            assert!((m - t).abs() < 0.05, "mean {mean:?}, optimum {target:?}");
        }
        assert!(std.iter().all(|s| *s < 0.05), "σ shrinks: {std:?}");
        assert_eq!(
            cem.first_action(),
            Chosen::Continuous(vec![mean[0] as f32, mean[1] as f32])
        );
    }

    /// J(A) = number of steps where a_t = a*_t.
    #[test]
    fn categorical_cem_finds_the_best_sequence() {
        let target = [3, 0, 1, 3, 2];
        let mut cem = Cem::new(&Space::Discrete(4), &options(5, 0.1));
        let mut rng = rng::from_seed(0);
        cem.optimise(&mut rng, |sequences, _| {
            let Sequences::Discrete { actions, .. } = sequences else {
                unreachable!()
            };
            let scores = actions
                .chunks(target.len())
                .map(|a| a.iter().zip(&target).filter(|(x, y)| x == y).count() as f64)
                .collect();
            (scores, 0)
        });
        let Distribution::Categorical { probs, .. } = &cem.dist else {
            unreachable!()
        };
        for (t, a) in target.iter().enumerate() {
            assert!(
                probs[t * 4 + a] > 0.9,
                "step {t}: {:?}",
                &probs[t * 4..][..4]
            );
        }
        assert_eq!(cem.first_action(), Chosen::Discrete(3));
    }

    #[test]
    fn warm_start_shifts_the_plan_and_resets_the_spread() {
        let mut cem = Cem::new(&unit_box(1), &options(3, 0.0));
        let sequences = Sequences::Continuous {
            values: vec![0.1, 0.2, 0.3],
            horizon: 3,
            dim: 1,
        };
        cem.refit(&sequences, &[0]);
        cem.shift();
        let Distribution::Gaussian { mean, std, .. } = &cem.dist else {
            unreachable!()
        };
        let want = [0.2, 0.3, 0.0];
        assert!(
            mean.iter().zip(want).all(|(m, w)| (m - w).abs() < 1e-6),
            "{mean:?}"
        );
        assert_eq!(std, &vec![0.5; 3]);
    }

    #[test]
    fn cem_mpc_leaves_the_env_alone_and_stays_in_bounds() {
        let mut env = TimeLimit::new(
            make_env("Pendulum-v1", &EnvOptions::default()).unwrap(),
            Some(200),
        );
        env.reset(Some(0), &mut [0.0; 3]);
        let before = env.state();
        let mut planner = CemMpc::new(
            &options(10, 0.1),
            &env.spec().action_space,
            rng::from_seed(0),
        );
        let Action::Continuous(a) = planner.act(&[0.0; 3], &env) else {
            unreachable!()
        };
        assert!((-2.0..=2.0).contains(&a[0]));
        assert_eq!(env.state(), before);
        assert_eq!(planner.stats().mean_sim_steps(), 10.0 * 100.0 * 10.0);
    }
}
