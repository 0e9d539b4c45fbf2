//! Monte Carlo tree search with UCT (Kocsis & Szepesvári 2006; Browne et al. 2012, "A survey of
//! Monte Carlo tree search methods"; CS285 lecture 10). From the current state, each simulation
//!
//! 1. **selects** (tree policy): while every action of the node has been tried, follow the
//!    action maximising UCB1, Q(s,a) + C √(ln N(s) / N(s,a));
//! 2. **expands** one untried action (chosen uniformly at random), adding its child;
//! 3. **evaluates** the new child with the default policy — uniformly random actions, or a
//!    hand-made rule of the env ([`super::heuristics`]) — for up to `rollout_depth` steps, G = Σ_k γ^k r_k (an ended episode stops it, with value 0 after);
//! 4. **backs up** G along the path: G ← r + γ G at each edge, N(s,a) += 1, Q(s,a) = mean G.
//!
//! The executed action is the root's most visited one (the "robust child").
//!
//! Nodes hold a clone of the env in their state. Stochastic transitions (slippery FrozenLake)
//! are chance events: every traversal of an edge steps a freshly reseeded clone of the parent
//! and the child is looked up by the resulting state (`Env::state()`), so each edge fans out
//! into the outcomes it has sampled, with their own rewards, and Q(s,a) averages over them
//! in proportion to their probability. This is exact for the toy-text envs (finitely many
//! outcomes) and reduces to one child per edge for the deterministic classic-control envs.
//!
//! Actions that an env's `info().action_mask` marks as leaving the state unchanged (Taxi's
//! walls, pickups and drop-offs that do nothing) are neither tried in the tree nor drawn by the
//! default policy: a self-loop that costs a step and pays −1 or −10 is never better than acting.
//!
//! Root parallelism (Chaslot, Winands & van den Herik 2008): `trees` independent trees, each
//! with its share of the simulations and its own RNG seeded from the planner's in a fixed
//! order, search on rayon's threads; their root visit counts are summed. The result depends on
//! `trees`, never on the number of threads.
//!
//! MCTS searches env clones directly rather than through [`super::dynamics::Dynamics`]: it
//! tells a chance node's outcomes apart by the env's state (`Env::state()`), prunes actions with
//! the env's `info().action_mask` and its heuristic default policies read the env's internal
//! state, none of which a batched model of states, rewards and ends exposes; and it steps one
//! node at a time, so batching would not pay.

use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::heuristics::Heuristic;
use super::stats::PlanStats;
use crate::env::{Action, Env};
use crate::rng::Rng;
use crate::session::Policy;

/// The knobs of UCT.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Simulations per real step, split among the trees.
    pub simulations: usize,
    /// C of UCB1.
    pub exploration_constant: f64,
    /// Steps of the default policy from a new leaf.
    pub rollout_depth: usize,
    /// γ of the simulated returns.
    pub gamma: f64,
    /// Independent trees (root parallelism).
    pub trees: usize,
}

/// The UCB1 score of an edge visited `n` times with mean value `q`, under a parent visited
/// `parent` times (Auer et al. 2002); an unvisited edge scores +∞.
pub fn ucb1(q: f64, n: u32, parent: u32, c: f64) -> f64 {
    if n == 0 {
        return f64::INFINITY;
    }
    q + c * (f64::from(parent).ln() / f64::from(n)).sqrt()
}

/// One sampled outcome of an edge.
struct Outcome {
    state: Vec<f64>,
    reward: f64,
    node: usize,
}

/// An action's statistics at a node.
#[derive(Default)]
struct Edge {
    visits: u32,
    value_sum: f64,
    outcomes: Vec<Outcome>,
}

impl Edge {
    fn q(&self) -> f64 {
        self.value_sum / f64::from(self.visits)
    }
}

struct Node {
    env: Box<dyn Env>,
    /// The episode ended on reaching this node (terminated or truncated): its value is 0.
    ended: bool,
    visits: u32,
    /// The actions searched here (all, or those the env's action mask allows).
    actions: Vec<usize>,
    edges: Vec<Edge>,
}

/// The actions worth trying in `env`'s current state: those its action mask marks as changing
/// the state, or all `n` without a mask.
fn useful_actions(env: &dyn Env, n: usize) -> Vec<usize> {
    match env.info().action_mask {
        Some(mask) if mask.contains(&1) => (0..n).filter(|&a| mask[a] == 1).collect(),
        _ => (0..n).collect(),
    }
}

