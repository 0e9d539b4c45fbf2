//! Model-based RL with learned dynamics (learned-dynamics MPC, PETS, MBPO), run from the shipped
//! experiments on short budgets: bad keys exit 2 naming the key, MPC on a model learned from
//! 1,400 steps swings the pendulum up far better than random actions (in training and in
//! `rl eval` of the saved model), PETS records its model diagnostics and saves its ensemble.
//! Run optimised.

use crate::common::{self, final_eval, final_value, rl, run_experiment};

#[test]
fn bad_model_based_keys_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let pets = common::experiment("pets_pendulum.toml");
    let mpc = common::experiment("mpc_pendulum.toml");
    let cases = [
        (&pets, "algo.ensemble_size=0", "ensemble_size"),
        (&pets, "algo.elite_fraction=0.0", "elite_fraction"),
        (&pets, "algo.elite_fraction=1.5", "elite_fraction"),
        (&pets, "algo.horizon=0", "horizon"),
        (&pets, "algo.particles=7", "particles"),
        (&pets, "env.id=CartPole-v1", "env.id"),
        (&mpc, "algo.horizon=0", "horizon"),
        (&mpc, "env.id=MountainCarContinuous-v0", "env.id"),
    ];
    for (config, set, key) in cases {
        let result = rl(&["validate", config, "--set", set], dir.path());
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{set}: {stderr}");
        assert!(
            stderr.contains(key),
            "{set}: the message names {key}: {stderr}"
        );
    }
    let ok = rl(
        &["validate", &pets, "--set", "algo.elite_fraction=1.0"],
        dir.path(),
    );
    assert!(ok.status.success(), "elite_fraction = 1 is allowed");
}

/// Random actions score about −1,300 on Pendulum-v1; CEM on an MLP fitted to 400 random and
/// 1,000 of its own steps swings the pendulum up and holds it (−221 on seed 0).
#[test]
fn mpc_on_a_learned_model_beats_random_actions() {
    let out = tempfile::tempdir().unwrap();
    let extra = [
        "--seeds",
        "0",
        "--set",
        "experiment.total_steps=1400",
        "--set",
        "experiment.eval_every=1400",
        "--set",
        "experiment.eval_episodes=3",
        "--set",
        "algo.random_steps=400",
    ];
    run_experiment("mpc_pendulum.toml", out.path(), &extra);
    let seed = out.path().join("mpc_pendulum/seed_0");
    let ret = final_eval(&seed);
    assert!(ret > -400.0, "learned-model MPC scored {ret}");
    let holdout = final_value(&seed, "model_mse_holdout");
    assert!(
        holdout < 0.02,
        "one-step error on unseen transitions {holdout}"
    );
    // `rl eval` plans on the saved model as the run did: fresh episodes, the same league.
    let eval = rl(
        &["eval", seed.to_str().unwrap(), "--episodes", "3"],
        out.path(),
    );
    let stdout = String::from_utf8_lossy(&eval.stdout);
    assert!(eval.status.success(), "{stdout}{}", eval_stderr(&eval));
    let mean = return_mean(&stdout);
    assert!(mean > -400.0, "rl eval of the saved model scored {mean}");
}

fn eval_stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The mean in `rl eval`'s "return mean X" line.
fn return_mean(stdout: &str) -> f64 {
    stdout
        .split("return mean ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no return mean in {stdout}"))
}

/// A few hundred steps of PETS: the ensemble's diagnostics are recorded and finite.
#[test]
fn pets_records_model_diagnostics() {
    let out = tempfile::tempdir().unwrap();
    let extra = [
        "--seeds",
        "0",
        "--set",
        "experiment.total_steps=600",
        "--set",
        "experiment.eval_every=600",
        "--set",
        "experiment.eval_episodes=1",
        "--set",
        "algo.population=40",
        "--set",
        "algo.horizon=10",
        "--set",
        "algo.iterations=2",
    ];
    run_experiment("pets_pendulum.toml", out.path(), &extra);
    let seed = out.path().join("pets_pendulum/seed_0");
    for column in [
        "model_loss",
        "model_mse_holdout",
        "disagreement",
        "plan_ms",
        "model_steps",
    ] {
        let value = final_value(&seed, column);
        assert!(value.is_finite(), "{column} = {value}");
    }
    assert!(
        final_value(&seed, "disagreement") > 0.0,
        "bootstraps differ"
    );
    // iterations × population × horizon × particles model transitions per real step.
    assert_eq!(final_value(&seed, "model_steps"), 2.0 * 40.0 * 10.0 * 5.0);
    // The run saved its ensemble: `rl eval` plans on it, reproducibly for one seed; without
    // the normalisers it exits 2 naming the file.
    let eval = || {
        rl(
            &["eval", seed.to_str().unwrap(), "--episodes", "1"],
            out.path(),
        )
    };
    let (first, second) = (eval(), eval());
    assert!(first.status.success(), "{}", eval_stderr(&first));
    assert_eq!(first.stdout, second.stdout);
    std::fs::remove_file(seed.join("normalizers.json")).unwrap();
    let missing = eval();
    assert_eq!(missing.status.code(), Some(2));
    assert!(eval_stderr(&missing).contains("normalizers.json"));
}

