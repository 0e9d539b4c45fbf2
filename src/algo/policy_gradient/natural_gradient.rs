//! The natural gradient F⁻¹g of the policy (Kakade 2002; Schulman et al. 2015, appendix C):
//! the policy's parameters as one flat vector, the mean KL between two policies, Fisher-vector
//! products and the conjugate-gradient solve of F x = g.
//!
//! **Fisher-vector products.** TRPO's F is the Hessian of the mean KL(π_old ‖ π_θ) at θ = θ_old;
//! implementations take it by differentiating the KL's gradient twice (double backward), which
//! Burn's autodiff does not do (gradients are not themselves differentiable; tracel-ai/burn
//! #1942). At θ_old the KL's gradient with respect to the distribution's parameters vanishes, so
//! the Hessian is exactly the Gauss–Newton form (Schulman et al. 2015, appendix C.1;
//! Martens 2014, §9)
//!
//! F = (1/N) Σᵢ Jᵢᵀ Mᵢ Jᵢ,
//!
//! with Jᵢ the Jacobian of the action head's output in state sᵢ with respect to θ and Mᵢ the
//! Fisher of the action distribution in its own parameters: diag(p) − ppᵀ for a categorical over
//! logits with probabilities p; diag(σ⁻²) for a Gaussian's mean and 2 for each log σ (no cross
//! terms). `F v` is then one forward-mode pass for Jv ([`ActorCritic::actor_jvp`]), the small
//! product M (Jv), and one backward pass for Jᵀ(M J v).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation;

use crate::nn::{ActionKind, ActorCritic, to_vec};

/// Where each policy parameter (every parameter outside the value net) sits in the flat vector.
#[derive(Clone, Debug)]
pub struct PolicyLayout {
    /// (id, shape, offset) in visiting order.
    entries: Vec<(ParamId, Vec<usize>, usize)>,
    offsets: HashMap<ParamId, usize>,
    len: usize,
}

impl PolicyLayout {
    pub fn of(model: &ActorCritic) -> Self {
        struct Shapes {
            skip: Vec<ParamId>,
            entries: Vec<(ParamId, Vec<usize>, usize)>,
            len: usize,
        }
        impl ModuleVisitor for Shapes {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if self.skip.contains(&param.id) {
                    return;
                }
                let shape = param.val().dims().to_vec();
                let size: usize = shape.iter().product();
                self.entries.push((param.id, shape, self.len));
                self.len += size;
            }
        }
        let mut shapes = Shapes {
            skip: model.value_param_ids(),
            entries: Vec::new(),
            len: 0,
        };
        model.visit(&mut shapes);
        let offsets = shapes
            .entries
            .iter()
            .map(|(id, _, offset)| (*id, *offset))
            .collect();
        Self {
            entries: shapes.entries,
            offsets,
            len: shapes.len,
        }
    }

    /// The number of policy parameters.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn span(&self, id: ParamId) -> Option<std::ops::Range<usize>> {
        let at = *self.offsets.get(&id)?;
        let (_, shape, _) = self.entries.iter().find(|(i, _, _)| *i == id)?;
        Some(at..at + shape.iter().product::<usize>())
    }

    /// The policy parameters of `model` as one vector.
    pub fn values(&self, model: &ActorCritic) -> Vec<f64> {
        struct Read<'a> {
            layout: &'a PolicyLayout,
            out: Vec<f64>,
        }
        impl ModuleVisitor for Read<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if let Some(span) = self.layout.span(param.id) {
                    let values = to_vec(param.val().detach());
                    for (o, v) in self.out[span].iter_mut().zip(values) {
                        *o = f64::from(v);
                    }
                }
            }
        }
        let mut read = Read {
            layout: self,
            out: vec![0.0; self.len],
        };
        model.visit(&mut read);
        read.out
    }

    /// The gradient of the policy parameters in `grads` as one vector (zero where absent).
    pub fn gradient(&self, grads: &burn::tensor::Gradients, model: &ActorCritic) -> Vec<f64> {
        struct Read<'a> {
            layout: &'a PolicyLayout,
            grads: &'a burn::tensor::Gradients,
            out: Vec<f64>,
        }
        impl ModuleVisitor for Read<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let Some(span) = self.layout.span(param.id) else {
                    return;
                };
                if let Some(g) = param.val().grad(self.grads) {
                    for (o, v) in self.out[span].iter_mut().zip(to_vec(g)) {
                        *o = f64::from(v);
                    }
                }
            }
        }
        let mut read = Read {
            layout: self,
            grads,
            out: vec![0.0; self.len],
        };
        model.visit(&mut read);
        read.out
    }

    /// `model` with its policy parameters set to `theta` (the value net untouched).
    pub fn with_values(&self, model: ActorCritic, theta: &[f64]) -> ActorCritic {
        struct Write<'a> {
            layout: &'a PolicyLayout,
            theta: &'a [f64],
        }
        impl ModuleMapper for Write<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let Some(span) = self.layout.span(param.id) else {
                    return param;
                };
                let values: Vec<f32> = self.theta[span].iter().map(|&v| v as f32).collect();
                param.map(|t| {
                    let tracked = t.is_require_grad();
                    let fresh =
                        Tensor::<D>::from_data(TensorData::new(values, t.shape()), &t.device());
                    fresh.set_require_grad(tracked)
                })
            }
        }
        model.map(&mut Write {
            layout: self,
            theta,
        })
    }

    /// The slice of `v` that moves `layer`, as (dW, db) tensors on `device`.
    fn layer_tangent(
        &self,
        v: &[f64],
        layer: &Linear,
        device: &Device,
    ) -> (Tensor<2>, Option<Tensor<1>>) {
        let slice = |id: ParamId| -> Vec<f32> {
            let span = self.span(id).expect("every policy layer is in the layout");
            v[span].iter().map(|&x| x as f32).collect()
        };
        let d_weight = Tensor::<2>::from_data(
            TensorData::new(slice(layer.weight.id), layer.weight.val().dims()),
            device,
        );
        let d_bias = layer
            .bias
            .as_ref()
            .map(|b| Tensor::<1>::from_data(TensorData::new(slice(b.id), b.val().dims()), device));
        (d_weight, d_bias)
    }
}