/// The search parameters shared by every tree.
#[derive(Clone, Copy, Debug)]
struct Search {
    n_actions: usize,
    /// The default policy: a hand-made rule, or uniformly random actions when `None`.
    heuristic: Option<Heuristic>,
    c: f64,
    rollout_depth: usize,
    gamma: f64,
}

/// One search tree, grown from a clone of the root env.
struct Tree {
    search: Search,
    nodes: Vec<Node>,
    rng: Rng,
    obs: Vec<f32>,
    sim_steps: usize,
}

impl Tree {
    fn new(root: &dyn Env, search: Search, rng: Rng) -> Self {
        let obs = vec![0.0; root.spec().observation_space.flat_dim()];
        let mut tree = Self {
            search,
            nodes: Vec::new(),
            rng,
            obs,
            sim_steps: 0,
        };
        tree.add_node(root.clone_box(), false);
        tree
    }

    fn add_node(&mut self, env: Box<dyn Env>, ended: bool) -> usize {
        let actions = useful_actions(env.as_ref(), self.search.n_actions);
        self.nodes.push(Node {
            env,
            ended,
            visits: 0,
            actions,
            edges: (0..self.search.n_actions)
                .map(|_| Edge::default())
                .collect(),
        });
        self.nodes.len() - 1
    }

    /// Steps a reseeded clone of `node`'s env with `action`; returns the child (created when
    /// this outcome is new), the reward, and whether the child was created.
    fn step(&mut self, node: usize, action: usize) -> (usize, f64, bool) {
        let mut env = self.nodes[node].env.clone_box();
        env.reseed(self.rng.random());
        let step = env.step(Action::Discrete(action), &mut self.obs);
        self.sim_steps += 1;
        let state = env.state();
        let edge = &self.nodes[node].edges[action];
        if let Some(o) = edge.outcomes.iter().find(|o| o.state == state) {
            return (o.node, o.reward, false);
        }
        let child = self.add_node(env, step.terminated || step.truncated);
        self.nodes[node].edges[action].outcomes.push(Outcome {
            state,
            reward: step.reward,
            node: child,
        });
        (child, step.reward, true)
    }

    /// The default policy's discounted return from `node`.
    fn rollout(&mut self, node: usize) -> f64 {
        if self.nodes[node].ended {
            return 0.0;
        }
        let mut env = self.nodes[node].env.clone_box();
        env.reseed(self.rng.random());
        let (mut value, mut discount) = (0.0, 1.0);
        for _ in 0..self.search.rollout_depth {
            let action = match self.search.heuristic {
                Some(rule) => rule(&env.state()),
                None => {
                    let actions = useful_actions(env.as_ref(), self.search.n_actions);
                    actions[self.rng.random_range(0..actions.len())]
                }
            };
            let step = env.step(Action::Discrete(action), &mut self.obs);
            self.sim_steps += 1;
            value += discount * step.reward;
            discount *= self.search.gamma;
            if step.terminated || step.truncated {
                break;
            }
        }
        value
    }

    /// The tree policy's action at a fully expanded node (UCB1; the first of equals).
    fn select(&self, node: usize) -> usize {
        let node = &self.nodes[node];
        let score = |e: &Edge| ucb1(e.q(), e.visits, node.visits, self.search.c);
        node.actions
            .iter()
            .copied()
            .reduce(|b, a| {
                if score(&node.edges[a]) > score(&node.edges[b]) {
                    a
                } else {
                    b
                }
            })
            .expect("at least one action")
    }

    /// One simulation: select, expand, evaluate, back up.
    fn simulate(&mut self) {
        let mut path: Vec<(usize, usize, f64)> = Vec::new();
        let mut node = 0;
        let leaf_value = loop {
            if self.nodes[node].ended {
                break 0.0;
            }
            let untried: Vec<usize> = self.nodes[node]
                .actions
                .iter()
                .copied()
                .filter(|&a| self.nodes[node].edges[a].visits == 0)
                .collect();
            let action = if untried.is_empty() {
                self.select(node)
            } else {
                untried[self.rng.random_range(0..untried.len())]
            };
            let (child, reward, created) = self.step(node, action);
            path.push((node, action, reward));
            if created {
                break self.rollout(child);
            }
            node = child;
        };
        let mut value = leaf_value;
        for &(node, action, reward) in path.iter().rev() {
            value = reward + self.search.gamma * value;
            let node = &mut self.nodes[node];
            node.visits += 1;
            node.edges[action].visits += 1;
            node.edges[action].value_sum += value;
        }
    }

