//! Imitation from rl's own runs: `rl collect` datasets (round trip, the returns `rl eval` reports),
//! behavioural cloning and DAgger on a short PPO expert, MaxEnt IRL on a value-iteration expert,
//! and the bad inputs that must exit 2 with nothing written. Short tiny experts; run optimised.

use std::path::{Path, PathBuf};

use rl::record::dataset::{ActionSpace, Dataset, meta_path};

use crate::common::{final_value, read_csv, rl, run_experiment, short_ppo_cartpole_expert};

/// Trains a short PPO CartPole expert (10,240 steps) and a value-iteration FrozenLake expert
/// into `out`; returns their seed folders.
fn experts(out: &Path) -> (PathBuf, PathBuf) {
    let ppo = short_ppo_cartpole_expert(out);
    run_experiment("value_iteration_frozenlake.toml", out, &["--seeds", "0"]);
    (ppo, out.join("value_iteration_frozenlake/seed_0"))
}

fn stdout(args: &[&str], cwd: &Path) -> String {
    let result = rl(args, cwd);
    assert!(
        result.status.success(),
        "rl {args:?}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    String::from_utf8_lossy(&result.stdout).into_owned()
}

/// The `return mean` of `rl eval`'s output.
fn eval_mean(text: &str) -> f64 {
    let at = text.find("return mean ").expect("a mean") + "return mean ".len();
    text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `rl collect` writes what Rust reads back: the documented columns, one row per step, episode
/// returns in the sidecar equal to the rows' rewards and to `rl eval`'s mean on the same seed.
#[test]
fn collect_round_trips_and_its_returns_are_rl_evals() {
    let out = tempfile::tempdir().unwrap();
    let (ppo, vi) = experts(out.path());
    for (dir, episodes, obs_dim) in [(&ppo, 3, 4), (&vi, 50, 1)] {
        let file = out.path().join("data").join("d.csv");
        let (dir, file_s) = (dir.to_str().unwrap(), file.to_str().unwrap());
        let n = episodes.to_string();
        let said = stdout(
            &[
                "collect",
                dir,
                "--episodes",
                &n,
                "--out",
                file_s,
                "--seed",
                "7",
            ],
            out.path(),
        );
        assert!(said.contains(file_s), "{said}");
        let data = Dataset::read(&file).unwrap();
        assert_eq!(data.meta.episodes, episodes);
        assert_eq!(data.meta.observation_dim, obs_dim);
        assert_eq!(
            data.meta.action_space,
            ActionSpace::Discrete(if obs_dim == 4 { 2 } else { 4 })
        );
        let mut by_episode = vec![0.0f64; episodes];
        for i in 0..data.len() {
            by_episode[data.episode[i] as usize] += f64::from(data.rewards[i]);
        }
        for (a, b) in by_episode.iter().zip(&data.meta.returns) {
            assert!(
                (a - b).abs() < 1e-4,
                "{by_episode:?} vs {:?}",
                data.meta.returns
            );
        }
        let header = &read_csv(&file)[0];
        assert_eq!(header[..3], ["episode", "step", "obs_0"]);
        assert_eq!(header.last().unwrap(), "truncated");
        let eval = stdout(&["eval", dir, "--episodes", &n, "--seed", "7"], out.path());
        let mean = data.meta.returns.iter().sum::<f64>() / episodes as f64;
        assert!(
            (eval_mean(&eval) - mean).abs() < 1e-3,
            "collect {mean} vs eval {eval}"
        );
        // Episodes end with the env's own flags: the last step of each is terminated or truncated.
        for i in 0..data.len() {
            let last = i + 1 == data.len() || data.episode[i + 1] != data.episode[i];
            assert_eq!(last, data.terminated[i] || data.truncated[i], "row {i}");
        }
    }
}

/// BC learns from a dataset file (its validation loss falls); DAgger queries the expert folder,
/// counts every visited state as an expert label, and both match a PPO expert on CartPole.
#[test]
fn bc_and_dagger_learn_from_a_short_ppo_expert() {
    let out = tempfile::tempdir().unwrap();
    let (ppo, _) = experts(out.path());
    let file = out.path().join("ppo.csv");
    stdout(
        &[
            "collect",
            ppo.to_str().unwrap(),
            "--episodes",
            "5",
            "--out",
            file.to_str().unwrap(),
        ],
        out.path(),
    );
    let returns = Dataset::read(&file).unwrap().meta.returns;
    let expert_return = returns.iter().sum::<f64>() / returns.len() as f64;
    let dataset = format!("algo.dataset=\"{}\"", file.display());
    run_experiment(
        "bc_cartpole.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            &dataset,
            "--set",
            "algo.episodes=5",
            "--set",
            "experiment.total_steps=1500",
            // One seed of the five the shipped [expect] counts on.
            "--set",
            "expect.seeds_passing=1",
        ],
    );
    let bc = out.path().join("bc_cartpole/seed_0");
    let rows = read_csv(&bc.join("curve.csv"));
    let col = rows[0].iter().position(|c| c == "val_loss").unwrap();
    let first: f64 = rows[1][col].parse().unwrap();
    let last: f64 = rows.last().unwrap()[col].parse().unwrap();
    assert!(last < 0.5 * first, "val_loss {first} → {last}");
    let expert = format!("algo.expert=\"{}\"", ppo.display());
    run_experiment(
        "dagger_cartpole.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            &expert,
            "--set",
            "experiment.total_steps=3000",
            "--set",
            "experiment.eval_every=1000",
            "--set",
            "expect.seeds_passing=1",
        ],
    );
    let dagger = out.path().join("dagger_cartpole/seed_0");
    assert_eq!(final_value(&dagger, "expert_labels"), 3000.0);
    for dir in [&bc, &dagger] {
        let got = final_value(dir, "eval_return_mean");
        assert!(
            got >= 0.8 * expert_return.min(500.0),
            "{}: {got} vs the expert's {expert_return}",
            dir.display()
        );
        // `rl eval` rebuilds the imitator from its folder.
        stdout(
            &["eval", dir.to_str().unwrap(), "--episodes", "1"],
            out.path(),
        );
    }
}

