//! CLI integration tests: bad input gets exit code 2, one clear message and no results folder;
//! the listing commands; a run writes the result files; complete results are protected.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GOOD: &str = r#"
[experiment]
name = "smoke"
seeds = "0..2"
total_steps = 2000
eval_every = 500
eval_episodes = 5
eval_max_episode_steps = 100

[env]
id = "CliffWalking-v0"

[algo]
name = "q_learning"
learning_rate = 0.5
gamma = 0.99
"#;

fn rl(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rl"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("rl runs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `rl run` on `text` (with extra args) and checks: exit 2, one error line containing every
/// `expected` fragment, and no results folder.
fn assert_rejected(text: Option<&str>, extra: &[&str], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let config = match text {
        Some(text) => write(dir.path(), "exp.toml", text),
        None => dir.path().join("missing.toml"),
    };
    let mut args = vec!["run", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = rl(&args, dir.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one message: {err}");
    for fragment in expected {
        assert!(err.contains(fragment), "`{fragment}` not in: {err}");
    }
    assert!(
        !dir.path().join("results").exists(),
        "nothing may be written"
    );
}

#[test]
fn typo_in_a_key_names_file_line_and_allowed_keys() {
    let text = GOOD.replace("gamma = 0.99", "gama = 0.99");
    assert_rejected(
        Some(&text),
        &[],
        &[
            "exp.toml:16:1",
            "algo.gama",
            "unknown field `gama`",
            "`gamma`",
            "did you mean `gamma`?",
        ],
    );
}

#[test]
fn string_where_a_number_is_expected() {
    let text = GOOD.replace("total_steps = 2000", "total_steps = \"lots\"");
    assert_rejected(
        Some(&text),
        &[],
        &["exp.toml:5:1", "experiment.total_steps", "invalid type"],
    );
}

#[test]
fn out_of_range_value() {
    let text = GOOD.replace("gamma = 0.99", "gamma = 1.5");
    assert_rejected(
        Some(&text),
        &[],
        &["exp.toml:16:1", "algo.gamma", "must be in [0, 1], got 1.5"],
    );
}

#[test]
fn trust_region_keys_out_of_range_name_the_key() {
    let trpo = |algo: &str, key: &str| {
        format!(
            "[experiment]\nname = \"tr\"\ntotal_steps = 2048\n\n[env]\nid = \"CartPole-v1\"\n\n\
             [algo]\nname = \"{algo}\"\nn_steps = 512\n{key}\n"
        )
    };
    for algo in ["trpo", "npg"] {
        for (line, key, message) in [
            (
                "target_kl = 0.0",
                "algo.target_kl",
                "must be a finite number > 0, got 0",
            ),
            ("target_kl = -0.01", "algo.target_kl", "got -0.01"),
            ("cg_damping = -0.1", "algo.cg_damping", "got -0.1"),
        ] {
            assert_rejected(Some(&trpo(algo, line)), &[], &[key, message]);
        }
    }
    assert_rejected(
        Some(&trpo("trpo", "line_search_shrinking_factor = 0.0")),
        &[],
        &["algo.line_search_shrinking_factor"],
    );
}

#[test]
fn unknown_env_id_lists_the_allowed_ones() {
    let text = GOOD.replace("CliffWalking-v0", "CliffWalker-v9");
    assert_rejected(
        Some(&text),
        &[],
        &["exp.toml:11:1", "env.id", "CliffWalker-v9", "Taxi-v3"],
    );
    let text = GOOD.replace("CliffWalking-v0", "CliffWalking-v1");
    assert_rejected(
        Some(&text),
        &[],
        &["exp.toml:11:1", "did you mean `CliffWalking-v0`?"],
    );
}

#[test]
fn a_misspelt_table_is_named_with_a_suggestion() {
    for (typo, right) in [
        ("expriment", "experiment"),
        ("evn", "env"),
        ("alog", "algo"),
    ] {
        let text = GOOD.replace(&format!("[{right}]"), &format!("[{typo}]"));
        assert_rejected(
            Some(&text),
            &[],
            &[
                &format!("unknown table [{typo}]"),
                &format!("did you mean [{right}]?"),
            ],
        );
    }
    let text = GOOD.replace("[experiment]", "[expriment]");
    assert_rejected(Some(&text), &[], &["exp.toml:2:2"]);
}

#[test]
fn unknown_algorithm_lists_the_allowed_ones() {
    let text = GOOD.replace("\"q_learning\"", "\"q_learnin\"");
    assert_rejected(
        Some(&text),
        &[],
        &[
            "exp.toml:14:1",
            "algo.name",
            "q_learnin",
            "sarsa_lambda",
            "did you mean `q_learning`?",
        ],
    );
}

#[test]
fn option_of_another_env() {
    let text = GOOD.replace(
        "id = \"CliffWalking-v0\"",
        "id = \"CliffWalking-v0\"\nmap_name = \"8x8\"",
    );
    assert_rejected(
        Some(&text),
        &[],
        &["exp.toml:12:1", "env.map_name", "does not apply"],
    );
}

#[test]
fn missing_file() {
    assert_rejected(None, &[], &["missing.toml", "cannot read"]);
}

#[test]
fn empty_file() {
    assert_rejected(Some("  \n"), &[], &["exp.toml", "empty"]);
}

#[test]
fn invalid_toml_syntax() {
    assert_rejected(
        Some("[experiment\nname = 1"),
        &[],
        &["exp.toml:1:", "invalid TOML"],
    );
}

#[test]
fn empty_seed_range() {
    assert_rejected(
        Some(GOOD),
        &["--seeds", "5..2"],
        &["--seeds 5..2", "empty seed range"],
    );
}

#[test]
fn too_many_seeds_are_refused_before_anything_runs() {
    assert_rejected(
        Some(GOOD),
        &["--seeds", "0..100000000000"],
        &["--seeds 0..100000000000", "at most 100000"],
    );
}

/// What the config says it will allocate is checked against the machine before a seed starts.
#[test]
fn a_run_that_cannot_fit_in_memory_is_refused_with_its_estimate() {
    let sac = std::fs::read_to_string(common::experiment("sac_pendulum.toml")).unwrap();
    assert_rejected(
        Some(&sac),
        &["--seeds", "0", "--set", "algo.buffer_size=1000000000000"],
        &[
            "needs about 34.6 TiB",
            "replay buffer 34.6 TiB (algo.buffer_size)",
            "this machine has",
            "lower algo.buffer_size",
        ],
    );
    assert_rejected(
        Some(&sac),
        &["--seeds", "0..4", "--jobs", "4", "--max-memory", "64M"],
        &["4 at once", "--max-memory is 64.0 MiB"],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = common::experiment("sac_pendulum.toml");
    let out = rl(&["run", &config, "--max-memory", "lots"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`lots` is not a size"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn keys_that_contradict_each_other_are_refused() {
    let file = |name: &str| std::fs::read_to_string(common::experiment(name)).unwrap();
    assert_rejected(
        Some(&file("ppo_cartpole.toml")),
        &["--set", "algo.batch_size=100000"],
        &[
            "--set algo.batch_size=100000",
            "at most the rollout, algo.n_steps × env.num_envs = 32 × 8 = 256",
        ],
    );
    assert_rejected(
        Some(&file("td3_pendulum.toml")),
        &["--set", "experiment.total_steps=5000"],
        &[
            "exp.toml:",
            "algo.learning_starts: 10000 must be below experiment.total_steps = 5000",
        ],
    );
    assert_rejected(
        Some(GOOD),
        &["--set", "experiment.eval_every=5000"],
        &["experiment.eval_every: 5000 must be at most experiment.total_steps = 2000"],
    );
}

#[test]
fn a_minibatch_that_does_not_divide_the_rollout_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::experiment("ppo_cartpole.toml");
    let out = rl(
        &["validate", &config, "--set", "algo.batch_size=100"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: algo.batch_size: 100 does not divide the rollout of 256"),
        "{}",
        stderr(&out)
    );
}

/// A key invalid on its own is reported, and the cross checks that assume it valid (PPO's
/// rollout divided by `batch_size`) wait: exit 2, not a division by zero.
#[test]
fn a_zero_minibatch_is_an_error_not_a_panic() {
    let ppo = std::fs::read_to_string(common::experiment("ppo_cartpole.toml")).unwrap();
    assert_rejected(
        Some(&ppo),
        &["--set", "algo.batch_size=0"],
        &["algo.batch_size", "must be > 0"],
    );
}

#[test]
fn bad_override_is_attributed_to_set() {
    assert_rejected(
        Some(GOOD),
        &["--set", "algo.gamma=2"],
        &["--set algo.gamma=2", "must be in [0, 1]"],
    );
    assert_rejected(
        Some(GOOD),
        &["--set", "algo.gama=0.5"],
        &["--set algo.gama=0.5", "unknown field"],
    );
    assert_rejected(
        Some(GOOD),
        &["--set", "nonsense"],
        &["--set nonsense", "key.path=value"],
    );
}

#[test]
fn algorithm_that_cannot_run_on_the_env() {
    let text = GOOD.replace("CliffWalking-v0", "CartPole-v1");
    assert_rejected(Some(&text), &[], &["env.id", "discrete observations"]);
}

/// Bandits (issue 19): fewer than two arms, a Bernoulli mean outside [0, 1], a bandit learner
/// on another env, Beta-Bernoulli Thompson sampling on real-valued rewards.
#[test]
fn bandits_reject_bad_input() {
    let shipped = |name| std::fs::read_to_string(common::experiment(name)).unwrap();
    let testbed = shipped("testbed_10arm.toml");
    assert_rejected(Some(&testbed), &["--set", "env.arms=1"], &["env.arms", "2"]);
    let ucb = shipped("ucb_bandit.toml");
    assert_rejected(
        Some(&ucb),
        &["--set", "env.means=[0.5]"],
        &["env.means", "2"],
    );
    assert_rejected(
        Some(&ucb),
        &["--set", "env.means=[0.5, 1.5]"],
        &["env.means", "[0, 1]"],
    );
    assert_rejected(
        Some(&ucb),
        &["--set", "env.id=CartPole-v1"],
        &["env.", "CartPole-v1"],
    );
    let cartpole = ucb
        .replace("BernoulliBandit-v0", "CartPole-v1")
        .replace("means = [0.9, 0.8, 0.7, 0.6, 0.5]", "");
    assert_rejected(Some(&cartpole), &[], &["env.id", "ucb", "bandit env"]);
    assert_rejected(
        Some(&shipped("thompson_bandit.toml")),
        &["--set", "env.id=GaussianBandit-v0"],
        &["algo.likelihood", "gaussian"],
    );
}

/// Hindsight experience replay (issue 19): a negative `n_sampled_goal`, HER on an env without
/// goals (DQN, SAC, TD3, DDPG), HER with n-step returns or DIAYN, too few bits, SAC on the
/// discrete BitFlipping.
#[test]
fn hindsight_rejects_bad_input() {
    let her = std::fs::read_to_string(common::experiment("dqn_her_bitflip.toml")).unwrap();
    assert_rejected(
        Some(&her),
        &["--set", "algo.n_sampled_goal=-1"],
        &["algo.n_sampled_goal"],
    );
    let cartpole = her
        .replace("BitFlipping-v0", "CartPole-v1")
        .replace("n_bits = 10", "")
        .replace("random_goal = false", "");
    assert_rejected(
        Some(&cartpole),
        &[],
        &["algo.her", "goal env", "CartPole-v1"],
    );
    assert_rejected(
        Some(&her),
        &["--set", "algo.n_step=3"],
        &["algo.n_step", "her"],
    );
    assert_rejected(Some(&her), &["--set", "env.n_bits=1"], &["env.n_bits"]);
    // The same keys on the continuous learners.
    let sac = std::fs::read_to_string(common::experiment("sac_her_goal.toml")).unwrap();
    assert_rejected(
        Some(&sac),
        &["--set", "algo.n_sampled_goal=-1"],
        &["algo.n_sampled_goal"],
    );
    let pendulum = sac
        .replace("BitFlipping-v0", "Pendulum-v1")
        .replace("n_bits = 10", "")
        .replace("random_goal = false", "")
        .replace("continuous = true", "");
    for algo in ["sac", "td3", "ddpg"] {
        assert_rejected(
            Some(&pendulum.replace("name = \"sac\"", &format!("name = \"{algo}\""))),
            &[],
            &["algo.her", "goal env", "Pendulum-v1"],
        );
    }
    assert_rejected(
        Some(&sac.replace("continuous = true", "")),
        &[],
        &["env.id", "sac", "Discrete(10)"],
    );
    let diayn =
        std::fs::read_to_string(common::experiment("diayn_mountaincar_continuous.toml")).unwrap();
    assert_rejected(
        Some(&diayn),
        &["--set", "algo.her=true"],
        &["algo.her", "diayn"],
    );
}

/// The value-based and maximum-entropy methods of issue 20: a temperature ≤ 0, an action space
/// the method cannot act in, fewer than two skills, and a dataset expert that is missing or ran
/// on another env.
#[test]
fn value_and_max_entropy_methods_reject_bad_input() {
    let shipped = |name| std::fs::read_to_string(common::experiment(name)).unwrap();
    let soft_q = shipped("soft_q_cartpole.toml");
    assert_rejected(
        Some(&soft_q),
        &["--set", "algo.ent_coef=0"],
        &["algo.ent_coef", "> 0"],
    );
    assert_rejected(
        Some(&shipped("soft_value_iteration_frozenlake.toml")),
        &["--set", "algo.ent_coef=-1"],
        &["algo.ent_coef"],
    );
    assert_rejected(
        Some(&soft_q),
        &["--set", "env.id=Pendulum-v1"],
        &["env.id", "soft_dqn", "continuous actions"],
    );
    assert_rejected(
        Some(&shipped("naf_pendulum.toml")),
        &["--set", "env.id=CartPole-v1"],
        &["env.id", "naf", "continuous action box"],
    );
    let diayn = shipped("diayn_mountaincar_continuous.toml");
    for (set, expected) in [
        ("algo.num_skills=1", &["algo.num_skills", "at least 2"][..]),
        ("algo.ent_coef=0", &["algo.ent_coef", "> 0"]),
        (
            "env.id=CartPole-v1",
            &["env.id", "diayn", "continuous action box"],
        ),
    ] {
        assert_rejected(Some(&diayn), &["--set", set], expected);
    }
    let fqi = shipped("fqi_cartpole.toml");
    assert_rejected(
        Some(&fqi),
        &[],
        &["algo.expert", "rl run experiments/ppo_cartpole.toml"],
    );
    let other = tempfile::tempdir().unwrap();
    write(other.path(), "config.toml", "[env]\nid = \"Pendulum-v1\"\n");
    let set = format!("algo.expert={}", other.path().display());
    assert_rejected(
        Some(&fqi),
        &["--set", &set],
        &["algo.expert", "Pendulum-v1", "CartPole-v1"],
    );
}

#[test]
fn validate_prints_the_resolved_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "exp.toml", GOOD);
    let out = rl(
        &[
            "validate",
            config.to_str().unwrap(),
            "--set",
            "algo.gamma=0.9",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gamma = 0.9"), "{text}");
    assert!(
        text.contains("exploration_final_eps = 0.05"),
        "defaults are filled in: {text}"
    );
    assert!(!dir.path().join("results").exists());
}

#[test]
fn multi_agent_envs_are_refused_to_single_agent_algorithms_after_their_options_are_checked() {
    let spread = GOOD.replace(
        r#"id = "CliffWalking-v0""#,
        "id = \"simple_spread_v3\"\nN = 4\nlocal_ratio = 0.25",
    );
    assert_rejected(
        Some(&spread),
        &[],
        &[
            "algo.name",
            "`q_learning` is a single-agent algorithm",
            "multi-agent env",
        ],
    );
    let bad_n = spread.replace("N = 4", "N = 0");
    assert_rejected(Some(&bad_n), &[], &["env.N", "must be >= 1"]);
    let tag = GOOD.replace(
        r#"id = "CliffWalking-v0""#,
        "id = \"simple_tag_v3\"\nnum_adversaries = 0",
    );
    assert_rejected(Some(&tag), &[], &["env.num_adversaries", "must be >= 1"]);
    let misplaced = GOOD.replace(r#"id = "CliffWalking-v0""#, "id = \"simple_v3\"\nN = 2");
    assert_rejected(
        Some(&misplaced),
        &[],
        &["env.N", "does not apply to simple_v3"],
    );
    let on_single = GOOD.replace(
        r#"id = "CliffWalking-v0""#,
        "id = \"CliffWalking-v0\"\nmax_cycles = 10",
    );
    assert_rejected(
        Some(&on_single),
        &[],
        &["env.max_cycles", "does not apply to CliffWalking-v0"],
    );
}

#[test]
fn listings() {
    let dir = tempfile::tempdir().unwrap();
    let envs = String::from_utf8(rl(&["envs"], dir.path()).stdout).unwrap();
    for id in [
        "CartPole-v1",
        "Pendulum-v1",
        "Acrobot-v1",
        "FrozenLake8x8-v1",
        "CliffWalking-v0",
        "Taxi-v3",
    ] {
        assert!(envs.contains(id), "{id} missing from rl envs");
    }
    assert!(envs.contains("Box(-2.0, 2.0, (1,), float32)"), "{envs}");
    for id in [
        "simple_v3",
        "simple_spread_v3",
        "simple_adversary_v3",
        "simple_tag_v3",
        "simple_speaker_listener_v4",
        "simple_reference_v3",
    ] {
        assert!(
            envs.contains(&format!("{id}  (")),
            "{id} missing from rl envs"
        );
    }
    assert!(envs.contains("multi-agent"), "{envs}");
    assert!(
        envs.contains("agent_0: observation Box(-inf, inf, (18,), float32), action Discrete(5)"),
        "{envs}"
    );
    let algos = String::from_utf8(rl(&["algos"], dir.path()).stdout).unwrap();
    assert!(
        algos.contains("sarsa_lambda")
            && algos.contains("traces")
            && algos.contains("\"accumulating\"")
    );
    let version = String::from_utf8(rl(&["--version"], dir.path()).stdout).unwrap();
    assert!(version.starts_with("rl "), "{version}");
    assert_eq!(rl(&["algos", "nope"], dir.path()).status.code(), Some(2));
}

#[test]
fn run_writes_results_and_protects_complete_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "exp.toml", GOOD);
    let config = config.to_str().unwrap();
    let out = rl(&["run", config, "--jobs", "2"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("results: results/smoke"), "{stdout}");
    assert!(stdout.contains("final eval"), "summary table: {stdout}");
    for seed in 0..2 {
        let seed_dir = dir.path().join(format!("results/smoke/seed_{seed}"));
        for file in ["curve.csv", "episodes.csv", "config.toml", "meta.json"] {
            assert!(seed_dir.join(file).is_file(), "{file} missing");
        }
        let meta = std::fs::read_to_string(seed_dir.join("meta.json")).unwrap();
        assert!(meta.contains("\"status\": \"complete\""), "{meta}");
        let curve = std::fs::read_to_string(seed_dir.join("curve.csv")).unwrap();
        let steps: Vec<&str> = curve
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(steps, ["0", "500", "1000", "1500", "2000"]);
    }
    // Complete results are not overwritten without --force.
    let again = rl(&["run", config], dir.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let forced = rl(
        &["run", config, "--force", "--seeds", "1", "-q"],
        dir.path(),
    );
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
}

#[test]
fn a_failing_seed_is_recorded_and_the_others_complete() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "exp.toml", GOOD);
    // Seed 1 cannot create its curve file: a directory stands in the way.
    std::fs::create_dir_all(dir.path().join("results/smoke/seed_1/curve.csv")).unwrap();
    let out = rl(&["run", config.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1), "exit 1 when a seed failed");
    let meta = |seed: u32| {
        std::fs::read_to_string(
            dir.path()
                .join(format!("results/smoke/seed_{seed}/meta.json")),
        )
        .unwrap()
    };
    assert!(meta(0).contains("\"status\": \"complete\""));
    assert!(
        meta(1).contains("\"status\": \"failed\"") && meta(1).contains("curve.csv"),
        "{}",
        meta(1)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED"));
}

#[test]
fn ctrl_c_stops_cleanly_and_marks_seeds_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let long = GOOD.replace("total_steps = 2000", "total_steps = 100_000_000_000");
    let config = write(dir.path(), "exp.toml", &long);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rl"))
        .args(["run", config.to_str().unwrap(), "--jobs", "2"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let meta = |seed: u32| {
        dir.path()
            .join(format!("results/smoke/seed_{seed}/meta.json"))
    };
    let curve = dir.path().join("results/smoke/seed_0/curve.csv");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&curve).map_or(0, |t| t.lines().count()) < 3 {
        assert!(started.elapsed().as_secs() < 60, "the run never got going");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The shell's own `kill`, so no procps is needed.
    let sent = Command::new("sh")
        .args(["-c", &format!("kill -s INT {}", child.id())])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    for seed in 0..2 {
        let text = std::fs::read_to_string(meta(seed)).unwrap();
        assert!(text.contains("\"status\": \"interrupted\""), "{text}");
    }
    let rows = std::fs::read_to_string(&curve).unwrap();
    assert!(
        rows.ends_with('\n') && rows.lines().count() >= 3,
        "whole rows only: {rows}"
    );
}

#[test]
fn a_seed_folder_in_use_is_refused_and_left_untouched() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "exp.toml", GOOD);
    let seed_0 = dir.path().join("results/smoke/seed_0");
    std::fs::create_dir_all(&seed_0).unwrap();
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(seed_0.join("rl.lock"))
        .unwrap();
    std::fs::write(seed_0.join("rl.lock"), "rl pid 4242 on host elsewhere").unwrap();
    // SAFETY: flock on a descriptor this test owns; the kernel releases it when the test ends.
    assert_eq!(
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let out = rl(&["run", config.to_str().unwrap(), "-q"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("seed 0 failed")
            && stderr(&out).contains("in use by rl pid 4242 on host elsewhere"),
        "{}",
        stderr(&out)
    );
    let files: Vec<_> = std::fs::read_dir(&seed_0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["rl.lock"], "the refused seed's folder is untouched");
    let meta = std::fs::read_to_string(dir.path().join("results/smoke/seed_1/meta.json")).unwrap();
    assert!(meta.contains("\"status\": \"complete\""), "{meta}");
}

#[test]
fn two_runs_at_once_write_each_seed_once() {
    let long = GOOD.replace("total_steps = 2000", "total_steps = 300_000");
    let single = tempfile::tempdir().unwrap();
    let config = write(single.path(), "exp.toml", &long);
    assert!(
        rl(&["run", config.to_str().unwrap(), "-q"], single.path())
            .status
            .success()
    );

    let shared = tempfile::tempdir().unwrap();
    let config = write(shared.path(), "exp.toml", &long);
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_rl"))
            .args(["run", config.to_str().unwrap(), "-q", "--jobs", "1"])
            .current_dir(shared.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for out in [&a, &b] {
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(out));
        for line in stderr(out).lines().filter(|l| l.contains("failed")) {
            assert!(
                line.contains("is in use by rl pid"),
                "only refusals fail: {line}"
            );
        }
    }
    for seed in 0..2 {
        for file in ["curve.csv", "episodes.csv"] {
            let path = |root: &Path| root.join(format!("results/smoke/seed_{seed}/{file}"));
            assert_eq!(
                common::without_wall_clock(&path(shared.path())),
                common::without_wall_clock(&path(single.path())),
                "seed {seed} {file}"
            );
        }
    }
}

#[test]
fn a_diverged_policy_fails_its_seed_naming_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::experiment("sac_pendulum.toml");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            config.as_str(),
            "-q",
            "--seeds",
            "0",
            "--set",
            "algo.learning_rate=1e3",
            "--set",
            "algo.policy.net_arch=[32, 32]",
            "--set",
            "experiment.total_steps=600",
            "--set",
            "experiment.eval_every=300",
            "--set",
            "experiment.eval_episodes=2",
        ];
        args.extend_from_slice(extra);
        rl(&args, dir.path())
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let seed = dir.path().join("results/sac_pendulum/seed_0");
    let meta = std::fs::read_to_string(seed.join("meta.json")).unwrap();
    assert!(
        meta.contains("\"status\": \"failed\"") && meta.contains("diverged at step"),
        "{meta}"
    );
    let rows = common::read_csv(&seed.join("curve.csv"));
    let mean = rows[0]
        .iter()
        .position(|c| c == "eval_return_mean")
        .unwrap();
    assert!(rows.len() >= 2, "the rows before the divergence are kept");
    for row in &rows[1..] {
        assert!(
            row[mean].parse::<f64>().is_ok_and(f64::is_finite),
            "no empty or NaN return in curve.csv: {row:?}"
        );
    }
    let out = run(&["--force", "--set", "experiment.on_nonfinite=continue"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Dyna-Q's bad input (S&B 8.2, 8.3): a negative κ, a non-tabular env, a maze option on the
/// wrong maze.
#[test]
fn dyna_q_rejects_negative_kappa_non_tabular_envs_and_misplaced_maze_options() {
    let dyna = GOOD
        .replace("\"q_learning\"", "\"dyna_q\"")
        .replace("CliffWalking-v0", "DynaMaze-v0");
    assert_rejected(
        Some(&dyna.replace("gamma = 0.99", "gamma = 0.99\nkappa = -0.001")),
        &[],
        &["algo.kappa", "must be a finite number >= 0"],
    );
    assert_rejected(
        Some(&dyna.replace("DynaMaze-v0", "CartPole-v1")),
        &[],
        &["env.id", "dyna_q needs discrete observations and actions"],
    );
    assert_rejected(
        Some(&dyna.replace(
            "id = \"DynaMaze-v0\"",
            "id = \"DynaMaze-v0\"\nchange_at = 10",
        )),
        &[],
        &["change_at", "does not apply to DynaMaze-v0"],
    );
}
