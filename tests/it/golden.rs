//! Golden curves: a short budget of every shipped experiment must reproduce, value for value,
//! the `curve.csv` and `episodes.csv` committed in `tests/golden/` (wall-clock columns aside).
//! They were written by the code before the algorithm-seam refactor, so any change of behaviour
//! (an RNG draw moved, an update reordered, a default changed) shows up here.
//!
//! `RL_BLESS=1 cargo test --release --test it golden::` rewrites the files of this machine's SIMD
//! class after an intended change (see `golden_dir`: both classes must be rewritten); say why in
//! the commit. `RL_GOLDEN_ONLY=ppo_cartpole,dppo_pendulum` restricts the test to those files.

use crate::common;

use std::path::{Path, PathBuf};

use crate::common::{experiment, run_experiment, without_wall_clock};

/// The short budget of one shipped experiment: seeds and `--set` overrides by algorithm family.
fn budget(algo: &str) -> (&'static str, Vec<&'static str>) {
    let learner = |steps: &'static str, every: &'static str| {
        vec![
            "experiment.backend=flex",
            steps,
            every,
            "experiment.eval_episodes=2",
            "env.max_episode_steps=100",
        ]
    };
    match algo {
        // Dynamic programming counts sweeps.
        "value_iteration" | "policy_iteration" | "soft_value_iteration" | "fitted_q_iteration" => (
            "0..2",
            vec![
                "experiment.total_steps=6",
                "experiment.eval_every=2",
                "experiment.eval_episodes=5",
            ],
        ),
        "q_learning"
        | "sarsa"
        | "expected_sarsa"
        | "sarsa_lambda"
        | "dyna_q"
        | "successor_representation"
        | "successor_features" => (
            "0..2",
            vec![
                "experiment.total_steps=3000",
                "experiment.eval_every=1000",
                "experiment.eval_episodes=5",
            ],
        ),
        // Bandits: 200 seeds each when shipped; a few short ones here.
        "epsilon_greedy" | "ucb" | "thompson" | "gradient_bandit" => (
            "0..3",
            vec![
                "experiment.total_steps=2000",
                "experiment.eval_every=500",
                "experiment.eval_episodes=5",
            ],
        ),
        "random_shooting" | "cem" | "mcts" | "lqr" | "ilqr" => (
            "0..2",
            vec!["experiment.eval_episodes=1", "env.max_episode_steps=12"],
        ),
        "reinforce" | "a2c" | "ppo" | "npg" | "trpo" => (
            "0",
            learner("experiment.total_steps=4096", "experiment.eval_every=2048"),
        ),
        // Adversarial imitation: a few PPO rollouts on two expert episodes' discriminator.
        "gail" | "airl" => {
            let mut set = learner("experiment.total_steps=4096", "experiment.eval_every=2048");
            set.push("algo.episodes=2");
            ("0", set)
        }
        "dppo" => (
            "0",
            learner("experiment.total_steps=4096", "experiment.eval_every=2048"),
        ),
        // Q-Prop: TRPO's budget, 50 critic steps per rollout.
        "qprop" => {
            let mut set = learner("experiment.total_steps=4096", "experiment.eval_every=2048");
            set.push("algo.critic_gradient_steps=50");
            ("0", set)
        }
        // ACER: 20 segments, replay from the fifth on.
        "acer" => {
            let mut set = learner("experiment.total_steps=3200", "experiment.eval_every=1600");
            set.push("algo.replay_start=100");
            ("0", set)
        }
        // Several asynchronous workers are not reproducible; one is.
        "a3c" => {
            let mut set = learner("experiment.total_steps=4096", "experiment.eval_every=2048");
            set.push("algo.workers=1");
            ("0", set)
        }
        // Rounds of regression on a small dataset of the expert made by `expert`.
        "neural_fitted_q" => (
            "0",
            vec![
                "experiment.backend=flex",
                "experiment.total_steps=4",
                "experiment.eval_every=2",
                "experiment.eval_episodes=2",
                "env.max_episode_steps=100",
                "algo.dataset_size=500",
                "algo.gradient_steps=10",
            ],
        ),
        "dqn" | "ddpg" | "td3" | "sac" | "offpolicy_ac" | "soft_dqn" | "naf" | "diayn" => {
            let mut set = learner("experiment.total_steps=500", "experiment.eval_every=250");
            set.push("algo.learning_starts=200");
            ("0", set)
        }
        // Imitation: a few gradient steps on two expert episodes; DAgger: three iterations.
        "bc" => (
            "0",
            vec![
                "experiment.backend=flex",
                "experiment.total_steps=200",
                "experiment.eval_every=100",
                "experiment.eval_episodes=2",
                "env.max_episode_steps=100",
                "algo.episodes=2",
            ],
        ),
        "dagger" => (
            "0",
            vec![
                "experiment.backend=flex",
                "experiment.total_steps=300",
                "experiment.eval_every=150",
                "experiment.eval_episodes=2",
                "env.max_episode_steps=100",
                "algo.rollout_steps=100",
                "algo.gradient_steps=20",
            ],
        ),
        "maxent_irl" => (
            "0..2",
            vec![
                "experiment.total_steps=6",
                "experiment.eval_every=2",
                "experiment.eval_episodes=5",
            ],
        ),
        // Multi-agent envs end on max_cycles (no max_episode_steps): two rollouts of MAPPO's
        // and IPPO's 128 envs × 25 steps; the references are evaluated once.
        "mappo" | "ippo" => (
            "0",
            vec![
                "experiment.backend=flex",
                "experiment.total_steps=6400",
                "experiment.eval_every=3200",
                "experiment.eval_episodes=2",
            ],
        ),
        "uniform_random" | "scripted_spread" => ("0..2", vec!["experiment.eval_episodes=2"]),
        // MADDPG and IDDPG: 100 random steps, then a small minibatch every 50 env steps.
        "maddpg" | "iddpg" => (
            "0",
            vec![
                "experiment.backend=flex",
                "experiment.total_steps=400",
                "experiment.eval_every=200",
                "experiment.eval_episodes=2",
                "algo.learning_starts=100",
                "algo.train_freq=50",
                "algo.batch_size=32",
            ],
        ),
        // Model-based planners: one fit of a small model on 100 random steps, short plans.
        "learned_mpc" | "pets" => (
            "0",
            vec![
                "experiment.total_steps=200",
                "experiment.eval_every=200",
                "experiment.eval_episodes=1",
                "env.max_episode_steps=50",
                "algo.random_steps=100",
                "algo.fit_every=100",
                "algo.epochs=2",
                "algo.horizon=5",
                "algo.population=16",
                "algo.iterations=1",
            ],
        ),
        // MBPO: 100 random steps, then a fit every 50 steps (three), each followed by 16
        // one-step rollouts, and one SAC step on 32 rows per env step.
        "mbpo" => (
            "0",
            vec![
                "experiment.backend=flex",
                "experiment.total_steps=200",
                "experiment.eval_every=100",
                "experiment.eval_episodes=1",
                "env.max_episode_steps=50",
                "algo.init_exploration_steps=100",
                "algo.model_train_freq=50",
                "algo.model_epochs=1",
                "algo.rollout_batch_size=16",
                "algo.utd_ratio=1",
                "algo.batch_size=32",
            ],
        ),
        other => panic!("no golden budget for algorithm `{other}`: add one here"),
    }
}

