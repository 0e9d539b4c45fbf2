//! Actors of the off-policy continuous-control methods, acting in the normalised action box
//! [−1, 1]^d (the env's bounds are applied outside):
//! - deterministic μ(s) = tanh(MLP(s)) (DDPG, Lillicrap et al. 2016; TD3, Fujimoto et al. 2018);
//! - SAC's tanh-squashed Gaussian (Haarnoja et al. 2018): u ~ N(μ(s), σ(s)²), a = tanh u, with
//!   log σ clamped to [−20, 2] as Stable-Baselines3 does.

use burn::module::Param;
use burn::prelude::*;

use super::distributions::squashed_gaussian_log_prob;
use super::host_mlp::HostMlp;
use super::mlp::{Activation, Init, Mlp};
use crate::rng::Rng;

/// Bounds of SAC's log σ.
pub const LOG_STD_MIN: f64 = -20.0;
pub const LOG_STD_MAX: f64 = 2.0;

/// `obs_dim → hidden… → out` sizes.
fn sizes(obs_dim: usize, hidden: &[usize], out: Option<usize>) -> Vec<usize> {
    std::iter::once(obs_dim)
        .chain(hidden.iter().copied())
        .chain(out)
        .collect()
}

/// μ(s) ∈ [−1, 1]^d.
#[derive(Module, Debug)]
pub struct DeterministicActor {
    net: Mlp,
}

impl DeterministicActor {
    /// PyTorch's default initialisation, as Stable-Baselines3 uses for its off-policy nets.
    pub fn new(
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        activation: Activation,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let sizes = sizes(obs_dim, hidden, Some(act_dim));
        Self {
            net: Mlp::new(&sizes, activation, false, Init::Default, rng, device),
        }
    }

    pub fn forward(&self, obs: Tensor<2>) -> Tensor<2> {
        self.net.forward(obs).tanh()
    }

    /// The network before its output tanh on the host ([`Mlp::to_host`]), parameters in Burn's
    /// visiting order; `None` where the host pass does not cover it.
    pub fn to_host(&self) -> Option<HostMlp> {
        self.net.to_host()
    }
}

/// π(·|s) = tanh_# N(μ(s), diag σ(s)²), with a shared trunk and a linear mean head. σ(s) comes
/// from a second linear head, or, with generalised state-dependent exploration (gSDE; Raffin et
/// al. 2022), from the noise u = μ(s) + z(s) W with W ~ N(0, σ_W²) per entry, z(s) the trunk's
/// features (detached): then Var[u_j] = Σ_i z_i² σ_W,ij², and W can be held fixed for many
/// steps, which makes exploration smooth in time.
#[derive(Module, Debug)]
pub struct SquashedGaussianActor {
    trunk: Mlp,
    mean: Mlp,
    /// The log σ(s) head (without gSDE).
    log_std: Option<Mlp>,
    /// log σ_W, `[features, d]` (with gSDE).
    sde_log_std: Option<Param<Tensor<2>>>,
    #[module(skip)]
    act_dim: usize,
}

/// Bound on |μ| with gSDE, so that tanh does not saturate (SB3's `clip_mean`).
const SDE_CLIP_MEAN: f64 = 2.0;
/// Added to the gSDE variance (SB3's ε).
const SDE_EPSILON: f64 = 1e-6;

impl SquashedGaussianActor {
    /// `sde_log_std_init`: gSDE with this initial log σ_W, or `None` for a log σ(s) head.
    pub fn new(
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        activation: Activation,
        sde_log_std_init: Option<f64>,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let trunk = Mlp::new(
            &sizes(obs_dim, hidden, None),
            activation,
            true,
            Init::Default,
            rng,
            device,
        );
        let features = hidden.last().copied().unwrap_or(obs_dim);
        let mut head = || {
            Mlp::new(
                &[features, act_dim],
                activation,
                false,
                Init::Default,
                rng,
                device,
            )
        };
        let mean = head();
        let (log_std, sde_log_std) = match sde_log_std_init {
            None => (Some(head()), None),
            Some(init) => (
                None,
                Some(Param::from_data(
                    TensorData::new(vec![init as f32; features * act_dim], [features, act_dim]),
                    device,
                )),
            ),
        };
        Self {
            trunk,
            mean,
            log_std,
            sde_log_std,
            act_dim,
        }
    }

