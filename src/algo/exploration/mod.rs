//! Exploration bonuses: an intrinsic reward added to the env's reward of every transition a
//! learner collects, r = r_ext + β · r_int(s′), so that novel states pay:
//! - `count`: β/√N(s′), N the visits of s′'s cell (a grid over the observation box, or a SimHash
//!   code; Bellemare et al. 2016, Tang et al. 2017), see [`count`];
//! - `rnd`: the error of a trained predictor of a fixed random network's output at s′,
//!   normalised by the running spread of its discounted sum (Burda et al. 2019), see [`rnd`].
//!
//! The learner stores r in its replay and logs the extrinsic return (episodes.csv, as always)
//! and the intrinsic one (curve.csv's `intrinsic_reward` and `intrinsic_return`) apart.

pub mod count;
pub mod rnd;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use self::count::{CellCoding, CountBonus};
use self::rnd::{Rnd, RndState};
use crate::env::vector::EpisodeEnd;
use crate::hyper::{Checker, hyperparameters};
use crate::rng::Rng;
use crate::space::Space;

/// Which bonus a learner adds to the env's reward.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BonusKind {
    /// None: the env's reward alone.
    #[default]
    None,
    /// β/√N(s′) over visit counts of discretised states.
    Count,
    /// Random network distillation's prediction error.
    Rnd,
}

hyperparameters! {
    /// `[algo.bonus]`: the exploration bonus added to the reward.
    pub struct BonusConfig {
        /// "none", "count" (β/√N) or "rnd" (random network distillation)
        kind: BonusKind = BonusKind::None;
        /// β, the bonus's weight against the env's reward
        coef: f64 = 0.1, non_negative;
        /// count: "grid" (cells of the observation box) or "simhash" (sign of random projections)
        cells: CellCoding = CellCoding::Grid;
        /// count, grid: cells per observation component
        bins: usize = 20, nonzero;
        /// count, simhash: bits of the code (k of Tang et al. 2017)
        hash_bits: usize = 32, nonzero;
        /// rnd: hidden layers of the target and predictor networks
        net_arch: Vec<usize> = vec![64, 64], all_nonzero;
        /// rnd: outputs of the target network (the embedding predicted)
        output_dim: usize = 64, nonzero;
        /// rnd: Adam step size of the predictor
        learning_rate: f64 = 1e-3, positive;
        /// rnd: discount γ_I of the intrinsic return whose spread normalises the reward
        gamma: f64 = 0.99, in_closed(0.0, 1.0);
    }
    check: Self::consistency;
}

impl BonusConfig {
    fn consistency(&self, c: &mut Checker) {
        c.require("hash_bits", self.hash_bits <= 64, || {
            "a SimHash code is at most 64 bits".into()
        });
    }

    /// Whether a bonus is added at all.
    pub fn enabled(&self) -> bool {
        self.kind != BonusKind::None
    }

    /// Whether the bonus can code the observations of `space`: `Err((key, message))`.
    pub fn check_space(&self, space: &Space) -> Result<(), (&'static str, String)> {
        if self.kind == BonusKind::Count && self.cells == CellCoding::Grid {
            count::check_grid(space).map_err(|m| ("algo.bonus.cells", m))?;
        }
        Ok(())
    }
}

/// The bonus of one run, with what it has learned or counted so far.
pub enum IntrinsicReward {
    Count(CountBonus),
    Rnd(Box<Rnd>),
}

/// An [`IntrinsicReward`]'s part of a checkpoint.
#[derive(Serialize, Deserialize)]
pub enum IntrinsicState {
    Count(CountBonus),
    Rnd(RndState),
}

