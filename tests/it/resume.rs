//! Checkpoints and `rl run --resume`: a run stopped by Ctrl-C (SIGINT) or killed (SIGKILL)
//! between checkpoints and then resumed ends with the same curve.csv and episodes.csv as an
//! uninterrupted run, wall-clock columns aside.

use crate::common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{experiment, rl, without_wall_clock};

/// Long enough (about a second) to be stopped after its first checkpoint.
const LONG: [&str; 8] = [
    "--set",
    "experiment.total_steps=6000000",
    "--set",
    "experiment.eval_every=600000",
    "--set",
    "experiment.eval_episodes=20",
    "--set",
    "experiment.checkpoint_every=600000",
];

/// PPO on ndarray: 40 updates of 256 steps, a few seconds, checkpoints every 10.
const PPO_BUDGET: [&str; 10] = [
    "--set",
    "experiment.total_steps=10240",
    "--set",
    "experiment.eval_every=2560",
    "--set",
    "experiment.eval_episodes=3",
    "--set",
    "experiment.checkpoint_every=2560",
    "--set",
    "experiment.backend=ndarray",
];

/// DQN on ndarray: 7000 steps with 128 gradient steps every 256, checkpoints every 2000.
const DQN_BUDGET: [&str; 10] = [
    "--set",
    "experiment.total_steps=7000",
    "--set",
    "experiment.eval_every=2000",
    "--set",
    "experiment.eval_episodes=3",
    "--set",
    "experiment.checkpoint_every=2000",
    "--set",
    "experiment.backend=ndarray",
];

fn run(config: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        config,
        "-q",
        "--seeds",
        "0",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    rl(&args, out)
}

/// Starts `rl run` of seed 0 and returns once its first checkpoint is there.
fn start_until_first_checkpoint(config: &str, out: &Path, args: &[&str], seed_dir: &Path) -> Child {
    let mut command = vec!["run", config, "-q", "--seeds", "0", "--out"];
    command.push(out.to_str().unwrap());
    command.extend_from_slice(args);
    let child = Command::new(env!("CARGO_BIN_EXE_rl"))
        .args(&command)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !seed_dir.join("checkpoint.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child
}

/// Runs `name` uninterrupted, and again stopped by `signal` after its first checkpoint and then
/// resumed; the two must agree. `args` set the budget and checkpoints.
fn check(name: &str, args: &[&str], signal: &str, status_after_stop: &str) {
    let config = experiment(&format!("{name}.toml"));
    let whole = tempfile::tempdir().unwrap();
    assert!(run(&config, whole.path(), args).status.success());

    let stopped = tempfile::tempdir().unwrap();
    let seed_dir = stopped.path().join(format!("{name}/seed_0"));
    let mut child = start_until_first_checkpoint(&config, stopped.path(), args, &seed_dir);
    // The shell's own `kill`, so no procps is needed.
    let sent = Command::new("sh")
        .args(["-c", &format!("kill -s {signal} {}", child.id())])
        .status()
        .unwrap();
    assert!(sent.success());
    let stopped_with = child.wait().unwrap().code();
    let expected = match signal {
        "INT" => Some(130),
        "TERM" => Some(143),
        _ => None,
    };
    assert_eq!(stopped_with, expected, "exit code after SIG{signal}");
    let meta = std::fs::read_to_string(seed_dir.join("meta.json")).unwrap();
    assert!(
        meta.contains(&format!("\"status\": \"{status_after_stop}\"")),
        "stopped before the end: {meta}"
    );

    let resumed = run(&config, stopped.path(), &[args, &["--resume"]].concat());
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let meta = std::fs::read_to_string(seed_dir.join("meta.json")).unwrap();
    assert!(meta.contains("\"status\": \"complete\""), "{meta}");
    for file in ["curve.csv", "episodes.csv"] {
        let a = without_wall_clock(&whole.path().join(format!("{name}/seed_0/{file}")));
        let b = without_wall_clock(&seed_dir.join(file));
        assert!(a.len() > 2);
        assert!(
            a == b,
            "{name}: {file} of the resumed run differs ({} vs {} rows)",
            a.len(),
            b.len()
        );
    }
}

#[test]
fn q_learning_killed_between_checkpoints_resumes_to_the_same_curve() {
    check("q_learning_taxi", &LONG, "KILL", "running");
}

#[test]
fn sarsa_lambda_stopped_by_sigterm_resumes_to_the_same_curve() {
    // A scheduler's SIGTERM is a clean stop, as Ctrl-C. Slippery FrozenLake: the envs' own RNG
    // must be restored too.
    check(
        "expected_sarsa_frozenlake",
        &[&LONG[..], &["--set", "algo.name=sarsa_lambda"]].concat(),
        "TERM",
        "interrupted",
    );
}

#[test]
fn ppo_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Network, Adam moments, collector, minibatch order; Ctrl-C lands mid-rollout.
    check("ppo_cartpole", &PPO_BUDGET, "INT", "interrupted");
}

