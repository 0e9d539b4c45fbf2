//! DIAYN's discriminator q_φ(z|s) (Eysenbach et al. 2019, §3.2): a classifier of the skill
//! from the state, trained by maximum likelihood on the states the skills visit, and the
//! pseudo-reward it gives the policy, r_z(s) = log q_φ(z|s) − log p(z) (eq. 3) with p(z)
//! uniform over K skills.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation;

use crate::nn::Activation;
use crate::nn::mlp::{Init, Mlp};
use crate::rng::Rng;

/// q_φ(z|s): an MLP `obs_dim → hidden… → K` and a softmax over the skills.
#[derive(Module, Debug)]
pub struct Discriminator {
    net: Mlp,
}

impl Discriminator {
    /// A fresh discriminator (PyTorch's default initialisation, from `rng`).
    pub fn new(
        obs_dim: usize,
        num_skills: usize,
        hidden: &[usize],
        activation: Activation,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let sizes: Vec<usize> = std::iter::once(obs_dim)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(num_skills))
            .collect();
        Self {
            net: Mlp::new(&sizes, activation, false, Init::Default, rng, device),
        }
    }

    /// log q_φ(·|s) of each state, `[batch, K]`.
    pub fn log_probs(&self, states: Tensor<2>) -> Tensor<2> {
        activation::log_softmax(self.net.forward(states), 1)
    }
}

/// r_z(s) = log q_φ(z|s) − log p(z) = log q_φ(z|s) + log K for p(z) = 1/K (eq. 3): positive
/// where the discriminator is surer of z than chance.
pub fn pseudo_rewards(log_q_z: Tensor<1>, num_skills: usize) -> Tensor<1> {
    log_q_z.add_scalar((num_skills as f64).ln())
}

/// What one discriminator step measured (one-element tensors, detached).
pub struct DiscriminatorStats {
    /// −E[log q_φ(z|s)], the cross-entropy minimised.
    pub loss: Tensor<1>,
    /// The share of states whose most likely skill under q_φ is the one that visited them.
    pub accuracy: Tensor<1>,
    /// E[r_z(s)].
    pub pseudo_reward: Tensor<1>,
}

/// One Adam step of maximum likelihood, max_φ E[log q_φ(z|s)], on the `states` visited by the
/// `skills` (`[batch, 1]` indices). Returns the updated discriminator, the pseudo-rewards of
/// these states under q_φ before the step (detached, `[batch]`) and the step's statistics.
pub fn update(
    disc: Discriminator,
    optimizer: &mut ModuleOptimizer,
    states: Tensor<2>,
    skills: Tensor<2, Int>,
    learning_rate: f64,
) -> (Discriminator, Tensor<1>, DiscriminatorStats) {
    let log_q = disc.log_probs(states);
    let num_skills = log_q.dims()[1];
    let log_q_z = log_q.clone().gather(1, skills).squeeze_dim::<1>(1);
    let loss = log_q_z.clone().mean().neg();
    let best = log_q.detach().max_dim(1).squeeze_dim::<1>(1);
    let accuracy = log_q_z.clone().detach().greater_equal(best).float().mean();
    let rewards = pseudo_rewards(log_q_z.detach(), num_skills);
    let grads = GradientsParams::from_grads(loss.backward(), &disc);
    let disc = optimizer.step(learning_rate, disc, grads);
    let stats = DiscriminatorStats {
        loss: loss.detach(),
        accuracy,
        pseudo_reward: rewards.clone().mean(),
    };
    (disc, rewards, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{adam, matrix, to_vec, vector};
    use crate::rng::{Stream, stream};

    /// r = log q(z|s) − log(1/K): 0 at chance, log K at certainty, −∞ as q(z|s) → 0.
    #[test]
    fn the_pseudo_reward_is_log_q_minus_log_p() {
        let device = Device::flex();
        let log_q = vector(&[(0.1f32).ln(), 0.0, (0.5f32).ln()], &device);
        let r = to_vec(pseudo_rewards(log_q, 10));
        let expected = [0.0, 10f32.ln(), 5f32.ln()];
        for (r, e) in r.iter().zip(expected) {
            assert!((r - e).abs() < 1e-6, "{r} vs {e}");
        }
    }

    /// Four skills, each visiting its own quadrant of the plane: the discriminator learns to
    /// name every state's skill (accuracy 1), and the pseudo-reward rises towards log K.
    #[test]
    fn a_discriminator_separates_skills_that_visit_disjoint_states() {
        let device = Device::flex().autodiff();
        let mut rng = stream(0, Stream::Init);
        let mut disc = Discriminator::new(2, 4, &[16], Activation::Relu, &mut rng, &device);
        let mut states = Vec::new();
        let mut skills = Vec::new();
        for i in 0..64 {
            let z = i % 4;
            let (x, y) = (
                1.0 + (i as f32 * 0.37).sin().abs(),
                1.0 + (i as f32 * 0.71).cos().abs(),
            );
            let (sx, sy) = [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)][z];
            states.extend([sx * x, sy * y]);
            skills.push(z as i64);
        }
        let skills = Tensor::<2, Int>::from_data(TensorData::new(skills, [64, 1]), &device);
        let mut optimizer = adam(1e-8);
        let mut first = None;
        let mut last = None;
        for _ in 0..300 {
            let (next, rewards, stats) = update(
                disc,
                &mut optimizer,
                matrix(&states, 2, &device),
                skills.clone(),
                1e-2,
            );
            disc = next;
            assert_eq!(rewards.dims(), [64]);
            let row = (
                stats.accuracy.into_scalar::<f32>(),
                stats.pseudo_reward.into_scalar::<f32>(),
            );
            first.get_or_insert(row);
            last = Some(row);
        }
        let ((_, r0), (accuracy, r)) = (first.unwrap(), last.unwrap());
        assert_eq!(accuracy, 1.0);
        assert!(
            r > 0.9 * 4f32.ln() && r > r0 + 1.0,
            "pseudo-reward {r0} → {r}"
        );
    }
}
