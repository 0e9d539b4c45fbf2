//! PPO with an exploration bonus: random network distillation as Burda et al. (2019) combine it
//! with PPO (§2.3, §2.4, Algorithm 1). Beside PPO's loop ([`super::ppo`]):
//! - after each rollout the bonus ([`IntrinsicReward`], RND's normalised prediction error
//!   i_t of s_{t+1}) is computed step by step, as the collected observations arrive;
//! - a second value head V_I, a net of its own beside the policy's extrinsic V_E, learns the
//!   intrinsic return, which is non-episodic: its GAE flows across episode ends, discounted by
//!   the bonus's γ_I; the extrinsic GAE is PPO's, episodic, with PPO's γ;
//! - the policy ascends the clipped surrogate of A = c_E·A_E + c_I·A_I;
//! - each minibatch step also trains the RND predictor on a random `update_proportion` share
//!   of the minibatch's next observations.
//!
//! Returns logged per episode stay extrinsic; curve.csv adds the bonus's `intrinsic_reward`
//! and `intrinsic_return` (means over the rollouts since the previous evaluation).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::{MinibatchOrder, OnPolicyState};
use super::explained_variance;
use super::ppo::{DIAGNOSTICS, PpoConfig};
use super::ppo_update::{PpoStats, PpoUpdate, minibatch_epochs, minibatch_loss};
use super::rollout::Collector;
use super::saved;
use crate::algo::exploration::{INTRINSIC_COLUMNS, IntrinsicLog, IntrinsicReward, IntrinsicState};
use crate::buffer::{RolloutBuffer, gae};
use crate::nn::mlp::{Init, Mlp};
use crate::nn::{
    Acting, ActionKind, ActorCritic, SavedModule, adam, clip_grad_norm, matrix, to_vec, vector,
};
use crate::rng::Stream;
use crate::session::Session;

/// The policy with its extrinsic value head V_E, and the intrinsic value head V_I.
#[derive(Module, Debug)]
pub struct TwoHeads {
    pub policy: ActorCritic,
    pub intrinsic: Mlp,
}

/// A checkpoint of PPO + bonus: PPO's, the intrinsic head, the bonus and its log.
#[derive(Serialize, Deserialize)]
struct PpoBonusState {
    on_policy: OnPolicyState,
    intrinsic: SavedModule,
    bonus: IntrinsicState,
    log: IntrinsicLog,
}

/// GAE(γ_I, λ) of the intrinsic rewards, non-episodic (Burda et al. §2.3): no episode end
/// stops it, the value of the next row's observation always bootstraps.
pub fn intrinsic_advantages(
    rewards: &[f32],
    values: &[f32],
    last_values: &[f32],
    gamma: f64,
    lambda: f64,
) -> Vec<f32> {
    let never = vec![false; rewards.len()];
    gae(rewards, values, &never, last_values, gamma, lambda)
}

/// A = c_E·A_E + c_I·A_I, the advantage the policy ascends (Burda et al. §2.3).
pub fn combined_advantages(
    extrinsic: &[f32],
    intrinsic: &[f32],
    ext_coef: f64,
    int_coef: f64,
) -> Vec<f32> {
    extrinsic
        .iter()
        .zip(intrinsic)
        .map(|(&e, &i)| (ext_coef * f64::from(e) + int_coef * f64::from(i)) as f32)
        .collect()
}

/// The rows `indices` of a row-major `src` of `width` columns.
fn rows(src: &[f32], width: usize, indices: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(indices.len() * width);
    for &i in indices {
        out.extend_from_slice(&src[i * width..(i + 1) * width]);
    }
    out
}

/// The bonus of every transition of `buffer`, step by step (env order within a step), logged
/// with the episode ends.
fn bonuses(
    bonus: &mut IntrinsicReward,
    log: &mut IntrinsicLog,
    buffer: &RolloutBuffer,
) -> Vec<f32> {
    let (n, d) = (buffer.n_envs, buffer.obs_dim);
    let mut out = Vec::with_capacity(buffer.len());
    for t in 0..buffer.n_steps {
        let start = t * n;
        let step = bonus.rewards(&buffer.next_observations[start * d..(start + n) * d]);
        let ended = (0..n).filter(|&e| buffer.ended[start + e]);
        log.push_envs(&step, ended);
        out.extend(step.iter().map(|&b| b as f32));
    }
    out
}