#[test]
fn a2c_with_two_optimisers_killed_between_checkpoints_resumes_to_the_same_curve() {
    let args = [
        &PPO_BUDGET[..],
        &[
            "--set",
            "algo.separate_optimizers=true",
            "--set",
            "algo.normalize_obs=true",
            "--set",
            "algo.normalize_reward=true",
        ],
    ]
    .concat();
    check("a2c_cartpole", &args, "KILL", "running");
}

#[test]
fn dppo_with_two_workers_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Every worker's collector and minibatch order: 20 rounds of 2 workers × 4 envs × 64 steps.
    let args = [
        &PPO_BUDGET[..],
        &["--set", "algo.n_steps=64", "--set", "algo.n_epochs=4"],
    ]
    .concat();
    check("dppo_pendulum", &args, "INT", "interrupted");
}

#[test]
fn trpo_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Network, the critic's Adam moments and minibatch order, collector; Ctrl-C lands
    // mid-rollout.
    check("trpo_cartpole", &PPO_BUDGET, "INT", "interrupted");
}

#[test]
fn gail_and_airl_resume_to_the_same_curve() {
    // PPO's state, the discriminator's networks and Adam moments, the permutation of its
    // minibatch rows; the expert episodes are played again from the same streams.
    let experts = tempfile::tempdir().unwrap();
    let expert = common::short_ppo_cartpole_expert(experts.path());
    let expert = format!("algo.expert={}", expert.display());
    let args = [
        &PPO_BUDGET[..],
        &["--set", &expert, "--set", "algo.episodes=2"],
    ]
    .concat();
    check("gail_cartpole", &args, "INT", "interrupted");
    check("airl_cartpole", &args, "KILL", "running");
}

#[test]
fn qprop_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // TRPO's state, the off-policy critic, its target and Adam moments, the replay and the
    // shared minibatch/replay stream: 8 rollouts of 1024 steps, checkpoints every 2.
    let args = [
        "--set",
        "experiment.total_steps=8192",
        "--set",
        "experiment.eval_every=2048",
        "--set",
        "experiment.eval_episodes=3",
        "--set",
        "experiment.checkpoint_every=2048",
        "--set",
        "experiment.backend=ndarray",
        "--set",
        "algo.n_steps=512",
        "--set",
        "algo.critic_gradient_steps=50",
    ];
    check("qprop_pendulum", &args, "INT", "interrupted");
}

#[test]
fn acer_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Network, averaged network, RMSprop state, envs, the replay of segments and its stream
    // (replay from the tenth segment of 160 steps, before the first checkpoint).
    let args = [&PPO_BUDGET[..], &["--set", "algo.replay_start=200"]].concat();
    check("acer_cartpole", &args, "INT", "interrupted");
}

#[test]
fn mappo_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Shared network, Adam, value normalisation, minibatch order, exploration stream and the
    // particle envs' states and RNGs: 40 updates of 32 envs × 25 steps, checkpoints every 5,
    // with the MAPPO code's clipped Huber value loss.
    let args = [
        "--set",
        "env.num_envs=32",
        "--set",
        "algo.batch_size=800",
        "--set",
        "algo.value_loss=huber",
        "--set",
        "algo.clip_range_vf=0.2",
        "--set",
        "experiment.total_steps=32000",
        "--set",
        "experiment.eval_every=8000",
        "--set",
        "experiment.eval_episodes=3",
        "--set",
        "experiment.checkpoint_every=4000",
    ];
    check("mappo_simple_spread", &args, "INT", "interrupted");
}

