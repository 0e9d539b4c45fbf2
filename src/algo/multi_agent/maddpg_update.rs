//! One gradient step of MADDPG (Lowe et al. 2017, alg. 1) on a minibatch of joint transitions,
//! and of independent DDPG, which differs in the critics' inputs alone ([`CriticInputs`]).
//!
//! For each agent i in turn:
//! - the critic regresses y_i = r_i + γ (1 − d_i) Q'_i(x', μ'_1(o'_1), …, μ'_N(o'_N)) (eq. 6),
//!   the target actors' deterministic actions in every agent's slot;
//! - the actor ascends Q_i(x, a_1, …, μ_i(o_i), …, a_N) (eq. 5), the other agents' actions
//!   from the replay, through the critic just updated (held fixed). A discrete actor's μ_i(o_i)
//!   is the straight-through Gumbel-softmax sample of its logits ([`gumbel_softmax`]); a
//!   continuous one's tanh of its output. The loss adds `actor_output_reg` · E[l²] of the
//!   actor's raw outputs l, as the authors' code does (weight 1e-3), which keeps logits from
//!   saturating;
//!
//! each network's gradient norm clipped to `max_grad_norm`; then every target moves by Polyak
//! averaging, θ' ← (1 − τ)θ' + τθ. With a centralised critic x is every agent's observation
//! (MADDPG); with a local one x = o_i and the critic reads a_i alone (independent DDPG).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::gumbel::{greedy_one_hot, gumbel_noise, gumbel_softmax};
use crate::buffer::ReplayBatch;
use crate::env::multi::MultiAgentSpec;
use crate::nn::mlp::{Activation, Init, Mlp};
use crate::nn::polyak::{polyak_update, target_copy};
use crate::nn::{ActionKind, adam, clip_grad_norm, matrix};
use crate::rng::Rng;

/// Values of an agent's action as the critics read it: a one-hot vector over `n` moves, or the
/// `dim` components in the normalised box [−1, 1].
pub fn action_dim(kind: ActionKind) -> usize {
    match kind {
        ActionKind::Discrete(n) => n,
        ActionKind::Continuous(dim) => dim,
    }
}

/// What each agent's critic reads: every observation and every action (centralised, MADDPG),
/// or the agent's own observation and action (independent DDPG).
#[derive(Clone, Debug, PartialEq)]
pub struct CriticInputs {
    pub obs_dims: Vec<usize>,
    pub kinds: Vec<ActionKind>,
    pub centralised: bool,
}

impl CriticInputs {
    pub fn new(env: &MultiAgentSpec, centralised: bool) -> Self {
        Self {
            obs_dims: env
                .observation_spaces
                .iter()
                .map(|s| s.flat_dim())
                .collect(),
            kinds: env.action_spaces.iter().map(ActionKind::of).collect(),
            centralised,
        }
    }

    pub fn agents(&self) -> usize {
        self.obs_dims.len()
    }

    /// Each agent's [`action_dim`].
    pub fn act_dims(&self) -> Vec<usize> {
        self.kinds.iter().map(|&k| action_dim(k)).collect()
    }

    /// The width of agent `agent`'s critic input.
    pub fn dim(&self, agent: usize) -> usize {
        match self.centralised {
            true => self.obs_dims.iter().sum::<usize>() + self.act_dims().iter().sum::<usize>(),
            false => self.obs_dims[agent] + action_dim(self.kinds[agent]),
        }
    }

    /// Agent `agent`'s critic input from the agents' observations and actions (`[batch, ·]`
    /// each): `[o_1, …, o_N, a_1, …, a_N]`, or `[o_i, a_i]`.
    pub fn input(&self, agent: usize, obs: &[Tensor<2>], actions: &[Tensor<2>]) -> Tensor<2> {
        match self.centralised {
            true => Tensor::cat(obs.iter().chain(actions).cloned().collect(), 1),
            false => Tensor::cat(vec![obs[agent].clone(), actions[agent].clone()], 1),
        }
    }
}

