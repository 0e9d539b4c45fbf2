//! Learning tests: the shipped tabular experiments, run as a user runs them, must cross the
//! thresholds of Sutton & Barto and gymnasium on (nearly) every seed. Run optimised:
//! `cargo test --release`.

use crate::common::{final_eval, run_experiment};

/// Final greedy returns of seeds 0..5 of a shipped experiment.
fn final_returns(experiment: &str) -> Vec<f64> {
    let out = tempfile::tempdir().unwrap();
    run_experiment(experiment, out.path(), &[]);
    let name = experiment.trim_end_matches(".toml");
    (0..5)
        .map(|seed| final_eval(&out.path().join(format!("{name}/seed_{seed}"))))
        .collect()
}

#[test]
fn q_learning_finds_the_optimal_cliff_path() {
    let returns = final_returns("q_learning_cliffwalking.toml");
    assert!(
        returns.iter().all(|r| *r == -13.0),
        "greedy returns {returns:?}, want −13 on every seed"
    );
}

#[test]
fn sarsa_learns_the_safe_path() {
    let returns = final_returns("sarsa_cliffwalking.toml");
    let safe = returns
        .iter()
        .filter(|r| **r == -15.0 || **r == -17.0)
        .count();
    assert!(
        safe >= 4,
        "greedy returns {returns:?}, want the safe path (−15 or −17) on ≥ 4/5 seeds"
    );
}

#[test]
fn value_iteration_solves_slippery_frozenlake() {
    let returns = final_returns("value_iteration_frozenlake.toml");
    assert!(
        returns.iter().all(|r| *r >= 0.70),
        "success rates {returns:?}, want ≥ 0.70 on every seed"
    );
}

#[test]
fn soft_value_iteration_with_a_small_temperature_solves_slippery_frozenlake() {
    let returns = final_returns("soft_value_iteration_frozenlake.toml");
    assert!(
        returns.iter().all(|r| *r >= 0.70),
        "success rates {returns:?}, want ≥ 0.70 on every seed"
    );
}

#[test]
fn fitted_q_iteration_solves_taxi_from_uniform_data() {
    let returns = final_returns("fqi_taxi.toml");
    assert!(
        returns.iter().all(|r| *r >= 7.5),
        "mean returns {returns:?}, want ≥ 7.5 on every seed"
    );
}

#[test]
fn policy_iteration_solves_taxi() {
    let returns = final_returns("policy_iteration_taxi.toml");
    assert!(
        returns.iter().all(|r| *r >= 7.5),
        "mean returns {returns:?}, want ≥ 7.5 on every seed"
    );
}

#[test]
fn q_learning_solves_taxi_within_100k_steps() {
    let returns = final_returns("q_learning_taxi.toml");
    assert!(
        returns.iter().all(|r| *r >= 7.5),
        "mean returns {returns:?}, want ≥ 7.5 on every seed"
    );
}

#[test]
fn sarsa_lambda_solves_taxi_within_200k_steps() {
    let returns = final_returns("sarsa_lambda_taxi.toml");
    assert!(
        returns.iter().all(|r| *r >= 7.5),
        "mean returns {returns:?}, want ≥ 7.5 on every seed"
    );
}

#[test]
fn expected_sarsa_learns_slippery_frozenlake() {
    let returns = final_returns("expected_sarsa_frozenlake.toml");
    let solved = returns.iter().filter(|r| **r >= 0.70).count();
    assert!(
        solved >= 4,
        "success rates {returns:?}, want ≥ 0.70 on ≥ 4/5 seeds"
    );
}
