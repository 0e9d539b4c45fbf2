//! Exploration bonuses on MountainCar-v0 (DQN's and PPO's `[algo.bonus]`): a count bonus reaches
//! the flag where plain DQN with the same hyperparameters and budget mostly does not, and PPO +
//! RND where plain PPO does not; RND runs are reproducible; bad bonus settings are refused.
//! Hindsight relabelling lets SAC reach the goals of the continuous BitFlipping. Run optimised.

use std::path::Path;

use crate::common::{final_eval, final_value, read_csv, rl, run_experiment, without_wall_clock};

/// A cheap 50k-step learner in place of the shipped rl-zoo settings (CleanRL's 120x84 network,
/// γ 0.99, Adam 1e-3, one gradient step every 4 env steps, ε decayed over 10k steps, a target
/// copy every 250, β = 1), the same for the runs with and without the bonus.
const SHORT: [&str; 26] = [
    "--set",
    "experiment.total_steps=50000",
    "--set",
    "experiment.eval_every=10000",
    "--set",
    "algo.learning_starts=1000",
    "--set",
    "algo.exploration_fraction=0.2",
    "--set",
    "algo.exploration_final_eps=0.05",
    "--set",
    "algo.train_freq=4",
    "--set",
    "algo.gradient_steps=1",
    "--set",
    "algo.learning_rate=1e-3",
    "--set",
    "algo.gamma=0.99",
    "--set",
    "algo.target_update_interval=250",
    "--set",
    "algo.policy.net_arch=[120,84]",
    "--seeds",
    "0..2",
    "--set",
    "algo.bonus.coef=1.0",
];

/// Training episodes that reached the flag (ended before MountainCar's 200-step limit).
fn goals_reached(seed_dir: &Path) -> usize {
    read_csv(&seed_dir.join("episodes.csv"))[1..]
        .iter()
        .filter(|row| row[2].parse::<u32>().unwrap() < 200)
        .count()
}

#[test]
fn a_count_bonus_reaches_the_flag_more_often_than_plain_dqn() {
    let out = tempfile::tempdir().unwrap();
    run_experiment("dqn_count_mountaincar.toml", out.path(), &SHORT);
    let mut plain = SHORT.to_vec();
    plain.extend([
        "--set",
        "algo.bonus.kind=\"none\"",
        "--set",
        "experiment.name=\"plain\"",
    ]);
    run_experiment("dqn_count_mountaincar.toml", out.path(), &plain);
    for seed in 0..2 {
        let bonus = out
            .path()
            .join(format!("dqn_count_mountaincar/seed_{seed}"));
        let plain = out.path().join(format!("plain/seed_{seed}"));
        // Measured: 204 and 244 flags against 82 and 58; final evaluations −133.9 and −126.0
        // against −173.7 and −169.6.
        let (with, without) = (goals_reached(&bonus), goals_reached(&plain));
        assert!(
            with >= 2 * without,
            "seed {seed}: {with} flags with the bonus, {without} without"
        );
        let eval = final_eval(&bonus);
        assert!(eval > -150.0, "seed {seed}: final evaluation {eval}");
    }
}