/// The action distributions of a batch, detached: logits or Gaussian means `[N, k]`, and log σ.
#[derive(Clone, Debug)]
pub struct Distributions {
    pub head: Tensor<2>,
    pub log_std: Option<Tensor<1>>,
}

impl Distributions {
    /// π_θ(·|s) for the observations `obs`, out of the graph.
    pub fn of(model: &ActorCritic, obs: Tensor<2>) -> Self {
        Self {
            head: model.actor(obs).detach(),
            log_std: model.log_std_tensor().map(|t| t.detach()),
        }
    }
}

/// Mean KL(π_old ‖ π_new) over the batch, from the old distributions and the new head output and
/// log σ (in the graph when they are):
/// categorical Σ_a p_old (log p_old − log p_new); diagonal Gaussian
/// Σ_j log σ_new/σ_old + (σ_old² + (μ_old − μ_new)²) / (2 σ_new²) − ½.
pub fn mean_kl(old: &Distributions, head: Tensor<2>, log_std: Option<Tensor<1>>) -> Tensor<1> {
    match (&old.log_std, log_std) {
        (None, None) => {
            let log_p_old = activation::log_softmax(old.head.clone(), 1);
            let log_p_new = activation::log_softmax(head, 1);
            (log_p_old.clone().exp() * (log_p_old - log_p_new))
                .sum_dim(1)
                .mean()
        }
        (Some(old_log_std), Some(new_log_std)) => {
            let old_ls = old_log_std.clone().unsqueeze_dim::<2>(0);
            let new_ls = new_log_std.unsqueeze_dim::<2>(0);
            let inv_var_new = new_ls.clone().mul_scalar(-2.0).exp();
            let var_old = old_ls.clone().mul_scalar(2.0).exp();
            let per_dim = (new_ls - old_ls)
                + (var_old + (old.head.clone() - head).square()) * inv_var_new.mul_scalar(0.5);
            per_dim.sub_scalar(0.5).sum_dim(1).mean()
        }
        _ => unreachable!("the old and new policies share their action head"),
    }
}

/// Fisher-vector products of the mean KL at the current policy, on a batch of observations.
pub struct Fisher<'a> {
    model: &'a ActorCritic,
    layout: &'a PolicyLayout,
    obs: Tensor<2>,
    action: ActionKind,
    /// λ of F + λI (Schulman et al. 2015 appendix C; sb3-contrib's `cg_damping`).
    damping: f64,
}