impl IntrinsicReward {
    /// The bonus `cfg` asks for over observations of `space` from `num_envs` envs (`None` when
    /// it is off); random projections and networks drawn from `rng`, trained on `device`.
    pub fn new(
        cfg: &BonusConfig,
        space: &Space,
        num_envs: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> Option<Self> {
        match cfg.kind {
            BonusKind::None => None,
            BonusKind::Count => Some(Self::Count(CountBonus::new(cfg, space, rng))),
            BonusKind::Rnd => {
                let rnd = Rnd::new(cfg, space.flat_dim(), num_envs, rng, device);
                Some(Self::Rnd(Box::new(rnd)))
            }
        }
    }

    /// β · r_int of each row of `next_obs` (`[n, obs_dim]`, one per env, in env order), after
    /// taking them in (counting them; updating RND's running statistics).
    pub fn rewards(&mut self, next_obs: &[f32]) -> Vec<f64> {
        match self {
            Self::Count(c) => c.rewards(next_obs),
            Self::Rnd(r) => r.rewards(next_obs),
        }
    }

    /// One step of whatever the bonus learns (RND's predictor) on a minibatch of observations
    /// (rows of `obs_dim` values); its loss, or `None` when nothing is trained.
    pub fn train(&mut self, observations: &[f32]) -> Option<f64> {
        match self {
            Self::Count(_) => None,
            Self::Rnd(r) => Some(r.train(observations)),
        }
    }

    pub fn state(&self) -> anyhow::Result<IntrinsicState> {
        Ok(match self {
            Self::Count(c) => IntrinsicState::Count(c.clone()),
            Self::Rnd(r) => IntrinsicState::Rnd(r.state()?),
        })
    }

    pub fn restore(self, state: IntrinsicState) -> anyhow::Result<Self> {
        Ok(match (self, state) {
            (_, IntrinsicState::Count(c)) => Self::Count(c),
            (Self::Rnd(r), IntrinsicState::Rnd(s)) => Self::Rnd(Box::new(r.restore(s)?)),
            (Self::Count(_), IntrinsicState::Rnd(_)) => {
                anyhow::bail!("the checkpoint holds an RND bonus, the config a count bonus")
            }
        })
    }
}

/// The intrinsic side of the log: the bonus of every step and the intrinsic return of every
/// training episode, averaged between evaluations (curve.csv's `intrinsic_reward`,
/// `intrinsic_return`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IntrinsicLog {
    /// The running intrinsic return of each env's current episode.
    episode: Vec<f64>,
    reward_sum: f64,
    steps: u64,
    return_sum: f64,
    episodes: u64,
}

/// curve.csv's columns of an [`IntrinsicLog`].
pub const INTRINSIC_COLUMNS: [&str; 2] = ["intrinsic_reward", "intrinsic_return"];

impl IntrinsicLog {
    pub fn new(num_envs: usize) -> Self {
        Self {
            episode: vec![0.0; num_envs],
            ..Self::default()
        }
    }

    /// The bonuses of one vector step and which envs' episodes it `ended`.
    pub fn push(&mut self, bonuses: &[f64], ended: &[EpisodeEnd]) {
        self.push_envs(bonuses, ended.iter().map(|end| end.env));
    }

    /// [`Self::push`] with the indices of the envs whose episodes ended.
    pub fn push_envs(&mut self, bonuses: &[f64], ended: impl Iterator<Item = usize>) {
        for (e, b) in bonuses.iter().enumerate() {
            self.episode[e] += b;
            self.reward_sum += b;
        }
        self.steps += bonuses.len() as u64;
        for env in ended {
            self.return_sum += std::mem::take(&mut self.episode[env]);
            self.episodes += 1;
        }
    }

    /// The means since the last call, in [`INTRINSIC_COLUMNS`] order (NaN where none).
    pub fn take(&mut self) -> [f64; 2] {
        let mean = |sum: f64, n: u64| if n == 0 { f64::NAN } else { sum / n as f64 };
        let row = [
            mean(self.reward_sum, self.steps),
            mean(self.return_sum, self.episodes),
        ];
        (self.reward_sum, self.steps, self.return_sum, self.episodes) = (0.0, 0, 0.0, 0);
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(env: usize) -> EpisodeEnd {
        EpisodeEnd {
            env,
            episode_return: 0.0,
            length: 1,
            truncated: false,
        }
    }

    /// Per-step means over every env step; per-episode sums over the episodes that ended,
    /// each env's sum started afresh after its end.
    #[test]
    fn the_log_keeps_intrinsic_rewards_and_returns_apart() {
        let mut log = IntrinsicLog::new(2);
        log.push(&[1.0, 2.0], &[]);
        log.push(&[3.0, 4.0], &[end(0)]);
        log.push(&[5.0, 6.0], &[end(0), end(1)]);
        let [reward, ret] = log.take();
        assert!((reward - 21.0 / 6.0).abs() < 1e-12);
        // Episodes: env 0 → 1 + 3, then 5; env 1 → 2 + 4 + 6.
        assert!((ret - (4.0 + 5.0 + 12.0) / 3.0).abs() < 1e-12);
        let [reward, ret] = log.take();
        assert!(reward.is_nan() && ret.is_nan());
    }
}