#[test]
fn rnd_runs_are_reproducible_and_log_intrinsic_returns() {
    let out = tempfile::tempdir().unwrap();
    let short = [
        "--set",
        "experiment.total_steps=4000",
        "--set",
        "experiment.eval_every=2000",
        "--set",
        "algo.learning_starts=500",
        "--seeds",
        "0",
    ];
    for name in ["a", "b"] {
        let mut args = short.to_vec();
        let dir = out.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        args.extend(["--out", dir.to_str().unwrap()]);
        let config = crate::common::experiment("dqn_rnd_mountaincar.toml");
        let mut full = vec!["run", config.as_str(), "-q"];
        full.extend(args);
        let result = rl(&full, out.path());
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
    let curve = |name: &str| {
        without_wall_clock(
            &out.path()
                .join(name)
                .join("dqn_rnd_mountaincar/seed_0/curve.csv"),
        )
    };
    let (a, b) = (curve("a"), curve("b"));
    assert_eq!(a, b, "two runs of seed 0 differ");
    let col = a[0]
        .iter()
        .position(|c| c == "intrinsic_return")
        .expect("intrinsic_return column");
    let last: f64 = a.last().unwrap()[col].parse().unwrap();
    assert!(last.is_finite() && last > 0.0, "intrinsic return {last}");
}

/// The shipped PPO pair on 30k steps, seed 0: PPO + RND reaches the flag in training where plain
/// PPO with the same hyperparameters never does, and logs a positive intrinsic return.
#[test]
fn ppo_with_rnd_reaches_the_flag_where_plain_ppo_does_not() {
    let out = tempfile::tempdir().unwrap();
    let short = [
        "--set",
        "experiment.total_steps=30000",
        "--set",
        "experiment.eval_every=10000",
        "--seeds",
        "0",
    ];
    run_experiment("ppo_rnd_mountaincar.toml", out.path(), &short);
    run_experiment("ppo_mountaincar_500k.toml", out.path(), &short);
    let bonus = out.path().join("ppo_rnd_mountaincar/seed_0");
    let plain = out.path().join("ppo_mountaincar_500k/seed_0");
    // Measured: 39 flags against 0.
    let (with, without) = (goals_reached(&bonus), goals_reached(&plain));
    assert!(
        with >= 20 && without == 0,
        "{with} flags with RND, {without} without"
    );
    let intrinsic = final_value(&bonus, "intrinsic_return");
    assert!(
        intrinsic.is_finite() && intrinsic > 0.0,
        "intrinsic return {intrinsic}"
    );
}

/// `rl validate` of the count experiment with `--set` overrides fails naming `wants`.
fn assert_rejected(sets: &[&str], wants: &[&str]) {
    assert_rejected_in("dqn_count_mountaincar.toml", sets, wants);
}

/// `rl validate` of the shipped `config` with `--set` overrides fails naming `wants`.
fn assert_rejected_in(config: &str, sets: &[&str], wants: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::common::experiment(config);
    let mut args = vec!["validate", config.as_str()];
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = rl(&args, dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for want in wants {
        assert!(stderr.contains(want), "no `{want}` in: {stderr}");
    }
}

#[test]
fn bad_bonus_settings_are_refused_naming_the_key() {
    assert_rejected(
        &["algo.bonus.kind=\"curiosity\""],
        &["algo.bonus.kind", "rnd"],
    );
    assert_rejected(&["algo.bonus.coef=-1"], &["algo.bonus.coef"]);
    assert_rejected(&["algo.bonus.hash_bits=65"], &["algo.bonus.hash_bits"]);
    // CartPole's velocities are unbounded: no grid.
    assert_rejected(
        &["env.id=\"CartPole-v1\""],
        &["algo.bonus.cells", "simhash"],
    );
}

#[test]
fn bad_ppo_bonus_settings_are_refused_naming_the_key() {
    let ppo = "ppo_rnd_mountaincar.toml";
    assert_rejected_in(
        ppo,
        &["algo.update_proportion=0"],
        &["algo.update_proportion"],
    );
    assert_rejected_in(ppo, &["algo.ext_coef=-1"], &["algo.ext_coef"]);
    assert_rejected_in(ppo, &["algo.bonus.gamma=1.5"], &["algo.bonus.gamma"]);
    // PPO's variants take its keys, not its bonus.
    assert_rejected_in(ppo, &["algo.name=\"dppo\""], &["algo.bonus.kind", "dppo"]);
}

/// SAC + HER on the continuous BitFlipping-v0 with 6 bits (fixed goal), 3000 steps: every one
/// of 20 evaluation episodes reaches the goal (return > −6, the return of a failure); one step
/// flipping every wrong bit at once (return 0) is optimal.
#[test]
fn sac_with_hindsight_reaches_the_continuous_bit_goal() {
    let out = tempfile::tempdir().unwrap();
    let short = [
        "--set",
        "env.n_bits=6",
        "--set",
        "experiment.total_steps=3000",
        "--set",
        "experiment.eval_every=3000",
        "--set",
        "experiment.eval_episodes=20",
        "--seeds",
        "0",
    ];
    run_experiment("sac_her_goal.toml", out.path(), &short);
    let seed = out.path().join("sac_her_goal/seed_0");
    let worst = final_value(&seed, "eval_return_min");
    assert!(worst > -6.0, "an evaluation episode failed: return {worst}");
}