impl<'a> Fisher<'a> {
    pub fn new(
        model: &'a ActorCritic,
        layout: &'a PolicyLayout,
        obs: Tensor<2>,
        action: ActionKind,
        damping: f64,
    ) -> Self {
        Self {
            model,
            layout,
            obs,
            action,
            damping,
        }
    }

    /// (F + λI) v, F = (1/N) Σᵢ Jᵢᵀ Mᵢ Jᵢ (module doc).
    pub fn product(&self, v: &[f64]) -> Vec<f64> {
        let device = self.obs.device();
        let n = self.obs.dims()[0] as f64;
        let (out, d_out) = self.model.actor_jvp(self.obs.clone(), &mut |layer| {
            self.layout.layer_tangent(v, layer, &device)
        });
        let jv = d_out.detach();
        // u = M J v, out of the graph; then ∇_θ (1/N) Σᵢ ⟨outᵢ(θ), uᵢ⟩ = (1/N) Σᵢ Jᵢᵀ uᵢ.
        let (u, log_std_term) = match self.action {
            ActionKind::Discrete(_) => {
                let p = activation::softmax(out.clone().detach(), 1);
                let p_jv = (p.clone() * jv.clone()).sum_dim(1);
                (p.clone() * jv - p * p_jv, None)
            }
            ActionKind::Continuous(_) => {
                let log_std = self
                    .model
                    .log_std_tensor()
                    .expect("a Gaussian head has log σ");
                let inv_var = log_std.clone().detach().mul_scalar(-2.0).exp();
                let id = self.model.log_std_id().expect("a Gaussian head has log σ");
                let span = self.layout.span(id).expect("log σ is a policy parameter");
                let v_log_std: Vec<f32> = v[span].iter().map(|&x| x as f32).collect();
                let v_log_std = Tensor::<1>::from_data(
                    TensorData::new(v_log_std.clone(), [v_log_std.len()]),
                    &device,
                );
                // ∇ of 2 ⟨log σ, v_σ⟩ is 2 v_σ: log σ's Fisher block, the same in every state.
                let term = (log_std * v_log_std).sum().mul_scalar(2.0);
                (jv * inv_var.unsqueeze_dim::<2>(0), Some(term))
            }
        };
        let mut objective = (out * u).sum().div_scalar(n);
        if let Some(term) = log_std_term {
            objective = objective + term;
        }
        let grads = objective.backward();
        let mut fv = self.layout.gradient(&grads, self.model);
        for (f, &x) in fv.iter_mut().zip(v) {
            *f += self.damping * x;
        }
        fv
    }
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Conjugate gradient (Hestenes & Stiefel 1952) for A x = b with A symmetric positive definite,
/// given only products `a(v) = A v`: at most `max_steps` iterations from x = 0, stopping once
/// ‖r‖² ≤ `residual_tol` (Schulman et al. 2015 appendix C use 10 iterations; sb3-contrib's
/// `cg_max_steps`, ‖r‖² ≤ 1e-10).
pub fn conjugate_gradient(
    mut a: impl FnMut(&[f64]) -> Vec<f64>,
    b: &[f64],
    max_steps: usize,
    residual_tol: f64,
) -> Vec<f64> {
    let mut x = vec![0.0; b.len()];
    let mut r = b.to_vec();
    let mut p = b.to_vec();
    let mut rr = dot(&r, &r);
    for _ in 0..max_steps {
        if rr <= residual_tol {
            break;
        }
        let ap = a(&p);
        let p_ap = dot(&p, &ap);
        if p_ap <= 0.0 || !p_ap.is_finite() {
            // Not positive definite along p (rounding): keep the iterate so far.
            break;
        }
        let alpha = rr / p_ap;
        for (xi, pi) in x.iter_mut().zip(&p) {
            *xi += alpha * pi;
        }
        for (ri, api) in r.iter_mut().zip(&ap) {
            *ri -= alpha * api;
        }
        let rr_next = dot(&r, &r);
        let beta = rr_next / rr;
        for (pi, ri) in p.iter_mut().zip(&r) {
            *pi = ri + beta * *pi;
        }
        rr = rr_next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::PolicyConfig;
    use crate::rng::{Stream, stream};
    use rand::RngExt;

    /// A 5×5 SPD system A = BᵀB + I with a known solution: CG in 5 steps solves it to 1e-8.
    #[test]
    fn trpo_conjugate_gradient_solves_a_small_spd_system() {
        let mut rng = stream(3, Stream::Init);
        let n = 5;
        let b_mat: Vec<f64> = (0..n * n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n)
                    .map(|k| b_mat[k * n + i] * b_mat[k * n + j])
                    .sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let x_true: Vec<f64> = (0..n).map(|i| i as f64 - 2.5).collect();
        let times =
            |v: &[f64]| -> Vec<f64> { (0..n).map(|i| dot(&a[i * n..(i + 1) * n], v)).collect() };
        let rhs = times(&x_true);
        let mut calls = 0;
        let x = conjugate_gradient(
            |v| {
                calls += 1;
                times(v)
            },
            &rhs,
            n,
            0.0,
        );
        assert!(calls <= n);
        for (got, want) in x.iter().zip(&x_true) {
            assert!((got - want).abs() < 1e-8, "{x:?} vs {x_true:?}");
        }
        // Fewer steps than the dimension: not yet solved, and no more products than allowed.
        let mut calls = 0;
        let early = conjugate_gradient(
            |v| {
                calls += 1;
                times(v)
            },
            &rhs,
            2,
            0.0,
        );
        assert_eq!(calls, 2);
        assert!(early.iter().zip(&x_true).any(|(g, w)| (g - w).abs() > 1e-6));
    }

    fn tiny(action: ActionKind, device: &Device) -> ActorCritic {
        let cfg = PolicyConfig {
            net_arch: vec![4],
            log_std_init: -0.3,
            ..PolicyConfig::default()
        };
        let model = ActorCritic::new(3, action, &cfg, &mut stream(1, Stream::Init), device);
        // Orthogonal init gives the head tiny weights (gain 0.01): spread them so the
        // probabilities and means differ across states.
        let layout = PolicyLayout::of(&model);
        let mut rng = stream(2, Stream::Init);
        let theta: Vec<f64> = (0..layout.len())
            .map(|_| rng.random_range(-0.8..0.8))
            .collect();
        layout.with_values(model, &theta)
    }

    fn observations(device: &Device) -> Tensor<2> {
        Tensor::<2>::from_floats(
            [
                [0.1, -0.4, 0.8],
                [1.2, 0.3, -0.5],
                [-0.7, 0.9, 0.2],
                [0.0, -1.1, -0.6],
                [0.5, 0.5, 1.5],
            ],
            device,
        )
    }

    /// The Jacobian of a scalar of the model (by reverse mode, one backward pass per entry).
    fn gradient_row(layout: &PolicyLayout, model: &ActorCritic, scalar: Tensor<1>) -> Vec<f64> {
        layout.gradient(&scalar.backward(), model)
    }

    /// F built entry by entry from per-state Jacobians (backward passes of each output) and the
    /// closed-form Fisher of the distribution, times v, against the product.
    fn check_against_explicit_fisher(action: ActionKind) {
        let device = Device::flex().autodiff();
        let model = tiny(action, &device);
        let layout = PolicyLayout::of(&model);
        let obs = observations(&device);
        let n_states = obs.dims()[0];
        let out = model.actor(obs.clone()).detach();
        let k = out.dims()[1];
        let head = to_vec(out);
        let log_std = model.log_std();
        let p = layout.len();
        let mut fisher = vec![0.0f64; p * p];
        for i in 0..n_states {
            // Rows of Jᵢ: the head's outputs, then (Gaussian) log σ.
            let mut rows = Vec::new();
            for j in 0..k {
                // A fresh forward pass per backward pass (a backward consumes its graph).
                let entry = model.actor(obs.clone()).slice([i..i + 1, j..j + 1]).sum();
                rows.push(gradient_row(&layout, &model, entry));
            }
            let row = &head[i * k..(i + 1) * k];
            let m: Vec<Vec<f64>> = match action {
                ActionKind::Discrete(_) => {
                    let max = row.iter().cloned().fold(f32::MIN, f32::max);
                    let e: Vec<f64> = row.iter().map(|&z| f64::from(z - max).exp()).collect();
                    let total: f64 = e.iter().sum();
                    let pr: Vec<f64> = e.iter().map(|x| x / total).collect();
                    (0..k)
                        .map(|a| {
                            (0..k)
                                .map(|b| if a == b { pr[a] } else { 0.0 } - pr[a] * pr[b])
                                .collect()
                        })
                        .collect()
                }
                ActionKind::Continuous(d) => {
                    for j in 0..d {
                        let ls = model.log_std_tensor().unwrap().narrow(0, j, 1).sum();
                        rows.push(gradient_row(&layout, &model, ls));
                    }
                    (0..2 * d)
                        .map(|a| {
                            (0..2 * d)
                                .map(|b| match (a == b, a < d) {
                                    (true, true) => (-2.0 * f64::from(log_std[a])).exp(),
                                    (true, false) => 2.0,
                                    _ => 0.0,
                                })
                                .collect()
                        })
                        .collect()
                }
            };
            for (a, row_a) in rows.iter().enumerate() {
                for (b, row_b) in rows.iter().enumerate() {
                    if m[a][b] == 0.0 {
                        continue;
                    }
                    for (x, &ax) in row_a.iter().enumerate() {
                        for (y, &by) in row_b.iter().enumerate() {
                            fisher[x * p + y] += m[a][b] * ax * by / n_states as f64;
                        }
                    }
                }
            }
        }
        let mut rng = stream(4, Stream::Init);
        let v: Vec<f64> = (0..p).map(|_| rng.random_range(-1.0..1.0)).collect();
        let want: Vec<f64> = (0..p)
            .map(|x| dot(&fisher[x * p..(x + 1) * p], &v))
            .collect();
        let damping = 0.1;
        let got = Fisher::new(&model, &layout, obs, action, damping).product(&v);
        let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(scale > 1e-2, "a degenerate Fisher: {scale}");
        for (x, ((g, vx), w)) in got.iter().zip(&v).zip(&want).enumerate() {
            let err = (g - damping * vx - w).abs();
            assert!(
                err < 1e-4 * scale.max(1.0),
                "{action:?} entry {x}: {g} vs {w}"
            );
        }
    }

    #[test]
    fn trpo_fisher_vector_product_equals_the_explicit_fisher_categorical() {
        check_against_explicit_fisher(ActionKind::Discrete(3));
    }

    #[test]
    fn trpo_fisher_vector_product_equals_the_explicit_fisher_gaussian() {
        check_against_explicit_fisher(ActionKind::Continuous(2));
    }

    /// F v is the Hessian of the mean KL at θ_old times v: a central difference of the KL's
    /// (first-order, autodiff) gradient along v agrees.
    #[test]
    fn trpo_fisher_is_the_hessian_of_the_mean_kl() {
        for action in [ActionKind::Discrete(3), ActionKind::Continuous(2)] {
            let device = Device::flex().autodiff();
            let model = tiny(action, &device);
            let layout = PolicyLayout::of(&model);
            let obs = observations(&device);
            let old = Distributions::of(&model, obs.clone());
            let theta = layout.values(&model);
            let mut rng = stream(5, Stream::Init);
            let v: Vec<f64> = (0..layout.len())
                .map(|_| rng.random_range(-1.0..1.0))
                .collect();
            let grad_at = |eps: f64| -> Vec<f64> {
                let moved: Vec<f64> = theta.iter().zip(&v).map(|(t, d)| t + eps * d).collect();
                let m = layout.with_values(model.clone(), &moved);
                let kl = mean_kl(&old, m.actor(obs.clone()), m.log_std_tensor());
                layout.gradient(&kl.backward(), &m)
            };
            let eps = 1e-2;
            let (plus, minus) = (grad_at(eps), grad_at(-eps));
            let fv = Fisher::new(&model, &layout, obs.clone(), action, 0.0).product(&v);
            let scale = fv.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            for (i, ((p, m), f)) in plus.iter().zip(&minus).zip(&fv).enumerate() {
                let hv = (p - m) / (2.0 * eps);
                assert!(
                    (hv - f).abs() < 2e-2 * scale,
                    "{action:?} entry {i}: {hv} vs {f}"
                );
            }
        }
    }
}
