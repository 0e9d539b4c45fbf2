//! The count-based bonus β/√N(s′) (Bellemare et al. 2016's pseudo-count bonus with exact counts;
//! Tang et al. 2017, "#Exploration"): states are coded to cells, N counts the visits of s′'s cell
//! including this one, so the first visit pays β and the n-th β/√n.
//!
//! Two codings of a continuous observation:
//! - `grid`: each component of the observation box cut into `bins` equal intervals between its
//!   bounds (finite bounds needed); a discrete observation is its own cell;
//! - `simhash`: φ(s) = sgn(A s) ∈ {−1, 1}^k with A ∈ ℝ^{k×D} drawn i.i.d. from N(0, 1) (Tang et
//!   al. 2017, eq. 2): near states share a code, and k sets the granularity.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::BonusConfig;
use crate::rng::{Rng, standard_normal};
use crate::space::Space;

/// How observations are coded to cells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellCoding {
    #[default]
    Grid,
    Simhash,
}

/// Why the grid cannot cover `space`, if it cannot.
pub fn check_grid(space: &Space) -> Result<(), String> {
    match space {
        Space::Discrete(_) => Ok(()),
        Space::Box { low, high } => {
            match low.iter().zip(high).position(|(l, h)| !(h - l).is_finite()) {
                None => Ok(()),
                Some(i) => Err(format!(
                    "the grid needs finite observation bounds, and component {i} of {} has none; \
                 use cells = \"simhash\"",
                    space.describe()
                )),
            }
        }
    }
}

/// Cells and their visit counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountBonus {
    coef: f64,
    /// Values per observation.
    dim: usize,
    coding: Coding,
    /// Visits per cell code.
    counts: HashMap<u64, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Coding {
    /// Lower bounds, interval widths and intervals per component (a discrete observation: one
    /// component of width 1).
    Grid {
        low: Vec<f32>,
        width: Vec<f32>,
        bins: u64,
    },
    /// A, `[k, D]` row-major.
    SimHash { projection: Vec<f32>, bits: usize },
}

impl CountBonus {
    /// No visits yet; a SimHash projection drawn from `rng`.
    pub fn new(cfg: &BonusConfig, space: &Space, rng: &mut Rng) -> Self {
        let coding = match (cfg.cells, space) {
            (CellCoding::Grid, Space::Discrete(n)) => Coding::Grid {
                low: vec![0.0],
                width: vec![1.0],
                bins: *n as u64,
            },
            (CellCoding::Grid, Space::Box { low, high }) => Coding::Grid {
                width: low
                    .iter()
                    .zip(high)
                    .map(|(l, h)| (h - l) / cfg.bins as f32)
                    .collect(),
                low: low.clone(),
                bins: cfg.bins as u64,
            },
            (CellCoding::Simhash, space) => {
                let dim = space.flat_dim();
                let projection = (0..cfg.hash_bits * dim)
                    .map(|_| standard_normal(rng) as f32)
                    .collect();
                Coding::SimHash {
                    projection,
                    bits: cfg.hash_bits,
                }
            }
        };
        Self {
            coef: cfg.coef,
            dim: space.flat_dim(),
            coding,
            counts: HashMap::new(),
        }
    }

    /// The cell code of observation `s`.
    pub fn cell(&self, s: &[f32]) -> u64 {
        match &self.coding {
            Coding::Grid { low, width, bins } => {
                // Mixed radix over the components, then mixed (SplitMix64's finaliser) so that
                // many components cannot overflow into the same code in any regular way.
                s.iter()
                    .zip(low)
                    .zip(width)
                    .fold(0u64, |code, ((x, l), w)| {
                        let i = ((x - l) / w).floor().clamp(0.0, (*bins - 1) as f32) as u64;
                        mix(code.wrapping_mul(*bins).wrapping_add(i))
                    })
            }
            Coding::SimHash { projection, bits } => projection
                .chunks_exact(s.len())
                .take(*bits)
                .enumerate()
                .fold(0u64, |code, (b, row)| {
                    let dot: f32 = row.iter().zip(s).map(|(a, x)| a * x).sum();
                    code | (u64::from(dot > 0.0) << b)
                }),
        }
    }