/// An agent's actor μ_i, critic Q_i and their targets.
#[derive(Clone, Debug)]
pub struct AgentNets {
    pub actor: Mlp,
    pub critic: Mlp,
    pub actor_target: Mlp,
    pub critic_target: Mlp,
}

/// Every agent's networks.
#[derive(Clone, Debug)]
pub struct MaddpgNets {
    pub agents: Vec<AgentNets>,
}

impl MaddpgNets {
    /// Freshly initialised networks (PyTorch's default initialisation; for each agent its actor
    /// `o_i → hidden… → action_dim`, then its critic `input → hidden… → 1`, from `rng`).
    pub fn new(
        inputs: &CriticInputs,
        hidden: &[usize],
        activation: Activation,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let mut mlp = |d_in: usize, d_out: usize| {
            let sizes: Vec<usize> = std::iter::once(d_in)
                .chain(hidden.iter().copied())
                .chain(std::iter::once(d_out))
                .collect();
            Mlp::new(&sizes, activation, false, Init::Default, rng, device)
        };
        let agents = (0..inputs.agents())
            .map(|i| {
                let actor = mlp(inputs.obs_dims[i], action_dim(inputs.kinds[i]));
                let critic = mlp(inputs.dim(i), 1);
                AgentNets {
                    actor_target: target_copy(&actor),
                    critic_target: target_copy(&critic),
                    actor,
                    critic,
                }
            })
            .collect();
        Self { agents }
    }
}

/// μ(o) from an actor's raw output: onehot(argmax l) for discrete moves, tanh for a box.
pub fn deterministic_action(kind: ActionKind, output: Tensor<2>) -> Tensor<2> {
    match kind {
        ActionKind::Discrete(_) => greedy_one_hot(output),
        ActionKind::Continuous(_) => output.tanh(),
    }
}

/// Each agent's actor and critic optimisers (Adam, ε = 1e-8).
pub struct MaddpgOptimizers {
    pub actors: Vec<ModuleOptimizer>,
    pub critics: Vec<ModuleOptimizer>,
}

impl MaddpgOptimizers {
    pub fn new(agents: usize) -> Self {
        Self {
            actors: (0..agents).map(|_| adam(1e-8)).collect(),
            critics: (0..agents).map(|_| adam(1e-8)).collect(),
        }
    }
}

/// The hyperparameters of one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaddpgUpdate {
    /// Adam step size of the actors and the critics.
    pub learning_rate: f64,
    /// Polyak coefficient of the targets.
    pub tau: f64,
    /// τ of the Gumbel-softmax relaxation.
    pub gumbel_temperature: f64,
    /// The bound on each network's gradient norm.
    pub max_grad_norm: f64,
    /// Weight of E[l²] of the actors' raw outputs in their loss.
    pub actor_output_reg: f64,
}

/// What one step measured, means over the agents (one-element tensors, detached).
pub struct MaddpgStats {
    pub loss_q: Tensor<1>,
    pub loss_pi: Tensor<1>,
    pub q_mean: Tensor<1>,
}

/// The agents' observations, next observations and actions of `batches` on `device`.
struct Rows {
    obs: Vec<Tensor<2>>,
    next_obs: Vec<Tensor<2>>,
    actions: Vec<Tensor<2>>,
}

impl Rows {
    fn new(batches: &[ReplayBatch], inputs: &CriticInputs, device: &Device) -> Self {
        let dims = inputs.obs_dims.iter().zip(batches);
        Self {
            obs: dims
                .clone()
                .map(|(&o, b)| matrix(&b.observations, o, device))
                .collect(),
            next_obs: dims
                .map(|(&o, b)| matrix(&b.next_observations, o, device))
                .collect(),
            actions: inputs
                .act_dims()
                .iter()
                .zip(batches)
                .map(|(&a, b)| matrix(&b.actions, a, device))
                .collect(),
        }
    }
}