/// PPO's update ([`super::ppo_update::update`]) of both heads on one rollout, with the
/// intrinsic value loss c_v·E[(V_I(s_t) − R_I,t)²] added to each minibatch's loss (one global
/// gradient-norm clip over both heads), and one predictor step per minibatch on its first
/// ⌈`update_proportion` · size⌉ rows (the minibatch is a shuffled chunk: a random share).
fn update(
    heads: TwoHeads,
    optimizer: &mut ModuleOptimizer,
    (rollout, intrinsic_returns): (&RolloutBuffer, &[f32]),
    order: &mut MinibatchOrder,
    hp: &PpoUpdate,
    (bonus, update_proportion): (&mut IntrinsicReward, f64),
    device: &Device,
) -> (TwoHeads, PpoStats) {
    let d = rollout.obs_dim;
    minibatch_epochs(
        heads,
        order,
        hp,
        |heads, chunk| minibatch_loss(&heads.policy, rollout, chunk, hp, device),
        |heads, chunk, loss| {
            let obs = matrix(&rows(&rollout.observations, d, chunk), d, device);
            let values = heads.intrinsic.forward(obs).squeeze_dim::<1>(1);
            let targets: Vec<f32> = chunk.iter().map(|&i| intrinsic_returns[i]).collect();
            let loss_int = (vector(&targets, device) - values).square().mean();
            let loss = loss + loss_int.mul_scalar(hp.vf_coef);
            let mut grads = GradientsParams::from_grads(loss.backward(), &heads);
            clip_grad_norm(&heads, &mut grads, hp.max_grad_norm);
            let heads = optimizer.step(hp.learning_rate, heads, grads);

            let share = ((update_proportion * chunk.len() as f64).ceil() as usize).max(1);
            bonus.train(&rows(&rollout.next_observations, d, &chunk[..share]));
            heads
        },
    )
}