    /// Root statistics `(N(s0,a), Σ G)` per action after `simulations` simulations.
    fn run(mut self, simulations: usize) -> (Vec<(u32, f64)>, usize) {
        for _ in 0..simulations {
            self.simulate();
        }
        let root = self.nodes[0]
            .edges
            .iter()
            .map(|e| (e.visits, e.value_sum))
            .collect();
        (root, self.sim_steps)
    }
}

/// UCT as a policy: a fresh search from the current state at every real step.
pub struct Mcts {
    search: Search,
    simulations: usize,
    trees: usize,
    rng: Rng,
    stats: PlanStats,
}

impl Mcts {
    /// `heuristic`: the default policy's rule (uniformly random actions when `None`).
    pub fn new(
        options: &Options,
        n_actions: usize,
        heuristic: Option<Heuristic>,
        rng: Rng,
    ) -> Self {
        Self {
            search: Search {
                n_actions,
                heuristic,
                c: options.exploration_constant,
                rollout_depth: options.rollout_depth,
                gamma: options.gamma,
            },
            simulations: options.simulations,
            trees: options.trees,
            rng,
            stats: PlanStats::default(),
        }
    }

    pub fn stats(&self) -> &PlanStats {
        &self.stats
    }

    /// The most visited root action over all trees (ties: the higher mean value, then the
    /// lower index).
    fn search(&mut self, env: &dyn Env) -> (usize, usize) {
        let jobs: Vec<(u64, usize)> = (0..self.trees)
            .map(|k| {
                let share =
                    self.simulations / self.trees + usize::from(k < self.simulations % self.trees);
                (self.rng.random(), share)
            })
            .collect();
        let search = self.search;
        let results: Vec<(Vec<(u32, f64)>, usize)> = jobs
            .par_iter()
            .map(|&(seed, share)| Tree::new(env, search, Rng::seed_from_u64(seed)).run(share))
            .collect();
        let mut root = vec![(0u32, 0.0f64); search.n_actions];
        let mut sim_steps = 0;
        for (stats, steps) in results {
            sim_steps += steps;
            for (total, (n, g)) in root.iter_mut().zip(stats) {
                total.0 += n;
                total.1 += g;
            }
        }
        let key = |&(n, g): &(u32, f64)| {
            (
                n,
                if n > 0 {
                    g / f64::from(n)
                } else {
                    f64::NEG_INFINITY
                },
            )
        };
        let best = (0..root.len())
            .reduce(|b, a| {
                let (ka, kb) = (key(&root[a]), key(&root[b]));
                if ka.0 > kb.0 || (ka.0 == kb.0 && ka.1 > kb.1) {
                    a
                } else {
                    b
                }
            })
            .expect("at least one action");
        (best, sim_steps)
    }
}

