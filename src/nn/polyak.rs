//! Target networks by Polyak averaging, θ' ← (1 − τ) θ' + τ θ (Lillicrap et al. 2016, alg. 1);
//! τ = 1 is DQN's periodic hard copy (Mnih et al. 2015). Shared by every off-policy method.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

/// `target` moved a fraction `tau` of the way to `online` (same architecture), with gradients
/// off: a target network is only ever evaluated.
pub fn polyak_update<M: Module>(target: M, online: &M, tau: f64) -> M {
    let mut online_params = Collect(Vec::new());
    online.visit(&mut online_params);
    let mut blend = Blend {
        online: online_params.0.into_iter(),
        tau,
    };
    target.map(&mut blend).no_grad()
}

/// [`polyak_update`] on host parameters (`target[i]` towards `online[i]`, in the same order on
/// both sides), to the bit: θ' ← θ'(1 − τ) + θτ in f32, a copy for τ ≥ 1.
pub fn polyak_host(target: Vec<&mut Vec<f32>>, online: Vec<&[f32]>, tau: f64) {
    assert_eq!(
        target.len(),
        online.len(),
        "one online value per target parameter"
    );
    let (keep, take) = ((1.0 - tau) as f32, tau as f32);
    for (target, online) in target.into_iter().zip(online) {
        if tau >= 1.0 {
            target.copy_from_slice(online);
        } else {
            for (t, &o) in target.iter_mut().zip(online) {
                *t = *t * keep + o * take;
            }
        }
    }
}

/// A frozen copy of `online` to serve as its target network.
pub fn target_copy<M: Module>(online: &M) -> M {
    online.clone().no_grad()
}

/// The parameters of a module, flattened, in visiting order.
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().detach().reshape([-1]));
    }
}

struct Blend<I> {
    online: I,
    tau: f64,
}

impl<I: Iterator<Item = Tensor<1>>> ModuleMapper for Blend<I> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let online = self
            .online
            .next()
            .expect("target and online share an architecture");
        let tau = self.tau;
        param.map(|target| {
            let shape = target.shape();
            if tau >= 1.0 {
                online.reshape(shape)
            } else {
                target.mul_scalar(1.0 - tau) + online.reshape(shape).mul_scalar(tau)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::init::orthogonal_linear;
    use crate::nn::to_vec;
    use crate::rng::{Stream, stream};

    #[test]
    fn polyak_blends_every_parameter_and_tau_one_copies() {
        let device = Device::flex().autodiff();
        let online = orthogonal_linear(3, 2, 1.0, &mut stream(0, Stream::Init), &device);
        let target = orthogonal_linear(3, 2, 1.0, &mut stream(1, Stream::Init), &device);
        let w = |l: &burn::nn::Linear| to_vec(l.weight.val());
        let blended = polyak_update(target.clone(), &online, 0.25);
        for ((b, t), o) in w(&blended).iter().zip(w(&target)).zip(w(&online)) {
            assert!((b - (0.75 * t + 0.25 * o)).abs() < 1e-6);
        }
        let copied = polyak_update(target, &online, 1.0);
        assert_eq!(w(&copied), w(&online));
        assert!(!copied.weight.val().is_require_grad());
    }
}
