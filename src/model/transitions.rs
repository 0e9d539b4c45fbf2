//! The aggregated dataset D of real transitions (s, a, s') a model is fitted to (Nagabandi
//! et al. 2018, Algorithm 1: D_RL ← D_RL ∪ new rollouts), stored contiguously.

/// Transitions with observations of `obs_dim` and actions of `act_dim` values.
#[derive(Clone, Debug, Default)]
pub struct Transitions {
    pub obs_dim: usize,
    pub act_dim: usize,
    pub obs: Vec<f32>,
    pub actions: Vec<f32>,
    pub next_obs: Vec<f32>,
}

impl Transitions {
    pub fn new(obs_dim: usize, act_dim: usize) -> Self {
        Self {
            obs_dim,
            act_dim,
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.obs.len() / self.obs_dim.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.obs.is_empty()
    }

    pub fn push(&mut self, obs: &[f32], action: &[f32], next_obs: &[f32]) {
        self.obs.extend_from_slice(obs);
        self.actions.extend_from_slice(action);
        self.next_obs.extend_from_slice(next_obs);
    }

    /// The transitions `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let mut out = Self::new(self.obs_dim, self.act_dim);
        let (d, k) = (self.obs_dim, self.act_dim);
        for &i in indices {
            out.push(
                &self.obs[i * d..(i + 1) * d],
                &self.actions[i * k..(i + 1) * k],
                &self.next_obs[i * d..(i + 1) * d],
            );
        }
        out
    }

    /// Transition `i`'s network input (s, a), written into `out` (obs_dim + act_dim).
    pub fn input(&self, i: usize, out: &mut [f32]) {
        let (d, k) = (self.obs_dim, self.act_dim);
        out[..d].copy_from_slice(&self.obs[i * d..(i + 1) * d]);
        out[d..].copy_from_slice(&self.actions[i * k..(i + 1) * k]);
    }

    /// Transition `i`'s target Δs = s' − s, written into `out` (obs_dim).
    pub fn delta(&self, i: usize, out: &mut [f32]) {
        let d = self.obs_dim;
        for (j, o) in out.iter_mut().enumerate() {
            *o = self.next_obs[i * d + j] - self.obs[i * d + j];
        }
    }

    /// Every input row, row-major (for normalisation statistics).
    pub fn inputs(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.len() * (self.obs_dim + self.act_dim)];
        for (i, row) in out
            .chunks_exact_mut(self.obs_dim + self.act_dim)
            .enumerate()
        {
            self.input(i, row);
        }
        out
    }

    /// Every target row, row-major.
    pub fn deltas(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.len() * self.obs_dim];
        for (i, row) in out.chunks_exact_mut(self.obs_dim).enumerate() {
            self.delta(i, row);
        }
        out
    }
}
