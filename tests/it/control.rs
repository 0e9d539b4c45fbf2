//! Optimal-control tests: the shipped LQR and iLQR experiments, run as a user runs them, must
//! reach the Riccati optimum and swing the pendulum up. Run optimised: `cargo test --release`.

use crate::common;

use std::path::Path;

use crate::common::{final_eval, final_value, rl, run_experiment};

/// Runs a shipped experiment (seeds 0..5) and returns the seed folders.
fn run(experiment: &str, out: &Path) -> Vec<std::path::PathBuf> {
    run_experiment(experiment, out, &[]);
    let name = experiment.trim_end_matches(".toml");
    (0..5)
        .map(|seed| out.join(format!("{name}/seed_{seed}")))
        .collect()
}

/// Finite-horizon LQR over the whole 200-step episode is the exact optimum of the linear env:
/// every return equals −x₀ᵀP₀x₀ from the Riccati recursion, so their means over the 10
/// evaluation episodes agree to rounding.
#[test]
fn lqr_reaches_the_analytic_optimal_cost_on_the_double_integrator() {
    let out = tempfile::tempdir().unwrap();
    for seed_dir in run("lqr_double_integrator.toml", out.path()) {
        let achieved = final_eval(&seed_dir);
        let predicted = final_value(&seed_dir, "predicted_return");
        assert!(
            (achieved - predicted).abs() <= 1e-9 * predicted.abs() && achieved < 0.0,
            "{}: return {achieved} vs optimum {predicted}",
            seed_dir.display()
        );
    }
}

/// gymnasium's Pendulum-v1 threshold: a mean return ≥ −200 over 10 episodes from its reset
/// distribution, on every seed.
#[test]
fn ilqr_mpc_swings_up_the_pendulum() {
    let out = tempfile::tempdir().unwrap();
    let seeds = run("ilqr_pendulum.toml", out.path());
    let returns: Vec<f64> = seeds.iter().map(|d| final_eval(d)).collect();
    assert!(
        returns.iter().all(|r| *r >= -200.0),
        "mean returns {returns:?}, want ≥ −200 on every seed"
    );
    for seed_dir in &seeds {
        assert!(final_value(seed_dir, "plan_ms") > 0.0);
        assert!(final_value(seed_dir, "sim_steps") > 0.0);
    }
}

#[test]
fn control_needs_continuous_spaces() {
    let dir = tempfile::tempdir().unwrap();
    for experiment in ["lqr_double_integrator.toml", "ilqr_pendulum.toml"] {
        let config = common::experiment(experiment);
        let result = rl(
            &["validate", &config, "--set", "env.id=CartPole-v1"],
            dir.path(),
        );
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("CartPole-v1") && stderr.contains("continuous"),
            "{stderr}"
        );
    }
}

/// LQR regulates about an equilibrium; a point the env drifts away from is refused.
#[test]
fn lqr_refuses_a_point_that_is_not_an_equilibrium() {
    let out = tempfile::tempdir().unwrap();
    let config = common::experiment("lqr_double_integrator.toml");
    let result = rl(
        &[
            "run",
            &config,
            "-q",
            "--seeds",
            "0",
            "--out",
            out.path().to_str().unwrap(),
            "--set",
            "algo.equilibrium_state=[1.0, 1.0]",
        ],
        out.path(),
    );
    assert_eq!(result.status.code(), Some(1));
    let meta =
        std::fs::read_to_string(out.path().join("lqr_double_integrator/seed_0/meta.json")).unwrap();
    assert!(
        meta.contains("not an equilibrium of DoubleIntegrator-v0"),
        "{meta}"
    );
}