/// PPO's training loop ([`super::ppo::train`]) with the bonus of `cfg.bonus` and two value
/// heads.
pub fn train(cfg: &PpoConfig, session: &mut Session) -> anyhow::Result<()> {
    let device = session.training_device();
    let plain = session.device().clone();
    let mut collector = Collector::new(session, cfg.normalization, cfg.gamma, true)?;
    let spec = collector.envs.spec().clone();
    let (obs_dim, n_envs) = (collector.envs.obs_dim(), collector.envs.num_envs());
    let action = ActionKind::of(&spec.action_space);
    let mut init = session.rng(Stream::Init);
    let policy = ActorCritic::new(obs_dim, action, &cfg.policy, &mut init, &device);
    // V_I: the value net's shape and initialisation, drawn after the policy's.
    let sizes: Vec<usize> = std::iter::once(obs_dim)
        .chain(cfg.policy.net_arch.iter().copied())
        .chain(std::iter::once(1))
        .collect();
    let gain = if cfg.policy.ortho_init {
        Init::Orthogonal { output_gain: 1.0 }
    } else {
        Init::Default
    };
    let intrinsic = Mlp::new(
        &sizes,
        cfg.policy.activation,
        false,
        gain,
        &mut init,
        &device,
    );
    let mut heads = TwoHeads { policy, intrinsic };
    let mut bonus = IntrinsicReward::new(
        &cfg.bonus,
        &spec.observation_space,
        n_envs,
        &mut session.rng(Stream::Bonus),
        &device,
    )
    .ok_or_else(|| anyhow::anyhow!("PPO + bonus needs a bonus (ppo checks)"))?;
    let mut log = IntrinsicLog::new(n_envs);
    let mut optimizer = adam(1e-5);
    let rollout = cfg.n_steps * n_envs;
    let mut order = MinibatchOrder {
        rng: session.rng(Stream::Minibatch),
        indices: (0..rollout).collect(),
    };
    let mut buffer = RolloutBuffer::new(cfg.n_steps, n_envs, obs_dim, action);
    let total = session.total_steps();
    let mut columns = DIAGNOSTICS.to_vec();
    columns.extend(INTRINSIC_COLUMNS);
    session.set_diagnostics(&columns)?;

    let mut step = 0u64;
    let mut diagnostics = vec![f64::NAN; columns.len()];
    if let Some((at, state)) = session.resumed::<PpoBonusState>()? {
        let saved_order;
        (diagnostics, saved_order) =
            state
                .on_policy
                .restore(&mut heads.policy, &mut [&mut optimizer], &mut collector)?;
        order = saved_order.ok_or_else(|| anyhow::anyhow!("no minibatch order saved"))?;
        heads.intrinsic = state.intrinsic.restore(heads.intrinsic)?;
        bonus = bonus.restore(state.bonus)?;
        log = state.log;
        step = at;
    }
    let mut acting = Acting::new(&heads.policy, action, obs_dim, &plain);
    collector.evaluate_at_start(&acting, session, step, &diagnostics)?;
    let mut intrinsic_row = [f64::NAN; INTRINSIC_COLUMNS.len()];
    while step < total {
        let last_values =
            collector.collect(&acting, &mut buffer, session, &mut step, &diagnostics)?;
        buffer.compute_advantages(&last_values, cfg.gamma, cfg.gae_lambda);
        let rewards = bonuses(&mut bonus, &mut log, &buffer);
        let value_net = heads.intrinsic.valid();
        let value_of =
            |obs: &[f32]| -> Vec<f32> { to_vec(value_net.forward(matrix(obs, obs_dim, &plain))) };
        let values = value_of(&buffer.observations);
        let last = value_of(collector.observations());
        let gamma_i = cfg.bonus.gamma;
        let advantages = intrinsic_advantages(&rewards, &values, &last, gamma_i, cfg.gae_lambda);
        let returns: Vec<f32> = advantages.iter().zip(&values).map(|(a, v)| a + v).collect();
        buffer.advantages =
            combined_advantages(&buffer.advantages, &advantages, cfg.ext_coef, cfg.int_coef);

        let hp = PpoUpdate::scheduled(cfg, step, total);
        let training = (&mut bonus, cfg.update_proportion);
        let stats;
        let data = (&buffer, returns.as_slice());
        (heads, stats) = update(
            heads,
            &mut optimizer,
            data,
            &mut order,
            &hp,
            training,
            &device,
        );
        acting = Acting::new(&heads.policy, action, obs_dim, &plain);

        diagnostics = stats.row();
        let stepped = stats.minibatches > 0;
        session.check_finite(
            step,
            &DIAGNOSTICS,
            diagnostics.iter().map(|&v| stepped.then_some(v)),
        )?;
        diagnostics.push(explained_variance(&buffer.values, &buffer.returns));
        diagnostics.push(hp.learning_rate);
        // The next evaluation (in the next rollout, or now at the budget's end) reports the
        // bonus since the previous one.
        if session.eval_due(step) || session.eval_due(step + rollout as u64) {
            intrinsic_row = log.take();
        }
        diagnostics.extend(intrinsic_row);
        session.checkpoint(step, || {
            Ok(PpoBonusState {
                on_policy: OnPolicyState::capture(
                    &heads.policy,
                    &[&optimizer],
                    &collector,
                    &diagnostics,
                    Some(order.clone()),
                )?,
                intrinsic: SavedModule::of(&heads.intrinsic)?,
                bonus: bonus.state()?,
                log: log.clone(),
            })
        })?;
        if session.eval_due(step) {
            session.evaluate(
                step,
                &mut collector.evaluation_policy(&acting),
                &diagnostics,
            )?;
        }
    }
    saved::save(session, &heads.policy, collector.obs_normalizer.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two envs, three steps, λ = 1 and zero values: each intrinsic advantage is the
    /// discounted sum of the rest of the rollout plus γ^k V(s_T), straight across the episode
    /// end of env 0 at t = 0 (an episodic GAE would stop there).
    #[test]
    fn intrinsic_gae_runs_across_episode_ends() {
        let g = 0.9f64;
        // Rows t·2 + e.
        let rewards = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let last = [10.0f32, 20.0];
        let adv = intrinsic_advantages(&rewards, &[0.0; 6], &last, g, 1.0);
        let expect = |e: usize, t: usize| -> f64 {
            let tail: f64 = (t..3)
                .map(|k| g.powi((k - t) as i32) * f64::from(rewards[k * 2 + e]))
                .sum();
            tail + g.powi((3 - t) as i32) * f64::from(last[e])
        };
        for t in 0..3 {
            for e in 0..2 {
                let got = f64::from(adv[t * 2 + e]);
                assert!((got - expect(e, t)).abs() < 1e-4, "({t}, {e}): {got}");
            }
        }
        // Env 0 at t = 0: 1 + 0.9·3 + 0.81·5 + 0.729·10 = 15.04; episodic would give 1.
        assert!((adv[0] - 15.04).abs() < 1e-4, "{}", adv[0]);

        // With values and λ = 0: the one-step TD error r + γ V(s') − V(s).
        let values = [1.0f32, 1.0, 2.0, 2.0, 3.0, 3.0];
        let td = intrinsic_advantages(&rewards, &values, &last, g, 0.0);
        assert!((td[0] - (1.0 + 0.9 * 2.0 - 1.0)).abs() < 1e-5, "{}", td[0]);
        assert!((td[5] - (6.0 + 0.9 * 20.0 - 3.0)).abs() < 1e-5, "{}", td[5]);
    }

    /// c_E·A_E + c_I·A_I elementwise, with the paper's 2 and 1.
    #[test]
    fn advantages_combine_with_their_coefficients() {
        let a = combined_advantages(&[1.0, -0.5, 0.0], &[0.25, 2.0, -3.0], 2.0, 1.0);
        assert_eq!(a, vec![2.25, 1.0, -3.0]);
        let only_ext = combined_advantages(&[1.0, -0.5], &[7.0, 7.0], 2.0, 0.0);
        assert_eq!(only_ext, vec![2.0, -1.0]);
    }
}
