//! ACER end to end: a short seeded CartPole run must learn, and bad input is refused before
//! anything is written.

use crate::common::{experiment, final_eval, final_value, rl, run_experiment};

/// ACER with the shipped CartPole settings, seed 0, 60k steps (about 5 s): the greedy policy
/// balances the pole for ≥ 250 steps (it reaches 269; the untrained greedy policy of this seed
/// lasts 136, a random one about 22) and the training episodes average ≥ 100 (115; random: 22).
#[test]
fn acer_learns_cartpole_in_a_small_budget() {
    let out = tempfile::tempdir().unwrap();
    run_experiment(
        "acer_cartpole.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            "experiment.total_steps=60000",
            "--set",
            "experiment.eval_every=10000",
        ],
    );
    let seed = out.path().join("acer_cartpole/seed_0");
    let ret = final_eval(&seed);
    assert!(ret >= 250.0, "final greedy return {ret}, want ≥ 250");
    let train = final_value(&seed, "train_return_mean");
    assert!(train >= 100.0, "training return {train}, want ≥ 100");
    // The replayed segments are off-policy: some importance weights are truncated below 1.
    let rho_bar = final_value(&seed, "rho_bar");
    assert!(rho_bar > 0.5 && rho_bar < 1.0, "mean c̄ {rho_bar}");
}

/// A continuous-action env and out-of-range keys exit 2 naming the key; nothing is written.
#[test]
fn bad_input_is_refused() {
    let config = experiment("acer_cartpole.toml");
    for (set, key) in [
        ("env.id=Pendulum-v1", "discrete-only"),
        ("algo.delta=0", "delta"),
        ("algo.correction_term=-1", "correction_term"),
        ("algo.alpha=1.5", "alpha"),
        ("algo.replay_ratio=-1", "replay_ratio"),
        ("algo.replay_start=6000", "replay_start"),
        ("algo.buffer_size=10", "buffer_size"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let args = [
            "run",
            &config,
            "--out",
            out.path().to_str().unwrap(),
            "--set",
            set,
        ];
        let result = rl(&args, out.path());
        let err = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{set}: {err}");
        assert!(err.contains(key), "{set}: {err}");
        assert!(
            !out.path().join("acer_cartpole").exists(),
            "{set}: results written"
        );
    }
}
