//! Multi-agent learners on simple_spread: bad input names its key (both ways: a single-agent
//! algorithm on a multi-agent env and back), the references and MAPPO write the team return and
//! each agent's in curve.csv and episodes.csv, `rl eval` replays a finished run, and a short
//! seeded MAPPO run beats uniform-random agents by a clear margin, as a short MADDPG run does on
//! `simple`.

use std::path::Path;

use crate::common::{self, final_eval, read_csv, rl, run_experiment};

/// `rl run` of `text` exits 2 with one message naming every fragment, and writes nothing.
fn assert_rejected(text: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exp.toml");
    std::fs::write(&path, text).unwrap();
    let out = rl(&["run", path.to_str().unwrap()], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    for fragment in expected {
        assert!(err.contains(fragment), "`{fragment}` not in: {err}");
    }
    assert!(!dir.path().join("results").exists(), "nothing is written");
}

/// An experiment of `algo` on the env table `env`.
fn experiment(env: &str, algo: &str) -> String {
    // The references are evaluated, not trained: no step budget.
    let steps = match algo {
        "uniform_random" | "scripted_spread" => "",
        _ => "total_steps = 1000\n",
    };
    format!("[experiment]\nname = \"x\"\n{steps}\n[env]\n{env}\n\n[algo]\nname = \"{algo}\"\n")
}

#[test]
fn bad_input_exits_2_naming_the_key() {
    let spread = "id = \"simple_spread_v3\"";
    assert_rejected(
        &experiment("id = \"CartPole-v1\"", "mappo"),
        &[
            "algo.name",
            "`mappo` is a multi-agent algorithm",
            "simple_spread_v3",
        ],
    );
    assert_rejected(
        &experiment(spread, "ppo"),
        &["algo.name", "`ppo` is a single-agent algorithm", "mappo"],
    );
    assert_rejected(
        &experiment(&format!("{spread}\nN = 0"), "mappo"),
        &["env.N", "must be >= 1"],
    );
    assert_rejected(
        &experiment("id = \"simple_spreed_v3\"", "ippo"),
        &["env.id", "unknown env id", "simple_spread_v3"],
    );
    assert_rejected(
        &experiment("id = \"simple_adversary_v3\"", "mappo"),
        &["env.id", "same observation and action spaces"],
    );
    assert_rejected(
        &(experiment(spread, "mappo") + "batch_size = 100\n"),
        &["algo.batch_size", "25 × 1 × 3 = 75"],
    );
    assert_rejected(
        &(experiment(spread, "mappo") + "huber_delta = 0.0\n"),
        &["algo.huber_delta"],
    );
    assert_rejected(
        &(experiment(spread, "mappo") + "clip_range_vf = -0.2\n"),
        &["algo.clip_range_vf"],
    );
    assert_rejected(
        &(experiment(spread, "ippo") + "value_loss = \"l1\"\n"),
        &["algo.value_loss"],
    );
    assert_rejected(
        &(experiment(spread, "mappo") + "[algo.policy]\nshare_features_extractor = true\n"),
        &["algo.policy.share_features_extractor"],
    );
    assert_rejected(
        &experiment("id = \"simple_tag_v3\"", "scripted_spread"),
        &["env.id", "simple_spread_v3"],
    );
    assert_rejected(
        &experiment(&format!("{spread}\nN = 17"), "scripted_spread"),
        &["env.N", "at most 16"],
    );
    assert_rejected(
        &experiment(&format!("{spread}\nnum_envs = 2"), "uniform_random"),
        &["env.num_envs"],
    );
}

/// The header of a CSV file.
fn header(path: &Path) -> Vec<String> {
    read_csv(path).remove(0)
}

/// `rl eval` of a finished seed folder: its stdout.
fn eval(seed_dir: &Path) -> String {
    let out = rl(
        &["eval", seed_dir.to_str().unwrap(), "--episodes", "5"],
        seed_dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each episodes.csv row's team return is the sum of its agents' returns.
fn assert_team_returns(path: &Path) {
    let rows = read_csv(path);
    assert_eq!(
        rows[0],
        [
            "step",
            "return",
            "length",
            "wall_s",
            "return_agent_0",
            "return_agent_1",
            "return_agent_2"
        ]
    );
    assert!(rows.len() > 1, "episodes were recorded");
    for row in &rows[1..] {
        let v: Vec<f64> = row.iter().map(|c| c.parse().unwrap()).collect();
        assert_eq!(v[2], 25.0, "max_cycles");
        assert!((v[1] - (v[4] + v[5] + v[6])).abs() < 1e-9, "{row:?}");
    }
}

/// The references on the same eval seeds: scripted agents far above random ones, every
/// curve row carrying each agent's return and simple_spread's diagnostics; `rl eval` replays.
#[test]
fn references_record_team_and_agent_returns_and_diagnostics() {
    let out = tempfile::tempdir().unwrap();
    let set = ["--seeds", "0", "--set", "experiment.eval_episodes=40"];
    run_experiment("uniform_random_simple_spread.toml", out.path(), &set);
    run_experiment("scripted_simple_spread.toml", out.path(), &set);
    let random = out.path().join("uniform_random_simple_spread/seed_0");
    let scripted = out.path().join("scripted_simple_spread/seed_0");
    let columns = header(&scripted.join("curve.csv"));
    for column in [
        "eval_return_mean",
        "return_agent_0",
        "return_agent_2",
        "collisions",
        "occupied_landmarks",
        "min_dists",
    ] {
        assert!(columns.iter().any(|c| c == column), "{column}: {columns:?}");
    }
    let (random_return, scripted_return) = (final_eval(&random), final_eval(&scripted));
    // 200-episode means over 5 seeds: random −79, scripted −26.
    assert!(random_return < -60.0, "{random_return}");
    assert!(scripted_return > -35.0, "{scripted_return}");
    let occupied = |dir: &Path| common::final_value(dir, "occupied_landmarks");
    assert!(occupied(&scripted) > 1.0 && occupied(&random) < 0.2);
    let text = eval(&scripted);
    assert!(text.contains("team return mean"), "{text}");
    assert!(text.contains("agent_2"), "{text}");

    // Cross-play: the scripted run's agents, some or all replaced by the random run's.
    let team = |text: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with("team return mean"))
            .unwrap();
        line.split_whitespace().nth(3).unwrap().parse().unwrap()
    };
    let cross = |agents: &str| {
        let args = [
            "eval",
            scripted.to_str().unwrap(),
            "--episodes",
            "5",
            "--cross",
            random.to_str().unwrap(),
            "--cross-agents",
            agents,
        ];
        rl(&args, out.path())
    };
    let all = cross("agent_0,agent_1,agent_2");
    assert!(
        all.status.success(),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    let all = String::from_utf8(all.stdout).unwrap();
    assert!(
        all.contains("cross-play: agent_0, agent_1, agent_2 act by"),
        "{all}"
    );
    // Every agent by the random run's policy: that run's own evaluation, episode for episode.
    assert_eq!(team(&all), team(&eval(&random)), "{all}");
    let one = String::from_utf8(cross("agent_1").stdout).unwrap();
    let (mixed, alone) = (team(&one), team(&text));
    assert!(
        team(&all) < mixed && mixed < alone,
        "{} < {mixed} < {alone}",
        team(&all)
    );
    let bad = cross("agent_7");
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--cross-agents") && stderr.contains("agent_0, agent_1, agent_2"),
        "{stderr}"
    );
}

/// 40k env steps of MAPPO on 32 envs (a few seconds) lift the team return well clear of random agents'
/// (−79); IPPO runs the same path with local critics; both runs replay under `rl eval`.
#[test]
fn mappo_beats_random_agents_and_ippo_runs() {
    let out = tempfile::tempdir().unwrap();
    let short = |steps: &'static str, every: &'static str| {
        [
            "--seeds",
            "0",
            "--set",
            steps,
            "--set",
            every,
            "--set",
            "experiment.eval_episodes=40",
            "--set",
            "env.num_envs=32",
            "--set",
            "algo.batch_size=800",
        ]
    };
    run_experiment(
        "mappo_simple_spread.toml",
        out.path(),
        &short(
            "experiment.total_steps=40000",
            "experiment.eval_every=20000",
        ),
    );
    let mappo = out.path().join("mappo_simple_spread/seed_0");
    let rows = read_csv(&mappo.join("curve.csv"));
    let first: f64 = rows[1][3].parse().unwrap();
    let last = final_eval(&mappo);
    assert!(
        last > -68.0,
        "MAPPO after 40k steps: {last} (untrained {first})"
    );
    assert!(common::final_value(&mappo, "explained_variance") > 0.5);
    assert_team_returns(&mappo.join("episodes.csv"));
    assert!(eval(&mappo).contains("team return mean"));

    run_experiment(
        "ippo_simple_spread.toml",
        out.path(),
        &short("experiment.total_steps=800", "experiment.eval_every=800"),
    );
    let ippo = out.path().join("ippo_simple_spread/seed_0");
    assert_team_returns(&ippo.join("episodes.csv"));
    assert!(eval(&ippo).contains("agent_0"));
}

/// MADDPG and IDDPG refuse what they cannot run, naming the key.
#[test]
fn maddpg_bad_input_exits_2_naming_the_key() {
    let spread = "id = \"simple_spread_v3\"";
    assert_rejected(
        &experiment("id = \"Pendulum-v1\"", "maddpg"),
        &["algo.name", "`maddpg` is a multi-agent algorithm"],
    );
    assert_rejected(
        &experiment(spread, "ddpg"),
        &[
            "algo.name",
            "`ddpg` is a single-agent algorithm",
            "maddpg",
            "iddpg",
        ],
    );
    assert_rejected(
        &(experiment(spread, "maddpg") + "batch_size = 2048\nbuffer_size = 1000\n"),
        &["algo.batch_size", "algo.buffer_size = 1000"],
    );
    assert_rejected(
        &(experiment(spread, "iddpg") + "gumbel_temperature = 0.0\n"),
        &["algo.gumbel_temperature"],
    );
    assert_rejected(
        &(experiment(spread, "maddpg") + "tau = 1.5\n"),
        &["algo.tau", "(0, 1]"],
    );
    assert_rejected(
        &(experiment(spread, "maddpg") + "noise_std = -0.1\n"),
        &["algo.noise_std"],
    );
    assert_rejected(
        &experiment(&format!("{spread}\nN = 0"), "iddpg"),
        &["env.N", "must be >= 1"],
    );
}

/// 4,000 env steps of MADDPG on `simple` (one agent to its landmark; a few seconds) lift the
/// return from uniform-random agents' −44 to above −25, and `rl eval` replays the saved actor.
/// With one agent the centralised critic is the local one: IDDPG's curve is MADDPG's, value
/// for value.
#[test]
fn maddpg_beats_random_agents_on_simple_and_iddpg_matches_it_with_one_agent() {
    let dir = tempfile::tempdir().unwrap();
    let run = |algo: &str, keys: &str| {
        // The reference is evaluated, not trained: no step budget.
        let budget = match algo {
            "uniform_random" => "",
            _ => "total_steps = 4000\neval_every = 4000\nbackend = \"flex\"\n",
        };
        let text = format!(
            "[experiment]\nname = \"{algo}\"\nseeds = \"0\"\neval_episodes = 40\n{budget}\n\
             [env]\nid = \"simple_v3\"\n\n[algo]\nname = \"{algo}\"\n{keys}"
        );
        let path = dir.path().join(format!("{algo}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = dir.path().join("results");
        let result = rl(
            &[
                "run",
                path.to_str().unwrap(),
                "-q",
                "--out",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        out.join(algo).join("seed_0")
    };
    let keys = "learning_starts = 500\ntrain_freq = 20\nbatch_size = 256\n";
    let random = final_eval(&run("uniform_random", ""));
    let maddpg = run("maddpg", keys);
    let learned = final_eval(&maddpg);
    assert!(random < -35.0, "{random}");
    assert!(
        learned > -25.0,
        "MADDPG after 4k steps: {learned} (random {random})"
    );
    assert!(eval(&maddpg).contains("agent_0"));
    let iddpg = run("iddpg", keys);
    assert_eq!(
        common::without_wall_clock(&maddpg.join("curve.csv")),
        common::without_wall_clock(&iddpg.join("curve.csv"))
    );
}