/// y_i = r_i + γ (1 − d_i) Q'_i(x', μ'(o')) for every agent (detached).
pub fn td_targets(
    nets: &MaddpgNets,
    batches: &[ReplayBatch],
    inputs: &CriticInputs,
    device: &Device,
) -> Vec<Tensor<1>> {
    let rows = Rows::new(batches, inputs, device);
    td_targets_of(nets, batches, inputs, &rows, device)
}

fn td_targets_of(
    nets: &MaddpgNets,
    batches: &[ReplayBatch],
    inputs: &CriticInputs,
    rows: &Rows,
    device: &Device,
) -> Vec<Tensor<1>> {
    let next_actions: Vec<Tensor<2>> = nets
        .agents
        .iter()
        .zip(&inputs.kinds)
        .zip(&rows.next_obs)
        .map(|((agent, &kind), o)| {
            deterministic_action(kind, agent.actor_target.forward(o.clone()))
        })
        .collect();
    nets.agents
        .iter()
        .zip(batches)
        .enumerate()
        .map(|(i, (agent, batch))| {
            let input = inputs.input(i, &rows.next_obs, &next_actions);
            let next_q = agent.critic_target.forward(input).squeeze_dim::<1>(1);
            batch.td_target(next_q, device).detach()
        })
        .collect()
}