/// `rl envs` says which envs state their reward as a known function r(s, a): Pendulum-v1 only.
#[test]
fn rl_envs_lists_the_known_reward() {
    let dir = tempfile::tempdir().unwrap();
    let envs = String::from_utf8(rl(&["envs"], dir.path()).stdout).unwrap();
    assert_eq!(envs.matches("known r(s, a)").count(), 1, "{envs}");
    let pendulum = envs
        .split("Pendulum-v1  (")
        .nth(1)
        .expect("Pendulum-v1 listed");
    let entry: Vec<&str> = pendulum
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .collect();
    assert!(
        entry
            .iter()
            .any(|l| l.contains("reward:      known r(s, a) = −(θ² + 0.1 θ̇² + 0.001 u²)")),
        "{entry:?}"
    );
}

#[test]
fn bad_mbpo_keys_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mbpo = common::experiment("mbpo_pendulum.toml");
    let cases = [
        ("algo.ensemble_size=0", "ensemble_size"),
        ("algo.num_elites=8", "num_elites"),
        ("algo.real_ratio=1.5", "real_ratio"),
        ("algo.utd_ratio=0", "utd_ratio"),
        ("algo.holdout_ratio=1.0", "holdout_ratio"),
        ("algo.rollout_min_length=0", "rollout_min_length"),
        ("algo.rollout_max_epoch=1", "rollout_max_epoch"),
        ("env.id=CartPole-v1", "env.id"),
        ("env.id=MountainCarContinuous-v0", "env.id"),
    ];
    for (set, key) in cases {
        let result = rl(&["validate", &mbpo, "--set", set], dir.path());
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{set}: {stderr}");
        assert!(
            stderr.contains(key),
            "{set}: the message names {key}: {stderr}"
        );
    }
}

/// 300 random steps, then a fit every 200 steps: the elites' one-step error on held-out
/// transitions is small (0.04 on seed 0; about 1.4 after too few gradient steps), and the rollouts follow the schedule [1, 3, 1, 5] over epochs of 200
/// steps (k = 1, 3, 5 at steps 300, 500, 700: 200 + 600 + 1,000 model transitions).
#[test]
fn mbpo_fits_its_ensemble_and_branches_scheduled_rollouts() {
    let out = tempfile::tempdir().unwrap();
    let extra = [
        "--seeds",
        "0",
        "--set",
        "experiment.total_steps=700",
        "--set",
        "experiment.eval_every=700",
        "--set",
        "experiment.eval_episodes=1",
        "--set",
        "algo.init_exploration_steps=300",
        "--set",
        "algo.model_train_freq=200",
        "--set",
        "algo.model_net_arch=[64, 64]",
        "--set",
        "algo.rollout_batch_size=200",
        "--set",
        "algo.epoch_length=200",
        "--set",
        "algo.rollout_max_epoch=3",
        "--set",
        "algo.utd_ratio=1",
        "--set",
        "algo.batch_size=64",
        "--set",
        "algo.model_batch_size=32",
        "--set",
        "algo.model_epochs=10",
    ];
    run_experiment("mbpo_pendulum.toml", out.path(), &extra);
    let seed = out.path().join("mbpo_pendulum/seed_0");
    let holdout = final_value(&seed, "model_mse_holdout");
    assert!(holdout < 0.1, "elites' held-out one-step error {holdout}");
    assert!(
        final_value(&seed, "disagreement") > 0.0,
        "bootstraps differ"
    );
    assert_eq!(final_value(&seed, "rollout_length"), 5.0);
    assert_eq!(final_value(&seed, "model_steps"), 1800.0 / 700.0);
    for column in ["loss_q", "q_mean", "alpha"] {
        let value = final_value(&seed, column);
        assert!(value.is_finite(), "{column} = {value}");
    }
}