/// The seed folder of `ppo_cartpole.toml` run on its golden budget into `out`: the expert whose
/// dataset `neural_fitted_q` learns from.
fn expert(out: &Path) -> PathBuf {
    expert_of("ppo_cartpole", "ppo", out)
}

/// The seed folder of the shipped experiment `stem` (algorithm `algo`) run on its golden budget
/// into `out`: an expert of the imitation experiments.
fn expert_of(stem: &str, algo: &str, out: &Path) -> PathBuf {
    let (seeds, set) = budget(algo);
    let mut extra = vec!["--seeds", seeds];
    for s in &set {
        extra.extend(["--set", s]);
    }
    run_experiment(&format!("{stem}.toml"), out, &extra);
    out.join(format!("{stem}/seed_0"))
}

fn algo_name(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table["algo"]["name"].as_str().unwrap().to_string()
}

/// The golden curves of this machine's SIMD class. Burn's flex backend vectorises its reductions
/// with the widest instruction set the CPU has (macerator: AVX2, or AVX-512 where it exists), and
/// a sum's order follows the vector width: curves agree bit for bit within a class, and differ
/// in the last digits across classes. `tests/golden` holds x86-64-v3 (AVX2) curves,
/// `tests/golden-avx512` x86-64-v4 ones. `RL_GOLDEN_SIMD=v3|v4` overrides the detection: on an
/// AVX-512 machine, `RL_BLESS=1 RL_GOLDEN_SIMD=v3 RL_TEST_RUNNER="qemu-x86_64 -cpu Haswell"`
/// writes the AVX2 curves under emulation (about 20x slower).
fn golden_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v4 = match std::env::var("RL_GOLDEN_SIMD").as_deref() {
        Ok("v4") => true,
        Ok("v3") => false,
        Ok(other) => panic!("RL_GOLDEN_SIMD is v3 or v4, not {other}"),
        Err(_) => avx512(),
    };
    root.join(if v4 {
        "tests/golden-avx512"
    } else {
        "tests/golden"
    })
}

