//! GAIL and AIRL from a short PPO expert made here: GAIL learns CartPole from the
//! discriminator's reward alone, AIRL runs and its policy is rebuilt by `rl eval`, and bad
//! demonstrations (a dataset of another env, an expert folder that is not a finished run) exit
//! 2 naming the file and the reason, with nothing written. Run optimised.

use std::path::{Path, PathBuf};

use rl::record::dataset::Dataset;

use crate::common::{final_eval, final_value, rl, run_experiment, short_ppo_cartpole_expert};

/// A short PPO CartPole expert (10,240 steps) in `out` and a 5-episode dataset of it.
fn expert(out: &Path) -> (PathBuf, PathBuf) {
    let dir = short_ppo_cartpole_expert(out);
    let file = out.join("ppo.csv");
    let result = rl(
        &[
            "collect",
            dir.to_str().unwrap(),
            "--episodes",
            "5",
            "--out",
            file.to_str().unwrap(),
        ],
        out,
    );
    assert!(result.status.success(), "{result:?}");
    (dir, file)
}

/// GAIL on 5 expert episodes reaches 0.8 × the expert's return within 20,480 env steps,
/// never having seen the env's reward; AIRL runs on the expert folder, records the
/// discriminator's columns, and `rl eval` rebuilds both imitators.
#[test]
fn gail_learns_cartpole_from_the_discriminator_and_airl_runs() {
    let out = tempfile::tempdir().unwrap();
    let (dir, file) = expert(out.path());
    let returns = Dataset::read(&file).unwrap().meta.returns;
    let expert_return = returns.iter().sum::<f64>() / returns.len() as f64;
    let dataset = format!("algo.dataset=\"{}\"", file.display());
    run_experiment(
        "gail_cartpole.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            &dataset,
            "--set",
            "algo.episodes=5",
            "--set",
            "experiment.total_steps=20480",
            "--set",
            "experiment.eval_every=10240",
            "--set",
            "expect.seeds_passing=1",
        ],
    );
    let gail = out.path().join("gail_cartpole/seed_0");
    let got = final_eval(&gail);
    assert!(
        got >= 0.8 * expert_return.min(500.0),
        "GAIL {got} vs the expert's {expert_return}"
    );
    let expert = format!("algo.expert=\"{}\"", dir.display());
    run_experiment(
        "airl_cartpole.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            &expert,
            "--set",
            "algo.episodes=2",
            "--set",
            "experiment.total_steps=4096",
            "--set",
            "experiment.eval_every=2048",
            "--set",
            "expect.seeds_passing=1",
        ],
    );
    let airl = out.path().join("airl_cartpole/seed_0");
    for column in ["loss_disc", "disc_expert", "disc_policy", "disc_reward"] {
        assert!(final_value(&airl, column).is_finite(), "{column}");
    }
    for dir in [&gail, &airl] {
        let result = rl(
            &["eval", dir.to_str().unwrap(), "--episodes", "1"],
            out.path(),
        );
        assert!(result.status.success(), "{result:?}");
    }
}

/// A CartPole dataset given to GAIL on Pendulum, and an expert folder that is not a finished
/// run: exit 2, the file and the reason named, nothing written.
#[test]
fn bad_demonstrations_exit_2_with_nothing_written() {
    let out = tempfile::tempdir().unwrap();
    let (_, file) = expert(out.path());
    let unfinished = out.path().join("unfinished");
    std::fs::create_dir_all(&unfinished).unwrap();
    let results = out.path().join("results");
    let cases = [
        (
            "gail_pendulum.toml",
            format!("algo.dataset=\"{}\"", file.display()),
            file.clone(),
            "does not fit",
        ),
        (
            "airl_cartpole.toml",
            format!("algo.expert=\"{}\"", unfinished.display()),
            unfinished.clone(),
            "make experts",
        ),
    ];
    for (name, set, path, reason) in cases {
        let config = crate::common::experiment(name);
        let result = rl(
            &[
                "run",
                &config,
                "-q",
                "--out",
                results.to_str().unwrap(),
                "--set",
                &set,
            ],
            out.path(),
        );
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(&path.display().to_string()) && stderr.contains(reason),
            "{name}: {stderr}"
        );
        assert!(!results.exists(), "{name} wrote {}", results.display());
    }
}
