//! NPG and TRPO end to end: a short seeded TRPO run on CartPole must learn (the shipped file on
//! a small budget), and an NPG run on Pendulum must take its steps and finish.

use crate::common::{final_eval, final_value, run_experiment};

/// TRPO with the shipped CartPole settings, seed 0, 30k steps (about 30 s): the greedy policy
/// balances the pole for ≥ 450 of the 500 steps (it reaches 500; the untrained greedy policy of
/// this seed lasts 136, a random one about 20).
#[test]
fn trpo_learns_cartpole_in_a_small_budget() {
    let out = tempfile::tempdir().unwrap();
    run_experiment(
        "trpo_cartpole.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            "experiment.total_steps=30720",
            "--set",
            "experiment.eval_every=10240",
        ],
    );
    let seed = out.path().join("trpo_cartpole/seed_0");
    let ret = final_eval(&seed);
    assert!(ret >= 450.0, "final greedy return {ret}, want ≥ 450");
    // The line search kept every accepted step inside the trust region.
    let kl = final_value(&seed, "kl");
    assert!((0.0..0.01).contains(&kl), "KL of the last step {kl}");
}

/// NPG's fixed steps on a short Pendulum run: each update steps (no line search to refuse), and
/// the KL of the step is of the order of δ.
#[test]
fn npg_takes_a_kl_sized_step_every_update() {
    let out = tempfile::tempdir().unwrap();
    run_experiment(
        "npg_pendulum.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            "experiment.total_steps=8192",
            "--set",
            "experiment.eval_every=4096",
            "--set",
            "experiment.eval_episodes=2",
        ],
    );
    let seed = out.path().join("npg_pendulum/seed_0");
    assert_eq!(final_value(&seed, "step_accepted"), 1.0);
    let kl = final_value(&seed, "kl");
    assert!(
        kl > 0.001 && kl < 0.05,
        "KL of the last step {kl}, δ = 0.01"
    );
}
