//! Successor representations and features on FourRooms-v0, run from the shipped experiments:
//! GPI over the learned base policies scores at least the best base policy on the new task
//! (Barreto et al. 2017, Theorem 1) and fits the task's weights; the TD-learned SR approaches
//! the closed form; bad input is refused. Run optimised.

use std::path::Path;

use crate::common::{experiment, final_eval, final_value, read_csv, rl, run_experiment};

/// Column `name` of a seed's curve.csv as numbers.
fn column(seed_dir: &Path, name: &str) -> Vec<f64> {
    let rows = read_csv(&seed_dir.join("curve.csv"));
    let col = rows[0].iter().position(|c| c == name).expect("column");
    rows[1..]
        .iter()
        .map(|r| r[col].parse().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn gpi_on_the_new_task_scores_at_least_the_best_base_policy() {
    let out = tempfile::tempdir().unwrap();
    run_experiment(
        "successor_features_fourrooms.toml",
        out.path(),
        &["--seeds", "0..3"],
    );
    for seed in 0..3 {
        let dir = out
            .path()
            .join(format!("successor_features_fourrooms/seed_{seed}"));
        let gpi = final_eval(&dir);
        let base = final_value(&dir, "best_base_return");
        assert!(
            gpi >= base,
            "seed {seed}: GPI {gpi} < best base policy {base}"
        );
        assert_eq!(gpi, 1.0, "seed {seed}: GPI does not reach the best goal");
        let w_error = final_value(&dir, "w_error");
        assert!(w_error < 1e-2, "seed {seed}: max |w - w_true| = {w_error}");
    }
}

#[test]
fn td_learned_sr_approaches_the_closed_form_on_four_rooms() {
    let out = tempfile::tempdir().unwrap();
    let extra = ["--seeds", "0..2", "--set", "experiment.eval_every=250000"];
    run_experiment(
        "successor_representation_fourrooms.toml",
        out.path(),
        &extra,
    );
    for seed in 0..2 {
        let dir = out
            .path()
            .join(format!("successor_representation_fourrooms/seed_{seed}"));
        let sr = column(&dir, "sr_error");
        let value = column(&dir, "value_error");
        // From M = I and r = 0 at step 0 to 1M steps (measured: 2.51 to 0.22-0.27, and 0.54 to
        // 0.03-0.05, on seeds 0-4).
        let (sr_end, value_end) = (sr[sr.len() - 1], value[value.len() - 1]);
        assert!(sr_end < 0.15 * sr[0], "seed {seed}: sr_error {sr:?}");
        assert!(
            value_end < 0.15 * value[0],
            "seed {seed}: value_error {value:?}"
        );
    }
}

/// `rl validate` of `text` (written next to `dir`) fails with a usage error naming `wants`.
fn assert_rejected(dir: &Path, text: &str, wants: &[&str]) {
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let out = rl(&["validate", path.to_str().unwrap()], dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for want in wants {
        assert!(stderr.contains(want), "no `{want}` in: {stderr}");
    }
}

#[test]
fn successor_methods_reject_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(experiment("successor_features_fourrooms.toml")).unwrap();
    assert_rejected(
        dir.path(),
        &good
            .replace("id = \"FourRooms-v0\"", "id = \"CliffWalking-v0\"")
            .replace("features = [[0, 10], [10, 0], [10, 10]]\n", "")
            .replace("task = [-1.0, 0.5, 1.0]\n", ""),
        &["env.id", "reward is linear in observable features"],
    );
    assert_rejected(
        dir.path(),
        &good.replace("task = [-1.0, 0.5, 1.0]", "task = [1.0, 2.0]"),
        &["task", "one finite weight per feature cell"],
    );
    assert_rejected(
        dir.path(),
        &good.replace("[0, 10], [10, 0]", "[0, 5], [10, 0]"),
        &["features", "is a wall"],
    );
    assert_rejected(
        dir.path(),
        &good.replace("w_init = 1.0", "w_ridge = 0.0"),
        &["algo.w_ridge"],
    );
    let sr = std::fs::read_to_string(experiment("successor_representation_fourrooms.toml"))
        .unwrap()
        .replace("gamma = 0.95", "gamma = 1.0");
    assert_rejected(dir.path(), &sr, &["algo.gamma"]);
}