    /// β/√N of each observation row after counting it.
    pub fn rewards(&mut self, next_obs: &[f32]) -> Vec<f64> {
        next_obs
            .chunks_exact(self.dim)
            .map(|s| {
                let n = self.counts.entry(self.cell(s)).or_insert(0);
                *n += 1;
                self.coef / (*n as f64).sqrt()
            })
            .collect()
    }

    /// Visits of `s`'s cell so far.
    pub fn count(&self, s: &[f32]) -> u64 {
        self.counts.get(&self.cell(s)).copied().unwrap_or(0)
    }
}

/// SplitMix64's output function (Steele et al. 2014): a bijection of u64 that scatters codes.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn config(cells: CellCoding) -> BonusConfig {
        BonusConfig {
            coef: 0.5,
            cells,
            bins: 4,
            hash_bits: 16,
            ..BonusConfig::default()
        }
    }

    fn unit_square() -> Space {
        Space::Box {
            low: vec![0.0, 0.0],
            high: vec![1.0, 1.0],
        }
    }

    /// The n-th visit of a cell pays β/√n; another cell counts from 1 again.
    #[test]
    fn the_bonus_is_beta_over_root_n() {
        let mut bonus = CountBonus::new(
            &config(CellCoding::Grid),
            &unit_square(),
            &mut stream(0, Stream::Bonus),
        );
        let r = bonus.rewards(&[0.1, 0.1, 0.2, 0.2, 0.15, 0.05, 0.9, 0.9]);
        let expected = [0.5, 0.5 / 2f64.sqrt(), 0.5 / 3f64.sqrt(), 0.5];
        for (r, e) in r.iter().zip(expected) {
            assert!((r - e).abs() < 1e-12, "{r} vs {e}");
        }
        assert_eq!(bonus.count(&[0.24, 0.0]), 3);
        assert_eq!(bonus.count(&[0.5, 0.5]), 0);
    }

    /// Cells are the bins of each component: 4 × 4 of them on the unit square, the bounds
    /// belonging to the edge cells.
    #[test]
    fn the_grid_cuts_each_component_into_bins() {
        let bonus = CountBonus::new(
            &config(CellCoding::Grid),
            &unit_square(),
            &mut stream(0, Stream::Bonus),
        );
        let mut codes: Vec<u64> = (0..4)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| bonus.cell(&[0.125 + 0.25 * i as f32, 0.125 + 0.25 * j as f32]))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 16);
        assert_eq!(bonus.cell(&[0.0, 1.0]), bonus.cell(&[0.01, 0.99]));
        assert_eq!(bonus.cell(&[-3.0, 7.0]), bonus.cell(&[0.0, 1.0]));
    }

    /// sgn(A(−s)) = −sgn(A s): the code of −s is the complement of the code of s.
    #[test]
    fn simhash_codes_of_opposite_states_are_complements() {
        let space = Space::Box {
            low: vec![f32::NEG_INFINITY; 3],
            high: vec![f32::INFINITY; 3],
        };
        let bonus = CountBonus::new(
            &config(CellCoding::Simhash),
            &space,
            &mut stream(3, Stream::Bonus),
        );
        let s = [0.3, -1.2, 0.7];
        let code = bonus.cell(&s);
        let opposite = bonus.cell(&s.map(|x: f32| -x));
        assert_eq!(code ^ opposite, (1u64 << 16) - 1);
        // Scaling a state keeps its code: SimHash sees directions.
        assert_eq!(bonus.cell(&s.map(|x: f32| 4.0 * x)), code);
    }

    #[test]
    fn the_grid_refuses_unbounded_observations() {
        let space = Space::Box {
            low: vec![0.0, f32::NEG_INFINITY],
            high: vec![1.0, f32::INFINITY],
        };
        let err = check_grid(&space).unwrap_err();
        assert!(
            err.contains("component 1") && err.contains("simhash"),
            "{err}"
        );
        assert!(check_grid(&Space::Discrete(5)).is_ok());
    }
}
