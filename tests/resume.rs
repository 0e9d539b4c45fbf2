//! Checkpoints and `rl run --resume`: a run stopped by Ctrl-C (SIGINT) or killed (SIGKILL)
//! between checkpoints and then resumed ends with the same curve.csv and episodes.csv as an
//! uninterrupted run, wall-clock columns aside.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{experiment, rl, without_wall_clock};

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
    args.extend_from_slice(&LONG);
    args.extend_from_slice(extra);
    rl(&args, out)
}

/// Runs `name` uninterrupted, and again stopped by `signal` after its first checkpoint and then
/// resumed; the two must agree.
fn check(name: &str, extra: &[&str], signal: &str, status_after_stop: &str) {
    let config = experiment(&format!("{name}.toml"));
    let whole = tempfile::tempdir().unwrap();
    assert!(run(&config, whole.path(), extra).status.success());

    let stopped = tempfile::tempdir().unwrap();
    let mut args = vec![
        "run",
        config.as_str(),
        "-q",
        "--seeds",
        "0",
        "--out",
        stopped.path().to_str().unwrap(),
    ];
    args.extend_from_slice(&LONG);
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rl"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let seed_dir = stopped.path().join(format!("{name}/seed_0"));
    let started = Instant::now();
    while !seed_dir.join("checkpoint.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // The shell's own `kill`, so no procps is needed.
    let sent = Command::new("sh")
        .args(["-c", &format!("kill -s {signal} {}", child.id())])
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait().unwrap();
    let meta = std::fs::read_to_string(seed_dir.join("meta.json")).unwrap();
    assert!(
        meta.contains(&format!("\"status\": \"{status_after_stop}\"")),
        "stopped before the end: {meta}"
    );

    let resumed = run(&config, stopped.path(), &[extra, &["--resume"]].concat());
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
    check("q_learning_taxi", &[], "KILL", "running");
}

#[test]
fn sarsa_lambda_stopped_by_ctrl_c_resumes_to_the_same_curve() {
    // Slippery FrozenLake: the envs' own RNG must be restored too.
    check(
        "expected_sarsa_frozenlake",
        &["--set", "algo.name=sarsa_lambda"],
        "INT",
        "interrupted",
    );
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
    // An incomplete seed whose checkpoint came from another config is not mixed with it.
    let meta = out.path().join("q_learning_cliffwalking/seed_1/meta.json");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("\"complete\"", "\"interrupted\"");
    std::fs::write(&meta, text).unwrap();
    let changed = call(&[
        "--set",
        "experiment.checkpoint_every=5000",
        "--set",
        "algo.gamma=0.9",
        "--resume",
    ]);
    assert_eq!(changed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&changed.stderr);
    assert!(
        stderr.contains("seed 1 failed")
            && stderr.contains("differs from the experiment being resumed"),
        "{stderr}"
    );
    let meta = std::fs::read_to_string(&meta).unwrap();
    assert!(
        meta.contains("\"interrupted\""),
        "the folder is left as it was: {meta}"
    );
}