    /// The shape of the standard normal draws [`Self::sample`] takes for `batch` observations:
    /// one per action component, or with gSDE one ε per weight of W (shared by the batch).
    pub fn noise_shape(&self, batch: usize) -> [usize; 2] {
        match &self.sde_log_std {
            None => [batch, self.act_dim],
            Some(p) => p.val().dims(),
        }
    }

    /// μ(s) (clipped with gSDE) and the trunk's features.
    fn mean_and_features(&self, obs: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let features = self.trunk.forward(obs);
        let mean = self.mean.forward(features.clone());
        let mean = match self.sde_log_std {
            Some(_) => mean.clamp(-SDE_CLIP_MEAN, SDE_CLIP_MEAN),
            None => mean,
        };
        (mean, features)
    }

    /// A reparameterised sample a = tanh u for the standard normal draws `noise` (shaped as
    /// [`Self::noise_shape`] says) and log π(a|s) with the tanh correction (Haarnoja et al.
    /// 2018, eq. 26).
    pub fn sample(&self, obs: Tensor<2>, noise: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let (u, log_prob) = self.sample_pre_squash(obs, noise);
        (u.tanh(), log_prob)
    }

    /// As [`Self::sample`], returning the pre-squash sample u (the action is tanh u).
    pub fn sample_pre_squash(&self, obs: Tensor<2>, noise: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let (mean, features) = self.mean_and_features(obs);
        let (u, log_std) = match (&self.log_std, &self.sde_log_std) {
            (Some(head), _) => {
                let log_std = head.forward(features).clamp(LOG_STD_MIN, LOG_STD_MAX);
                (mean.clone() + log_std.clone().exp() * noise, log_std)
            }
            (None, Some(sde_log_std)) => {
                let z = features.detach();
                let std = sde_log_std.val().exp();
                let u = mean.clone() + z.clone().matmul(std.clone() * noise);
                let variance = z.square().matmul(std.square()).add_scalar(SDE_EPSILON);
                (u, variance.log().mul_scalar(0.5))
            }
            (None, None) => unreachable!("an actor has a log σ head or gSDE weights"),
        };
        let log_prob = squashed_gaussian_log_prob(mean, log_std, u.clone());
        (u, log_prob)
    }

    /// log π(tanh u|s) of given pre-squash values `u` [batch, d]: with u held fixed, its
    /// gradient is the score ∇θ log πθ(a|s) of the likelihood-ratio estimator (the tanh
    /// Jacobian does not depend on θ).
    pub fn log_prob(&self, obs: Tensor<2>, u: Tensor<2>) -> Tensor<1> {
        let (mean, features) = self.mean_and_features(obs);
        let log_std = match (&self.log_std, &self.sde_log_std) {
            (Some(head), _) => head.forward(features).clamp(LOG_STD_MIN, LOG_STD_MAX),
            (None, Some(sde_log_std)) => {
                let std = sde_log_std.val().exp();
                let variance = features.detach().square().matmul(std.square());
                variance.add_scalar(SDE_EPSILON).log().mul_scalar(0.5)
            }
            (None, None) => unreachable!("an actor has a log σ head or gSDE weights"),
        };
        squashed_gaussian_log_prob(mean, log_std, u)
    }

    /// The trunk, the mean head and the log σ head on the host ([`Mlp::to_host`]), parameters in
    /// Burn's visiting order in that order; `None` with gSDE or where the host pass does not
    /// cover a network.
    pub fn to_host(&self) -> Option<[HostMlp; 3]> {
        let log_std = self.log_std.as_ref()?.to_host()?;
        Some([self.trunk.to_host()?, self.mean.to_host()?, log_std])
    }