/// MADDPG/IDDPG on simple_spread: 20,000 steps, learning from 1,000, an update every 10 vector
/// steps on minibatches of 64, checkpoints every 2,000.
const MADDPG_BUDGET: [&str; 18] = [
    "--set",
    "experiment.total_steps=20000",
    "--set",
    "experiment.eval_every=5000",
    "--set",
    "experiment.eval_episodes=2",
    "--set",
    "experiment.checkpoint_every=2000",
    "--set",
    "algo.learning_starts=1000",
    "--set",
    "algo.batch_size=64",
    "--set",
    "algo.train_freq=10",
    "--set",
    "algo.buffer_size=20000",
    "--set",
    "algo.policy.net_arch=[32, 32]",
];

#[test]
fn maddpg_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Every agent's actor, critic, targets and two Adams, the shared replay, the particle envs'
    // states and RNGs, the exploration and minibatch streams and the diagnostics' running sums.
    check("maddpg_simple_spread", &MADDPG_BUDGET, "INT", "interrupted");
}

#[test]
fn iddpg_resumes_without_a_saved_replay_by_refilling_it() {
    let steps = resumes_without_its_replay("iddpg_simple_spread", &MADDPG_BUDGET);
    assert_eq!(steps, ["0", "5000", "10000", "15000", "20000"]);
}

#[test]
fn dqn_killed_between_checkpoints_resumes_to_the_same_curve() {
    // Online and target networks, Adam, replay ring, ε and replay streams.
    check("dqn_cartpole", &DQN_BUDGET, "KILL", "running");
}

#[test]
fn rainbow_dqn_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Prioritised replay (sum tree, max priority) and pending n-step transitions too.
    check("dqn_cartpole_rainbow", &DQN_BUDGET, "INT", "interrupted");
}

/// Runs `name` with `args` to its first checkpoint with and without
/// `experiment.checkpoint_replay`, killing it there: without, the checkpoint is smaller, and the
/// run resumed from it refills its replay and completes (checkpoint dropped). Returns the steps
/// of the resumed run's curve rows.
fn resumes_without_its_replay(name: &str, args: &[&str]) -> Vec<String> {
    let config = experiment(&format!("{name}.toml"));
    let mut sizes = Vec::new();
    let mut steps = Vec::new();
    for keep in ["true", "false"] {
        let out = tempfile::tempdir().unwrap();
        let setting = format!("experiment.checkpoint_replay={keep}");
        let args = [args, &["--set", &setting]].concat();
        let seed = out.path().join(format!("{name}/seed_0"));
        let mut child = start_until_first_checkpoint(&config, out.path(), &args, &seed);
        child.kill().unwrap();
        child.wait().unwrap();
        let size: u64 = std::fs::read_dir(&seed)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".cbor"))
            .map(|e| e.metadata().unwrap().len())
            .sum();
        sizes.push(size);
        if keep == "true" {
            continue;
        }
        let resumed = run(&config, out.path(), &[&args[..], &["--resume"]].concat());
        assert!(
            resumed.status.success(),
            "{}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        let curve = common::read_csv(&seed.join("curve.csv"));
        steps = curve[1..].iter().map(|r| r[0].clone()).collect();
        assert!(
            !seed.join("checkpoint.json").exists(),
            "a complete run drops its checkpoint"
        );
    }
    assert!(
        sizes[1] > 0 && sizes[1] < sizes[0],
        "without the replay a checkpoint is smaller: {sizes:?}"
    );
    steps
}

#[test]
fn dqn_resumes_without_a_saved_replay_buffer_by_refilling_it() {
    let steps = resumes_without_its_replay("dqn_cartpole", &DQN_BUDGET);
    assert_eq!(steps, ["0", "2000", "4000", "6000", "7000"]);
}