/// Whether macerator's x86-64-v4 level (AVX-512 F, BW, CD, DQ, VL) is available, so flex uses it.
#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512cd")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx512vl")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512() -> bool {
    false
}

fn write_csv(path: &Path, rows: &[Vec<String>]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = rows.iter().map(|r| r.join(",") + "\n").collect();
    std::fs::write(path, text).unwrap();
}

/// Whether shipped experiment `name` runs a gymnasium env through the Python bridge.
pub fn bridged(name: &str) -> bool {
    let text = std::fs::read_to_string(experiment(name)).unwrap();
    text.contains("backend = \"gymnasium\"")
}

#[test]
fn every_shipped_experiment_reproduces_its_golden_curves() {
    let bless = std::env::var_os("RL_BLESS").is_some();
    let mut names: Vec<String> = std::fs::read_dir(experiment(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // Sweep files vary an experiment; tests/sweep.rs plans them. Bridged envs are
        // gymnasium's, whose curves depend on its version; tests/bridge.rs runs them.
        .filter(|n| n.ends_with(".toml") && !n.starts_with("sweep_") && !bridged(n))
        .collect();
    names.sort();
    assert!(names.len() >= 30, "{names:?}");
    // `RL_GOLDEN_ONLY=stem,stem` checks (or blesses) only these experiments: re-blessing a few
    // under emulation need not run them all.
    if let Ok(only) = std::env::var("RL_GOLDEN_ONLY") {
        let only: Vec<&str> = only.split(',').map(str::trim).collect();
        names.retain(|n| only.contains(&n.trim_end_matches(".toml")));
        assert!(
            !names.is_empty(),
            "RL_GOLDEN_ONLY={only:?} names no shipped experiment"
        );
    }
    let out = tempfile::tempdir().unwrap();
    let experts = tempfile::tempdir().unwrap();
    let expert_dir = format!("algo.expert={}", expert(experts.path()).display());
    let sac_expert = format!(
        "algo.expert={}",
        expert_of("sac_pendulum", "sac", experts.path()).display()
    );
    let vi_expert = format!(
        "algo.expert={}",
        expert_of(
            "value_iteration_frozenlake",
            "value_iteration",
            experts.path()
        )
        .display()
    );
    let mut differences = Vec::new();
    for file in &names {
        let stem = file.trim_end_matches(".toml");
        let algo = algo_name(Path::new(&experiment(file)));
        let (seeds, set) = budget(&algo);
        let mut extra = vec!["--seeds", seeds, "--jobs", "2"];
        for s in &set {
            extra.extend(["--set", s]);
        }
        if algo == "neural_fitted_q" {
            extra.extend(["--set", &expert_dir]);
        }
        if ["bc", "dagger", "gail", "airl"].contains(&algo.as_str()) {
            let pendulum = stem.ends_with("pendulum");
            extra.extend(["--set", if pendulum { &sac_expert } else { &expert_dir }]);
        }
        if algo == "maxent_irl" {
            extra.extend(["--set", &vi_expert]);
        }
        run_experiment(file, out.path(), &extra);
        let results = out.path().join(stem);
        for entry in std::fs::read_dir(&results).unwrap() {
            let seed_dir = entry.unwrap().path();
            for csv in ["curve.csv", "episodes.csv"] {
                let got = without_wall_clock(&seed_dir.join(csv));
                let golden = golden_dir()
                    .join(stem)
                    .join(seed_dir.file_name().unwrap())
                    .join(csv);
                if bless {
                    write_csv(&golden, &got);
                    continue;
                }
                let want = common::read_csv(&golden);
                if got != want {
                    let row = got.iter().zip(&want).position(|(g, w)| g != w);
                    differences.push(format!(
                        "{}: {} rows vs {} golden, first difference at row {:?}",
                        golden.display(),
                        got.len(),
                        want.len(),
                        row
                    ));
                }
            }
        }
    }
    assert!(
        differences.is_empty(),
        "curves differ from the golden files:\n{}",
        differences.join("\n")
    );
}