/// One step of every agent on `batches` (agent i's part of the sampled joint transitions in
/// `batches[i]`, on `device`, the networks' device), the Gumbel draws from `rng`.
pub fn update(
    nets: MaddpgNets,
    opt: &mut MaddpgOptimizers,
    batches: &[ReplayBatch],
    inputs: &CriticInputs,
    hp: &MaddpgUpdate,
    rng: &mut Rng,
    device: &Device,
) -> (MaddpgNets, MaddpgStats) {
    let rows = Rows::new(batches, inputs, device);
    let targets = td_targets_of(&nets, batches, inputs, &rows, device);
    let b = batches[0].len();
    let (mut losses_q, mut losses_pi, mut q_means) = (Vec::new(), Vec::new(), Vec::new());
    let mut agents = Vec::with_capacity(nets.agents.len());
    for (i, (mut agent, y)) in nets.agents.into_iter().zip(targets).enumerate() {
        let q = agent
            .critic
            .forward(inputs.input(i, &rows.obs, &rows.actions))
            .squeeze_dim::<1>(1);
        q_means.push(q.clone().detach().mean());
        let loss_q = (q - y).square().mean();
        let mut grads = GradientsParams::from_grads(loss_q.backward(), &agent.critic);
        clip_grad_norm(&agent.critic, &mut grads, hp.max_grad_norm);
        agent.critic = opt.critics[i].step(hp.learning_rate, agent.critic, grads);
        losses_q.push(loss_q.detach());

        let output = agent.actor.forward(rows.obs[i].clone());
        let own = match inputs.kinds[i] {
            ActionKind::Discrete(k) => {
                let noise = matrix(&gumbel_noise(b * k, rng), k, device);
                gumbel_softmax(output.clone(), noise, hp.gumbel_temperature)
            }
            ActionKind::Continuous(_) => output.clone().tanh(),
        };
        let mut actions = rows.actions.clone();
        actions[i] = own;
        let q = agent
            .critic
            .clone()
            .no_grad()
            .forward(inputs.input(i, &rows.obs, &actions));
        let loss_pi = q.mean().neg() + output.square().mean().mul_scalar(hp.actor_output_reg);
        let mut grads = GradientsParams::from_grads(loss_pi.backward(), &agent.actor);
        clip_grad_norm(&agent.actor, &mut grads, hp.max_grad_norm);
        agent.actor = opt.actors[i].step(hp.learning_rate, agent.actor, grads);
        losses_pi.push(loss_pi.detach());
        agents.push(agent);
    }
    for agent in &mut agents {
        agent.critic_target = polyak_update(agent.critic_target.clone(), &agent.critic, hp.tau);
        agent.actor_target = polyak_update(agent.actor_target.clone(), &agent.actor, hp.tau);
    }
    let mean = |v: Vec<Tensor<1>>| Tensor::cat(v, 0).mean();
    let stats = MaddpgStats {
        loss_q: mean(losses_q),
        loss_pi: mean(losses_pi),
        q_mean: mean(q_means),
    };
    (MaddpgNets { agents }, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Space;
    use crate::nn::to_vec;
    use crate::rng::{Stream, stream};

    /// Two agents: observations of 3 and 2 values, 4 discrete moves and a 2-d box.
    fn inputs(centralised: bool) -> CriticInputs {
        CriticInputs {
            obs_dims: vec![3, 2],
            kinds: vec![ActionKind::Discrete(4), ActionKind::Continuous(2)],
            centralised,
        }
    }

    #[test]
    fn critic_inputs_hold_every_agent_or_one() {
        let device = Device::flex();
        let b = 5;
        let obs = vec![
            Tensor::<2>::zeros([b, 3], &device),
            Tensor::<2>::ones([b, 2], &device),
        ];
        let actions = vec![
            Tensor::<2>::full([b, 4], 2.0, &device),
            Tensor::<2>::full([b, 2], 3.0, &device),
        ];
        let central = inputs(true);
        assert_eq!((central.dim(0), central.dim(1)), (11, 11));
        let x = central.input(1, &obs, &actions);
        assert_eq!(x.dims(), [b, 11]);
        assert_eq!(
            to_vec(x.narrow(0, 0, 1)),
            [0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0]
        );
        let local = inputs(false);
        assert_eq!((local.dim(0), local.dim(1)), (7, 4));
        assert_eq!(local.input(0, &obs, &actions).dims(), [b, 7]);
        assert_eq!(
            to_vec(local.input(1, &obs, &actions).narrow(0, 0, 1)),
            [1.0, 1.0, 3.0, 3.0]
        );
        let spec = MultiAgentSpec {
            id: "x".into(),
            agents: vec!["a".into(), "b".into()],
            observation_spaces: vec![
                Space::Box {
                    low: vec![0.0; 3],
                    high: vec![1.0; 3],
                },
                Space::Box {
                    low: vec![0.0; 2],
                    high: vec![1.0; 2],
                },
            ],
            action_spaces: vec![
                Space::Discrete(4),
                Space::Box {
                    low: vec![0.0; 2],
                    high: vec![1.0; 2],
                },
            ],
            max_cycles: 25,
        };
        assert_eq!(CriticInputs::new(&spec, true), central);
    }

    /// Agent parts of three joint transitions, the second terminal for agent 0.
    fn batches() -> Vec<ReplayBatch> {
        let part =
            |obs_dim: usize, act: Vec<f32>, rewards: Vec<f32>, terminated: Vec<f32>| ReplayBatch {
                observations: (0..3 * obs_dim).map(|i| (i as f32 * 0.41).sin()).collect(),
                actions: act,
                rewards,
                next_observations: (0..3 * obs_dim).map(|i| (i as f32 * 0.29).cos()).collect(),
                terminated,
                discounts: vec![0.95; 3],
                ..ReplayBatch::default()
            };
        let one_hot = |k: usize| (0..4).map(move |j| if j == k { 1.0 } else { 0.0 });
        vec![
            part(
                3,
                one_hot(1).chain(one_hot(3)).chain(one_hot(0)).collect(),
                vec![1.0, -2.0, 0.5],
                vec![0.0, 1.0, 0.0],
            ),
            part(
                2,
                vec![0.5, -0.5, 0.0, 1.0, -1.0, 0.25],
                vec![0.0, 3.0, -1.0],
                vec![0.0; 3],
            ),
        ]
    }

    /// y_i = r_i + γ(1 − d_i) Q'_i(x', μ'(o')), with x' and μ'(o') assembled on the host:
    /// agent 0's next action the one-hot argmax of its target logits, agent 1's the tanh of its
    /// target output, concatenated as the critic reads them.
    #[test]
    fn the_target_is_the_closed_form() {
        let device = Device::flex().autodiff();
        for centralised in [true, false] {
            let inputs = inputs(centralised);
            let nets = MaddpgNets::new(
                &inputs,
                &[8],
                Activation::Relu,
                &mut stream(0, Stream::Init),
                &device,
            );
            let b = batches();
            let ys: Vec<Vec<f32>> = td_targets(&nets, &b, &inputs, &device)
                .into_iter()
                .map(to_vec)
                .collect();
            let next = |i: usize| matrix(&b[i].next_observations, inputs.obs_dims[i], &device);
            let logits = to_vec(nets.agents[0].actor_target.forward(next(0)));
            let box_ = to_vec(nets.agents[1].actor_target.forward(next(1)));
            for row in 0..3 {
                let l = &logits[row * 4..][..4];
                let best = crate::nn::distributions::argmax(l);
                let a0: Vec<f32> = (0..4).map(|j| if j == best { 1.0 } else { 0.0 }).collect();
                let a1: Vec<f32> = box_[row * 2..][..2].iter().map(|v| v.tanh()).collect();
                let o0 = &b[0].next_observations[row * 3..][..3];
                let o1 = &b[1].next_observations[row * 2..][..2];
                for agent in 0..2 {
                    let x: Vec<f32> = match (centralised, agent) {
                        (true, _) => [o0, o1, &a0, &a1].concat(),
                        (false, 0) => [o0, &a0].concat(),
                        (false, _) => [o1, &a1].concat(),
                    };
                    let q = to_vec(nets.agents[agent].critic_target.forward(matrix(
                        &x,
                        x.len(),
                        &device,
                    )))[0];
                    let batch = &b[agent];
                    let y = batch.rewards[row] + 0.95 * (1.0 - batch.terminated[row]) * q;
                    let got = ys[agent][row];
                    assert!(
                        (got - y).abs() < 1e-5,
                        "agent {agent} row {row}: {got} vs {y}"
                    );
                }
            }
            assert_eq!(ys[0][1], -2.0, "terminal: y = r");
        }
    }

    /// A step moves every actor, critic and target, and the losses are finite.
    #[test]
    fn a_step_moves_every_network() {
        let device = Device::flex().autodiff();
        let inputs = inputs(true);
        let nets = MaddpgNets::new(
            &inputs,
            &[8],
            Activation::Relu,
            &mut stream(0, Stream::Init),
            &device,
        );
        let hp = MaddpgUpdate {
            learning_rate: 1e-2,
            tau: 0.01,
            gumbel_temperature: 1.0,
            max_grad_norm: 0.5,
            actor_output_reg: 1e-3,
        };
        let x = matrix(&[0.3, -0.2, 0.1], 3, &device);
        let before = to_vec(nets.agents[0].actor_target.forward(x.clone()));
        let mut opt = MaddpgOptimizers::new(2);
        let mut rng = stream(0, Stream::Minibatch);
        let (after, stats) = update(
            nets.clone(),
            &mut opt,
            &batches(),
            &inputs,
            &hp,
            &mut rng,
            &device,
        );
        for s in [stats.loss_q, stats.loss_pi, stats.q_mean] {
            assert!(s.into_scalar::<f32>().is_finite());
        }
        let probe = |m: &Mlp, d: usize| to_vec(m.forward(matrix(&vec![0.2; d], d, &device)));
        for (a, b) in after.agents.iter().zip(&nets.agents) {
            assert_ne!(probe(&a.critic, 11), probe(&b.critic, 11));
            assert_ne!(probe(&a.critic_target, 11), probe(&b.critic_target, 11));
        }
        assert_ne!(
            probe(&after.agents[0].actor, 3),
            probe(&nets.agents[0].actor, 3)
        );
        assert_ne!(
            probe(&after.agents[1].actor, 2),
            probe(&nets.agents[1].actor, 2)
        );
        assert_ne!(to_vec(after.agents[0].actor_target.forward(x)), before);
    }
}
