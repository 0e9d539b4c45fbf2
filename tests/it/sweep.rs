//! `rl sweep`: bad sweep input exits 2 naming the culprit and writes nothing; the same file
//! gives the same manifest; a job's curves equal `rl run` of its trial's config; a task runs
//! one job; status and best read the folders. (The Slurm test is tests/slurm/sweep_test.sh.)

use crate::common;

use std::path::Path;

use crate::common::{rl, without_wall_clock};

const BASE: &str = r#"
[experiment]
name = "tiny"
seeds = "0..2"
total_steps = 2000
eval_every = 1000
eval_episodes = 5

[env]
id = "CliffWalking-v0"

[algo]
name = "q_learning"
"#;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `BASE` plus `sweep` as `s.toml` in `dir`.
fn sweep_file(dir: &Path, sweep: &str) -> String {
    let path = dir.join("s.toml");
    std::fs::write(&path, format!("{BASE}\n[sweep]\n{sweep}\n")).unwrap();
    path.display().to_string()
}

/// `rl sweep <command> <file> <extra>` on a sweep table: exit 2, one error line with every
/// fragment, no results folder.
fn assert_rejected(command: &str, sweep: &str, extra: &[&str], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), sweep);
    let mut args = vec!["sweep", command, file.as_str(), "--out", "out"];
    args.extend_from_slice(extra);
    let out = rl(&args, dir.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{sweep}: {err}");
    assert_eq!(err.lines().count(), 1, "one message: {err}");
    for fragment in expected {
        assert!(err.contains(fragment), "`{fragment}` not in: {err}");
    }
    assert!(
        !dir.path().join("out").exists(),
        "{sweep}: something was written"
    );
}

#[test]
fn bad_sweeps_exit_2_naming_the_culprit_and_write_nothing() {
    let cases: &[(&str, &[&str])] = &[
        (
            "\"algo.learnin_rate\" = [0.1, 0.5]",
            &["algo.learnin_rate", "did you mean `learning_rate`"],
        ),
        (
            "sampels = 3\n\"algo.gamma\" = [0.9]",
            &["sweep.sampels", "did you mean `samples`"],
        ),
        (
            "\"algo.learning_rate\" = { uniform = [0.5, 0.5] }\nsamples = 2",
            &[
                "algo.learning_rate",
                "uniform = [0.5, 0.5]",
                "low must be below high",
            ],
        ),
        (
            "\"algo.learning_rate\" = { log_uniform = [0, 1] }\nsamples = 2",
            &["algo.learning_rate", "log_uniform = [0, 1]", "> 0"],
        ),
        (
            "\"algo.learning_rate\" = []",
            &["algo.learning_rate", "empty list"],
        ),
        (
            "\"algo.learning_rate\" = [0.5, -1]",
            &["s.toml", "algo.learning_rate=-1", "trial learning_rate=-1"],
        ),
        (
            "\"algo.learning_rate\" = { integer = [1, 3] }",
            &["sweep.samples: missing"],
        ),
        (
            "\"experiment.seeds\" = [\"0..2\"]",
            &["experiment.seeds", "cannot be swept"],
        ),
    ];
    for (sweep, expected) in cases {
        assert_rejected("plan", sweep, &[], expected);
        assert_rejected("run", sweep, &[], expected);
    }
}

