//! Algorithms below the runner: a neural and a tabular algorithm train through a [`Session`]
//! over the in-memory recorder, with no result folder, and still cross their thresholds.

use burn::prelude::Device;
use rl::config::load;
use rl::session::{MemoryRecorder, Session};

/// Trains seed `seed` of a shipped experiment (with `--set` overrides) in memory.
fn train_in_memory(file: &str, seed: u64, overrides: &[&str]) -> MemoryRecorder {
    let path = format!("{}/experiments/{file}", env!("CARGO_MANIFEST_DIR"));
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let exp = load(std::path::Path::new(&path), &overrides).unwrap_or_else(|e| panic!("{e}"));
    let spec = exp.run_spec(seed, Device::flex());
    let mut recorder = MemoryRecorder::default();
    let mut session = Session::new(&spec, &mut recorder, None).unwrap();
    exp.algo.train(&mut session).unwrap();
    session.close().unwrap();
    drop(session);
    recorder
}

#[test]
fn q_learning_trains_in_memory_to_the_optimal_cliff_path() {
    let recorder = train_in_memory("q_learning_cliffwalking.toml", 0, &[]);
    assert_eq!(recorder.diagnostics, ["epsilon", "td_error"]);
    assert_eq!(recorder.final_eval(), Some(-13.0));
    assert!(!recorder.episodes.is_empty());
    assert!(recorder.artifacts.contains_key("policy.json"));
}

/// 30k steps (the schedule annealed over them): seed 0 reaches 497.9. At 20k it reached 325
/// before the host-side PPO update and 239 after it (the mean of seeds 0–4 rose from 213 to
/// 366): one seed's 20k point moves with float rounding, so the budget has a margin.
#[test]
fn ppo_trains_in_memory_on_cartpole() {
    let recorder = train_in_memory(
        "ppo_cartpole.toml",
        0,
        &[
            "experiment.total_steps=30000",
            "experiment.eval_every=10000",
        ],
    );
    // The last evaluation falls after the rollout (8 envs × 32 steps) that crosses 30k.
    let steps: Vec<u64> = recorder.curve.iter().map(|r| r.step).collect();
    assert_eq!(steps, [0, 10_000, 20_000, 30_208]);
    let first = recorder.curve[0].eval_returns.iter().sum::<f64>() / 10.0;
    let last = recorder.final_eval().unwrap();
    assert!(
        last >= 250.0 && last > first + 100.0,
        "PPO CartPole after 30k steps: {last} (untrained {first})"
    );
    assert!(!recorder.artifacts["model.bpk"].is_empty());
}