impl Policy for Mcts {
    fn act(&mut self, _obs: &[f32], env: &dyn Env) -> Action<'_> {
        let started = Instant::now();
        let (action, sim_steps) = self.search(env);
        self.stats.record(started, sim_steps);
        Action::Discrete(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{EnvOptions, TimeLimit, make_env};
    use crate::rng;

    fn options(simulations: usize, trees: usize) -> Options {
        Options {
            simulations,
            exploration_constant: std::f64::consts::SQRT_2,
            rollout_depth: 50,
            gamma: 1.0,
            trees,
        }
    }

    fn lake(slippery: bool) -> TimeLimit {
        let options = EnvOptions {
            is_slippery: Some(slippery),
            ..EnvOptions::default()
        };
        let mut env = TimeLimit::new(make_env("FrozenLake-v1", &options).unwrap(), Some(100));
        env.reset(Some(0), &mut [0.0]);
        env
    }

    #[test]
    fn ucb1_prefers_the_unvisited_then_balances_value_and_rarity() {
        assert_eq!(ucb1(0.0, 0, 10, 1.0), f64::INFINITY);
        let parent = 100;
        let bonus = |n: u32| (f64::from(parent).ln() / f64::from(n)).sqrt();
        assert!((ucb1(0.5, 4, parent, 2.0) - (0.5 + 2.0 * bonus(4))).abs() < 1e-12);
        // A rarely tried worse arm beats a well tried better one once C is large enough.
        assert!(ucb1(0.4, 2, parent, 1.0) > ucb1(0.6, 90, parent, 1.0));
        assert!(ucb1(0.4, 2, parent, 0.0) < ucb1(0.6, 90, parent, 0.0));
    }

    #[test]
    fn selection_follows_ucb1() {
        let env = lake(false);
        let search = Search {
            n_actions: 4,
            heuristic: None,
            c: 1.0,
            rollout_depth: 10,
            gamma: 1.0,
        };
        let mut tree = Tree::new(&env, search, rng::from_seed(0));
        tree.nodes[0].visits = 30;
        for (a, (n, sum)) in [(10, 5.0), (5, 2.0), (12, 7.2), (3, 0.3)]
            .into_iter()
            .enumerate()
        {
            tree.nodes[0].edges[a].visits = n;
            tree.nodes[0].edges[a].value_sum = sum;
        }
        let want = (0..4)
            .max_by(|&a, &b| {
                let s = |e: &Edge| ucb1(e.q(), e.visits, 30, 1.0);
                s(&tree.nodes[0].edges[a]).total_cmp(&s(&tree.nodes[0].edges[b]))
            })
            .unwrap();
        assert_eq!(tree.select(0), want);
        assert_eq!(want, 1, "0.4 + √(ln 30 / 5) is the largest score");
    }

    /// On the non-slippery 4x4 lake (start at the top left, goal at the bottom right, holes at
    /// (1,1), (1,3), (2,3), (3,0)), the shortest paths begin with down (1) or right (2); going
    /// left (0) or up (3) from the corner wastes a step, which γ < 1 penalises.
    #[test]
    fn finds_an_optimal_first_move_on_a_deterministic_lake() {
        let env = lake(false);
        let cfg = Options {
            gamma: 0.9,
            rollout_depth: 20,
            ..options(2000, 1)
        };
        let mut planner = Mcts::new(&cfg, 4, None, rng::from_seed(3));
        let Action::Discrete(a) = planner.act(&[0.0], &env) else {
            unreachable!()
        };
        assert!(a == 1 || a == 2, "first move {a}");
        assert_eq!(env.state(), vec![0.0], "the controlled env is untouched");
    }

    /// Acting with MCTS on the non-slippery lake reaches the goal in the 6 steps of a
    /// shortest path.
    #[test]
    fn walks_a_shortest_path_across_the_lake() {
        let mut env = lake(false);
        let cfg = Options {
            gamma: 0.9,
            rollout_depth: 20,
            ..options(1000, 2)
        };
        let mut planner = Mcts::new(&cfg, 4, None, rng::from_seed(4));
        let mut obs = [0.0];
        let mut steps = 0;
        loop {
            let Action::Discrete(a) = planner.act(&obs, &env) else {
                unreachable!()
            };
            let step = env.step(Action::Discrete(a), &mut obs);
            steps += 1;
            if step.terminated || step.truncated {
                assert_eq!(step.reward, 1.0, "reached the goal, not a hole");
                break;
            }
        }
        assert_eq!(steps, 6);
    }

    #[test]
    fn slippery_edges_fan_out_into_their_sampled_outcomes() {
        let env = lake(true);
        let search = Search {
            n_actions: 4,
            heuristic: None,
            c: 1.0,
            rollout_depth: 10,
            gamma: 1.0,
        };
        let mut tree = Tree::new(&env, search, rng::from_seed(0));
        for _ in 0..200 {
            tree.simulate();
        }
        // From the corner, "down" slides left (stays), down or right: three outcomes.
        let outcomes: Vec<f64> = {
            let mut s: Vec<f64> = tree.nodes[0].edges[1]
                .outcomes
                .iter()
                .map(|o| o.state[0])
                .collect();
            s.sort_by(f64::total_cmp);
            s
        };
        assert_eq!(outcomes, vec![0.0, 1.0, 4.0]);
    }

    #[test]
    fn results_depend_on_the_seed_and_trees_not_on_threads() {
        let env = lake(true);
        let cfg = options(400, 4);
        let act = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut planner = Mcts::new(&cfg, 4, None, rng::from_seed(9));
                let actions: Vec<usize> = (0..5)
                    .map(|_| match planner.act(&[0.0], &env) {
                        Action::Discrete(a) => a,
                        Action::Continuous(_) => unreachable!(),
                    })
                    .collect();
                (actions, planner.stats().mean_sim_steps())
            })
        };
        assert_eq!(act(1), act(3));
    }
}