#[test]
fn without_sbatch_slurm_says_slurm_is_missing_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "\"algo.learning_rate\" = [0.1, 0.5]");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rl"))
        .args(["sweep", "slurm", &file, "--out", "out"])
        .current_dir(dir.path())
        .env("PATH", dir.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Slurm is not installed") && err.contains("--dry-run"),
        "{err}"
    );
    assert!(!dir.path().join("out").exists());
    // --dry-run prints the script and writes nothing.
    let out = rl(
        &[
            "sweep",
            "slurm",
            &file,
            "--out",
            "out",
            "--dry-run",
            "--max-parallel",
            "3",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let script = stdout(&out);
    for line in [
        "#SBATCH --array=0-3%3",
        "#SBATCH --requeue",
        "#SBATCH --signal=B:TERM@60",
    ] {
        assert!(script.contains(line), "{script}");
    }
    assert!(script.contains("sweep task") && script.contains("$SLURM_ARRAY_TASK_ID"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn the_same_file_gives_the_same_manifest_and_another_sweep_is_refused() {
    let sweep = "\"algo.learning_rate\" = { log_uniform = [0.01, 1.0] }\n\
                 \"algo.exploration_decay\" = [\"linear\", \"exponential\"]\nsamples = 3\nseed = 4";
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        let file = sweep_file(dir.path(), sweep);
        let out = rl(&["sweep", "plan", &file, "--out", "out"], dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("6 trials × 2 seeds = 12 jobs"),
            "{}",
            stdout(&out)
        );
    }
    let manifest = |d: &Path| std::fs::read_to_string(d.join("out/s/sweep.jsonl")).unwrap();
    assert_eq!(manifest(a.path()), manifest(b.path()));
    assert_eq!(manifest(a.path()).lines().count(), 12);
    // Planning again is fine; another sweep under the same name is refused, its folder kept.
    let file = sweep_file(a.path(), sweep);
    assert!(
        rl(&["sweep", "plan", &file, "--out", "out"], a.path())
            .status
            .success()
    );
    let other = sweep_file(a.path(), &sweep.replace("seed = 4", "seed = 5"));
    let out = rl(&["sweep", "run", &other, "--out", "out"], a.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sweep.jsonl: a manifest from a different sweep file"),
        "{err}"
    );
    assert_eq!(manifest(a.path()), manifest(b.path()));
}

#[test]
fn jobs_equal_rl_run_of_their_trial_and_tasks_status_and_best_read_the_folders() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "\"algo.learning_rate\" = [0.1, 0.5]");
    let plan = rl(&["sweep", "plan", &file, "--out", "out", "-q"], dir.path());
    assert!(plan.status.success(), "{}", stderr(&plan));

    // One task runs one job; an index past the end is refused.
    let manifest = dir.path().join("out/s/sweep.jsonl");
    let manifest = manifest.to_str().unwrap();
    let out = rl(&["sweep", "task", manifest, "--index", "3"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("job 3 (learning_rate=0.5 seed 1): complete"));
    let out = rl(&["sweep", "task", manifest, "--index", "4"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--index 4: out of range"),
        "{}",
        stderr(&out)
    );
    let status = rl(&["sweep", "status", "out/s"], dir.path());
    assert!(
        stdout(&status).contains("1 complete, 0 running, 0 interrupted, 0 failed, 3 pending"),
        "{}",
        stdout(&status)
    );

    let out = rl(
        &["sweep", "run", &file, "--out", "out", "--jobs", "2"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("learning_rate=0.1  q_learning"),
        "{}",
        stdout(&out)
    );
    let trial = "out/s/learning_rate=0.5";
    let config = format!("{trial}/config.toml");
    let again = rl(
        &["run", &config, "--seeds", "1", "--out", "again", "-q"],
        dir.path(),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    for csv in ["curve.csv", "episodes.csv"] {
        assert_eq!(
            without_wall_clock(&dir.path().join(trial).join("seed_1").join(csv)),
            without_wall_clock(&dir.path().join("again/learning_rate=0.5/seed_1").join(csv)),
            "{csv}"
        );
    }

    let best = rl(&["sweep", "best", "out/s", "--metric", "auc"], dir.path());
    assert!(best.status.success(), "{}", stderr(&best));
    let text = stdout(&best);
    assert!(
        text.contains("# The best trial of sweep s by auc: learning_rate="),
        "{text}"
    );
    std::fs::write(dir.path().join("best.toml"), &text).unwrap();
    let valid = rl(&["validate", "best.toml"], dir.path());
    assert!(valid.status.success(), "{}", stderr(&valid));
    assert!(stdout(&valid).contains("name = \"s_best\""));
}

#[test]
fn shipped_sweeps_plan() {
    let dir = tempfile::tempdir().unwrap();
    for (file, jobs) in [
        (
            "sweep_q_learning_taxi.toml",
            "12 trials × 5 seeds = 60 jobs",
        ),
        ("sweep_ppo_cartpole.toml", "9 trials × 3 seeds = 27 jobs"),
    ] {
        let path = common::experiment(file);
        let out = rl(&["sweep", "plan", &path, "--out", "out"], dir.path());
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        assert!(stdout(&out).contains(jobs), "{}", stdout(&out));
    }
}
