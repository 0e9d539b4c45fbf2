//! Seeds in CI: `--shard`, `rl merge`, `rl check` (expectations, a baseline, reports) and
//! `examples/ci/local.sh`, on a fast tabular experiment.

use std::path::Path;
use std::process::Output;

use crate::common::{experiment, rl, without_wall_clock};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CLIFF: &str = "q_learning_cliffwalking.toml";

/// `rl run` of the cliff experiment (short budget) with `extra` arguments, exit 0 expected.
fn run(dir: &Path, extra: &[&str]) {
    let config = experiment(CLIFF);
    let mut args = vec![
        "run",
        config.as_str(),
        "-q",
        "--set",
        "experiment.total_steps=4000",
        "--set",
        "experiment.eval_every=1000",
    ];
    args.extend_from_slice(extra);
    let out = rl(&args, dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn shards_merge_into_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 0..3 {
        run(
            d,
            &[
                "--seeds",
                "0..5",
                "--shard",
                &format!("{i}/3"),
                "--out",
                &format!("s{i}"),
            ],
        );
    }
    run(d, &["--seeds", "0..5", "--out", "full"]);
    // Shard 1/3 ran seeds 1 and 4 only.
    let shard1: Vec<_> = std::fs::read_dir(d.join("s1/q_learning_cliffwalking"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(shard1.len(), 2, "{shard1:?}");
    let out = rl(&["merge", "merged", "s0", "s1", "s2"], d);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("merged 5 seeds (0,1,2,3,4)"),
        "{}",
        stdout(&out)
    );
    for seed in 0..5 {
        for file in ["curve.csv", "episodes.csv"] {
            let path =
                |root: &str| d.join(format!("{root}/q_learning_cliffwalking/seed_{seed}/{file}"));
            assert_eq!(
                without_wall_clock(&path("merged")),
                without_wall_clock(&path("full")),
                "seed {seed} {file}"
            );
        }
    }
    // rl compare pools the shards without a merge.
    let out = rl(&["compare", "s0", "s1", "s2"], d);
    assert!(stdout(&out).contains("5/5"), "{}", stdout(&out));
    // The recorded [expect] (final -13 on every seed) holds; an impossible one fails, JUnit names it.
    let out = rl(&["check", "merged"], d);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("PASS") && stdout(&out).contains("final ≥ -13 on ≥ 5/5 seeds"));
    let out = rl(
        &["check", "merged", "--min-iqm", "0", "--report", "check.xml"],
        d,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let xml = std::fs::read_to_string(d.join("check.xml")).unwrap();
    assert!(
        xml.contains("failures=\"1\"") && xml.contains("name=\"IQM of finals ≥ 0\""),
        "{xml}"
    );
    // A missing seed counts as failing.
    let out = rl(&["check", "s0", "--min-final", "-13"], d);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("seeds 1,2,4 missing or incomplete"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn merges_of_different_experiments_or_results_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(d, &["--seeds", "0", "--out", "a"]);
    run(
        d,
        &["--seeds", "1", "--out", "b", "--set", "algo.gamma=0.9"],
    );
    let out = rl(&["merge", "m", "a", "b"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not the same experiment") && stderr(&out).contains("algo.gamma"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("m").exists(), "nothing written");
    // The same seed with other results (a tampered curve) is refused, both folders named.
    run(d, &["--seeds", "0", "--out", "c"]);
    let curve = d.join("c/q_learning_cliffwalking/seed_0/curve.csv");
    let text = std::fs::read_to_string(&curve)
        .unwrap()
        .replace("-13,", "-14,");
    std::fs::write(&curve, text).unwrap();
    let out = rl(&["merge", "m", "a", "c"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("seed 0 of q_learning_cliffwalking is in")
            && stderr(&out).contains("with different results"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("m").exists(), "nothing written");
}

#[test]
fn bad_ci_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = experiment(CLIFF);
    for shard in ["3/2", "0/0", "a/b"] {
        let out = rl(&["run", &config, "--shard", shard], d);
        assert_eq!(out.status.code(), Some(2), "--shard {shard}");
        assert!(stderr(&out).contains(shard), "{}", stderr(&out));
    }
    std::fs::create_dir(d.join("empty")).unwrap();
    let out = rl(&["check", "empty", "--min-final", "0"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a result folder"),
        "{}",
        stderr(&out)
    );
    run(d, &["--seeds", "0", "--out", "r"]);
    let out = rl(&["check", "r", "--min-final", "0", "--alpha", "1.5"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--alpha 1.5"), "{}", stderr(&out));
    let text = std::fs::read_to_string(&config).unwrap() + "min_finale = 3\n";
    std::fs::write(d.join("x.toml"), text).unwrap();
    let out = rl(&["validate", "x.toml"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expect.min_finale")
            && stderr(&out).contains("did you mean `min_final`"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("results").exists());
}

/// The gate catches a real regression: the same experiment with a learning rate 100× too small.
#[test]
fn a_learning_rate_100x_too_small_fails_against_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(d, &["--seeds", "0..5", "--out", "baseline"]);
    run(d, &["--seeds", "10..15", "--out", "same"]);
    run(
        d,
        &[
            "--seeds",
            "10..15",
            "--out",
            "slow",
            "--set",
            "algo.learning_rate=0.005",
        ],
    );
    let out = rl(
        &[
            "check",
            "same",
            "--baseline",
            "baseline",
            "--tolerance",
            "1",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = rl(
        &[
            "check",
            "slow",
            "--baseline",
            "baseline",
            "--tolerance",
            "1",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("not worse than baseline"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_local_ci_script_shards_merges_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ci/local.sh");
    let out = std::process::Command::new("bash")
        .args([script, &experiment(CLIFF), "3", "0..5"])
        .env("RL", env!("CARGO_BIN_EXE_rl"))
        .env("WORK", dir.path().join("work"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("| ✅ PASS |"), "{}", stdout(&out));
    assert!(dir.path().join("work/check.xml").is_file());
}
