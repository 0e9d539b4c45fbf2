//! A seed's results depend on its seed only: run alone or beside other seeds on several
//! threads (and planners' rollouts on rayon's), it writes identical curve.csv and episodes.csv
//! apart from wall-clock columns.

use crate::common::{run_experiment, without_wall_clock};

fn check(experiment: &str, extra: &[&str]) {
    let alone = tempfile::tempdir().unwrap();
    let crowd = tempfile::tempdir().unwrap();
    let mut args = vec!["--seeds", "3"];
    args.extend_from_slice(extra);
    run_experiment(experiment, alone.path(), &args);
    let mut args = vec!["--seeds", "0..4", "--jobs", "2"];
    args.extend_from_slice(extra);
    run_experiment(experiment, crowd.path(), &args);
    let name = experiment.trim_end_matches(".toml");
    for file in ["curve.csv", "episodes.csv"] {
        let a = without_wall_clock(&alone.path().join(format!("{name}/seed_3/{file}")));
        let b = without_wall_clock(&crowd.path().join(format!("{name}/seed_3/{file}")));
        if file == "curve.csv" {
            assert!(a.len() >= 2, "{file} has rows");
        }
        assert_eq!(
            a, b,
            "{experiment}: seed 3's {file} differs between a solo and a parallel run"
        );
    }
    let other = without_wall_clock(&crowd.path().join(format!("{name}/seed_2/curve.csv")));
    let own = without_wall_clock(&crowd.path().join(format!("{name}/seed_3/curve.csv")));
    assert_ne!(other, own, "different seeds give different curves");
}

#[test]
fn q_learning_taxi_is_deterministic() {
    check(
        "q_learning_taxi.toml",
        &["--set", "experiment.total_steps=20000"],
    );
}

#[test]
fn sarsa_lambda_on_slippery_frozenlake_is_deterministic() {
    check(
        "expected_sarsa_frozenlake.toml",
        &[
            "--set",
            "algo.name=sarsa_lambda",
            "--set",
            "experiment.total_steps=20000",
            "--set",
            "experiment.eval_episodes=50",
        ],
    );
}

#[test]
fn planners_are_deterministic_with_parallel_rollouts() {
    check(
        "cem_pendulum.toml",
        &["--set", "experiment.eval_episodes=2"],
    );
    check(
        "mcts_cartpole.toml",
        &[
            "--set",
            "experiment.eval_episodes=1",
            "--set",
            "algo.simulations=100",
        ],
    );
}

/// PPO on the two CPU backends: parameter init from the run's stream, actions sampled on the
/// CPU, minibatches shuffled by the run's stream.
#[test]
fn ppo_is_deterministic_on_flex_and_ndarray() {
    for backend in ["flex", "ndarray"] {
        check(
            "ppo_cartpole.toml",
            &[
                "--backend",
                backend,
                "--set",
                "experiment.total_steps=4096",
                "--set",
                "experiment.eval_every=2048",
                "--set",
                "algo.n_epochs=4",
            ],
        );
    }
}

#[test]
fn a2c_with_continuous_actions_is_deterministic() {
    check(
        "a2c_cartpole.toml",
        &[
            "--set",
            "env.id=Pendulum-v1",
            "--set",
            "experiment.total_steps=4000",
            "--set",
            "experiment.eval_every=2000",
            "--set",
            "experiment.eval_episodes=2",
        ],
    );
}

/// DQN (prioritised, n-step, double, dueling) and SAC on ndarray: replay sampling, exploration
/// and SAC's reparameterisation noise all come from the run's streams.
#[test]
fn off_policy_methods_are_deterministic_on_ndarray() {
    check(
        "dqn_cartpole_rainbow.toml",
        &[
            "--backend",
            "ndarray",
            "--set",
            "experiment.total_steps=3000",
            "--set",
            "experiment.eval_every=1500",
            "--set",
            "experiment.eval_episodes=2",
            "--set",
            "algo.gradient_steps=16",
        ],
    );
    check(
        "sac_pendulum.toml",
        &[
            "--backend",
            "ndarray",
            "--set",
            "experiment.total_steps=600",
            "--set",
            "experiment.eval_every=300",
            "--set",
            "experiment.eval_episodes=1",
            "--set",
            "algo.policy.net_arch=[32, 32]",
        ],
    );
}