/// MaxEnt IRL from a value-iteration expert's exact visitation: the optimal policy under the
/// recovered reward earns ≥ 0.95 of the expert's (optimal) return, exactly computed.
#[test]
fn maxent_irl_recovers_a_reward_as_good_as_the_experts() {
    let out = tempfile::tempdir().unwrap();
    let (_, vi) = experts(out.path());
    let expert = format!("algo.expert=\"{}\"", vi.display());
    run_experiment(
        "maxent_irl_gridworld.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            &expert,
            "--set",
            "experiment.total_steps=200",
            "--set",
            "experiment.eval_episodes=100",
        ],
    );
    let dir = out.path().join("maxent_irl_gridworld/seed_0");
    let (irl, expert) = (
        final_value(&dir, "irl_return"),
        final_value(&dir, "expert_return"),
    );
    assert!(irl >= 0.95 * expert, "{irl} vs {expert}");
    assert!(final_value(&dir, "svf_error") < 0.2);
    assert!(dir.join("reward.json").is_file());
}

/// Bad input exits 2, names the file and the reason, and writes nothing: a dataset of another
/// env, an empty or truncated dataset, an expert folder that is not a finished run.
#[test]
fn bad_datasets_and_experts_exit_2_with_nothing_written() {
    let out = tempfile::tempdir().unwrap();
    let (_, vi) = experts(out.path());
    let root = out.path();
    let frozen = root.join("frozen.csv");
    stdout(
        &[
            "collect",
            vi.to_str().unwrap(),
            "--episodes",
            "2",
            "--out",
            frozen.to_str().unwrap(),
        ],
        root,
    );
    let text = std::fs::read_to_string(&frozen).unwrap();
    let cut = root.join("cut.csv");
    std::fs::write(&cut, &text[..text.len() - 4]).unwrap();
    std::fs::copy(meta_path(&frozen), meta_path(&cut)).unwrap();
    let empty = root.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    std::fs::copy(meta_path(&frozen), meta_path(&empty)).unwrap();
    let unfinished = root.join("unfinished");
    std::fs::create_dir_all(&unfinished).unwrap();

    let results = root.join("results");
    let config = crate::common::experiment("bc_cartpole.toml");
    let maxent = crate::common::experiment("maxent_irl_gridworld.toml");
    let cases: Vec<(Vec<String>, &Path, &str)> = vec![
        (
            vec![
                config.clone(),
                format!("algo.dataset=\"{}\"", frozen.display()),
            ],
            frozen.as_path(),
            "does not fit",
        ),
        (
            vec![
                maxent.clone(),
                format!("algo.dataset=\"{}\"", cut.display()),
            ],
            cut.as_path(),
            "truncated",
        ),
        (
            vec![
                maxent.clone(),
                format!("algo.dataset=\"{}\"", empty.display()),
            ],
            empty.as_path(),
            "empty",
        ),
        (
            vec![
                config.clone(),
                format!("algo.expert=\"{}\"", unfinished.display()),
            ],
            unfinished.as_path(),
            "make experts",
        ),
    ];
    for (args, file, reason) in cases {
        let result = rl(
            &[
                "run",
                &args[0],
                "-q",
                "--out",
                results.to_str().unwrap(),
                "--set",
                &args[1],
            ],
            root,
        );
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&file.display().to_string()) && stderr.contains(reason),
            "{args:?}: {stderr}"
        );
        assert!(!results.exists(), "{args:?} wrote {}", results.display());
    }
    // `rl collect` from a folder that is not a finished run, or to a bad noise.
    let data = root.join("never.csv");
    for args in [
        vec![
            "collect",
            unfinished.to_str().unwrap(),
            "--out",
            data.to_str().unwrap(),
        ],
        vec![
            "collect",
            vi.to_str().unwrap(),
            "--out",
            data.to_str().unwrap(),
            "--noise",
            "2",
        ],
    ] {
        let result = rl(&args, root);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!data.exists() && !meta_path(&data).exists(), "{args:?}");
    }
    let result = rl(
        &[
            "collect",
            unfinished.to_str().unwrap(),
            "--out",
            data.to_str().unwrap(),
        ],
        root,
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(&unfinished.display().to_string()) && stderr.contains("make experts"),
        "{stderr}"
    );
}