#[test]
fn acer_resumes_without_a_saved_replay_by_refilling_it() {
    let args = [&PPO_BUDGET[..], &["--set", "algo.replay_start=200"]].concat();
    let steps = resumes_without_its_replay("acer_cartpole", &args);
    let whole = [&PPO_BUDGET[..], &["--set", "algo.replay_start=200"]].concat();
    let out = tempfile::tempdir().unwrap();
    assert!(
        run(&experiment("acer_cartpole.toml"), out.path(), &whole)
            .status
            .success()
    );
    let uninterrupted = common::read_csv(&out.path().join("acer_cartpole/seed_0/curve.csv"));
    let want: Vec<String> = uninterrupted[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(steps, want, "the resumed run evaluates at the same steps");
}

/// SAC/TD3 on ndarray with small nets: 1600 steps, learning from 200, checkpoints every 400.
const ACTOR_CRITIC_BUDGET: [&str; 16] = [
    "--set",
    "experiment.total_steps=1600",
    "--set",
    "experiment.eval_every=400",
    "--set",
    "experiment.eval_episodes=1",
    "--set",
    "experiment.checkpoint_every=400",
    "--set",
    "experiment.backend=ndarray",
    "--set",
    "algo.learning_starts=200",
    "--set",
    "algo.policy.net_arch=[32, 32]",
    "--set",
    "algo.buffer_size=1000",
];

#[test]
fn sac_with_gsde_killed_between_checkpoints_resumes_to_the_same_curve() {
    // Actor, twin critics and their target, log α, three optimisers, gSDE's matrices.
    let args = [&ACTOR_CRITIC_BUDGET[..], &["--set", "algo.use_sde=true"]].concat();
    check("sac_pendulum", &args, "KILL", "running");
}

#[test]
fn diayn_killed_between_checkpoints_resumes_to_the_same_curve() {
    // SAC's networks and optimisers, the discriminator and its optimiser, each env's skill
    // (100-step episodes: skills are redrawn on both sides of the checkpoints).
    let args = [
        &ACTOR_CRITIC_BUDGET[..],
        &[
            "--set",
            "env.max_episode_steps=100",
            "--set",
            "algo.num_skills=3",
            "--set",
            "algo.disc_net_arch=[16]",
        ],
    ]
    .concat();
    check("diayn_mountaincar_continuous", &args, "KILL", "running");
}

#[test]
fn offpolicy_ac_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Actor, critic and its target, both optimisers, replay; the likelihood-ratio gradient
    // draws its actions from the update stream.
    let args = [
        &ACTOR_CRITIC_BUDGET[..],
        &["--set", "algo.actor_gradient=likelihood_ratio"],
    ]
    .concat();
    check("offpolicy_ac_pendulum", &args, "INT", "interrupted");
}

#[test]
fn td3_with_ou_noise_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Target actor, delayed updates, the Ornstein-Uhlenbeck state.
    let args = [
        &ACTOR_CRITIC_BUDGET[..],
        &["--set", "algo.noise_type=ornstein_uhlenbeck"],
    ]
    .concat();
    check("td3_pendulum", &args, "INT", "interrupted");
}

#[test]
fn resume_keeps_complete_seeds_and_refuses_a_changed_config() {
    let out = tempfile::tempdir().unwrap();
    let config = experiment("q_learning_cliffwalking.toml");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "run",
            config.as_str(),
            "-q",
            "--seeds",
            "0..2",
            "--out",
            out.path().to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let call = |extra: &[&str]| {
        let a = args(extra);
        rl(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            out.path(),
        )
    };
    assert!(
        call(&["--set", "experiment.checkpoint_every=5000"])
            .status
            .success()
    );
    let curve = out.path().join("q_learning_cliffwalking/seed_0/curve.csv");
    let before = std::fs::read_to_string(&curve).unwrap();
    // Complete seeds are kept as they are.
    assert!(
        call(&["--set", "experiment.checkpoint_every=5000", "--resume"])
            .status
            .success()
    );
    assert_eq!(std::fs::read_to_string(&curve).unwrap(), before);
    assert!(
        !curve.with_file_name("checkpoint.json").exists(),
        "a complete seed drops its checkpoint"
    );
    // An incomplete seed whose checkpoint came from another config is not mixed with it.
    let out = tempfile::tempdir().unwrap();
    let seed_dir = out.path().join("q_learning_cliffwalking/seed_0");
    let mut child = start_until_first_checkpoint(&config, out.path(), &LONG, &seed_dir);
    child.kill().unwrap();
    child.wait().unwrap();
    let changed = rl(
        &[
            &[
                "run",
                config.as_str(),
                "-q",
                "--seeds",
                "0",
                "--out",
                out.path().to_str().unwrap(),
                "--set",
                "algo.gamma=0.9",
                "--resume",
            ][..],
            &LONG,
        ]
        .concat(),
        out.path(),
    );
    assert_eq!(changed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&changed.stderr);
    assert!(
        stderr.contains("seed 0 failed")
            && stderr.contains("differs from the experiment being resumed at `algo.gamma`"),
        "{stderr}"
    );
    let meta = std::fs::read_to_string(seed_dir.join("meta.json")).unwrap();
    assert!(
        meta.contains("\"running\""),
        "the folder is left as it was: {meta}"
    );
}