    /// The deterministic action tanh μ(s).
    pub fn deterministic(&self, obs: Tensor<2>) -> Tensor<2> {
        self.mean_and_features(obs).0.tanh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::to_vec;
    use crate::rng::{Stream, stream};

    /// With zero noise the sample is the deterministic action; every action lies in (−1, 1).
    #[test]
    fn squashed_samples_lie_in_the_box() {
        let device = Device::flex();
        let actor = SquashedGaussianActor::new(
            3,
            2,
            &[16],
            Activation::Relu,
            None,
            &mut stream(0, Stream::Init),
            &device,
        );
        let obs = Tensor::<2>::from_floats([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], &device);
        let (a, log_prob) = actor.sample(obs.clone(), Tensor::zeros([2, 2], &device));
        assert_eq!(to_vec(a.clone()), to_vec(actor.deterministic(obs.clone())));
        assert_eq!(log_prob.dims(), [2]);
        let noise = Tensor::<2>::from_floats([[30.0, -30.0], [5.0, 0.1]], &device);
        let (a, _) = actor.sample(obs, noise);
        assert!(to_vec(a).iter().all(|x| x.abs() <= 1.0));
    }

    /// log π of a given pre-squash u is the density the sample that drew it reported, with and
    /// without gSDE.
    #[test]
    fn the_log_prob_of_a_drawn_sample_is_the_one_reported() {
        let device = Device::flex();
        for sde in [None, Some(-1.0)] {
            let actor = SquashedGaussianActor::new(
                3,
                2,
                &[8],
                Activation::Relu,
                sde,
                &mut stream(2, Stream::Init),
                &device,
            );
            let obs = Tensor::<2>::from_floats([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], &device);
            let shape = actor.noise_shape(2);
            let values: Vec<f32> = (0..shape[0] * shape[1])
                .map(|i| (i as f32 * 0.9).sin())
                .collect();
            let noise = Tensor::<2>::from_data(TensorData::new(values, shape), &device);
            let (u, drawn) = actor.sample_pre_squash(obs.clone(), noise);
            let again = actor.log_prob(obs, u);
            for (x, y) in to_vec(drawn).into_iter().zip(to_vec(again)) {
                assert!((x - y).abs() < 1e-5, "{x} vs {y}");
            }
        }
    }

    /// gSDE: u = μ + z W for one W shared by the batch; log π is the Gaussian density with
    /// Var[u_j] = Σ_i z_i² σ_ij² + ε, corrected for tanh.
    #[test]
    fn sde_noise_is_linear_in_the_features() {
        let device = Device::flex();
        let actor = SquashedGaussianActor::new(
            2,
            1,
            &[4],
            Activation::Relu,
            Some(-1.0),
            &mut stream(5, Stream::Init),
            &device,
        );
        assert_eq!(actor.noise_shape(7), [4, 1]);
        let obs = Tensor::<2>::from_floats([[1.0, -0.5], [0.3, 2.0]], &device);
        let eps = Tensor::<2>::from_floats([[1.0], [-2.0], [0.5], [0.0]], &device);
        let (a, log_prob) = actor.sample(obs.clone(), eps.clone());
        let (mean, z) = actor.mean_and_features(obs);
        let (mean, z, eps) = (to_vec(mean), to_vec(z), to_vec(eps));
        let sigma = (-1.0f64).exp();
        for (row, (&a, &lp)) in to_vec(a).iter().zip(&to_vec(log_prob)).enumerate() {
            let z = &z[row * 4..(row + 1) * 4];
            let noise: f64 = z
                .iter()
                .zip(&eps)
                .map(|(&z, &e)| z as f64 * sigma * e as f64)
                .sum();
            let u = mean[row] as f64 + noise;
            assert!((a as f64 - u.tanh()).abs() < 1e-5);
            let var: f64 = z.iter().map(|&z| (z as f64 * sigma).powi(2)).sum::<f64>() + 1e-6;
            let gaussian = -0.5 * noise * noise / var - 0.5 * var.ln() - 0.918_938_533_204_672_8;
            let expected = gaussian - (1.0 - u.tanh().powi(2)).ln();
            assert!((lp as f64 - expected).abs() < 1e-3, "{lp} vs {expected}");
        }
    }

    #[test]
    fn deterministic_actor_outputs_are_bounded() {
        let device = Device::flex();
        let actor = DeterministicActor::new(
            2,
            1,
            &[8, 8],
            Activation::Relu,
            &mut stream(0, Stream::Init),
            &device,
        );
        let out = to_vec(actor.forward(Tensor::<2>::from_floats([[100.0, -50.0]], &device)));
        assert!(out[0].abs() <= 1.0);
    }
}
