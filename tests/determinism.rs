//! A seed's results depend on its seed only: run alone or beside other seeds on several
//! threads (and planners' rollouts on rayon's), it writes identical curve.csv and episodes.csv
//! apart from wall-clock columns.

mod common;

use common::{run_experiment, without_wall_clock};

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
