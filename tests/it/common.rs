//! Helpers shared by the integration tests: run the `rl` binary and read result files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `rl` with `args` in `cwd`.
pub fn rl(args: &[&str], cwd: &Path) -> Output {
    // `RL_TEST_RUNNER` (e.g. `qemu-x86_64 -cpu Haswell`) runs the binary under that command: how
    // golden curves of another SIMD class are written on this machine (tests/it/golden.rs).
    let runner = std::env::var("RL_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(env!("CARGO_BIN_EXE_rl"));
            command
        }
        None => Command::new(env!("CARGO_BIN_EXE_rl")),
    };
    command
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("rl runs")
}

/// Path of a shipped experiment file.
pub fn experiment(name: &str) -> String {
    format!("{}/experiments/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs a shipped experiment quietly into `out` and fails the test unless it succeeds; returns
/// the process's output.
pub fn run_experiment(name: &str, out: &Path, extra: &[&str]) -> Output {
    let config = experiment(name);
    let mut args = vec!["run", config.as_str(), "-q", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let result = rl(&args, out);
    assert!(
        result.status.success(),
        "rl run {name} failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    result
}

/// Trains a short PPO CartPole expert (seed 0, 10,240 steps, one evaluation at the end) into
/// `out` for the imitation tests; returns its seed folder.
pub fn short_ppo_cartpole_expert(out: &Path) -> PathBuf {
    run_experiment(
        "ppo_cartpole.toml",
        out,
        &[
            "--seeds",
            "0",
            "--set",
            "experiment.total_steps=10240",
            "--set",
            "experiment.eval_every=10240",
        ],
    );
    out.join("ppo_cartpole/seed_0")
}

/// The rows of a CSV file as string cells, header first.
pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// `eval_return_mean` of the last row of a seed's curve.csv.
pub fn final_eval(seed_dir: &Path) -> f64 {
    final_value(seed_dir, "eval_return_mean")
}

/// Column `name` of the last row of a seed's curve.csv.
pub fn final_value(seed_dir: &Path, name: &str) -> f64 {
    let rows = read_csv(&seed_dir.join("curve.csv"));
    let col = rows[0]
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {}", seed_dir.display()));
    rows.last().unwrap()[col].parse().unwrap()
}

/// Columns that measure time: training seconds, steps per second, planning ms per step.
pub const WALL_CLOCK_COLUMNS: [&str; 3] = ["wall_s", "sps", "plan_ms"];

/// A CSV with its wall-clock columns removed, for determinism checks.
pub fn without_wall_clock(path: &Path) -> Vec<Vec<String>> {
    let rows = read_csv(path);
    let keep: Vec<bool> = rows[0]
        .iter()
        .map(|c| !WALL_CLOCK_COLUMNS.contains(&c.as_str()))
        .collect();
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c)
                .collect()
        })
        .collect()
}
