//! `rl sweep slurm`: an sbatch script whose array tasks each run one job of the manifest
//! (`rl sweep task <manifest> --index $SLURM_ARRAY_TASK_ID`), requeueable, with SIGTERM sent a
//! minute before the time limit so that a task checkpoints and a later task resumes it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::UsageError;

/// The scheduler's options of the array.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    pub time: Option<String>,
    pub cpus_per_task: u32,
    pub mem: Option<String>,
    /// Tasks running at once (`%K`).
    pub max_parallel: Option<usize>,
    /// Further `#SBATCH` lines, e.g. `--account=abc` or `--qos=high`.
    pub sbatch_args: Vec<String>,
}

/// Seconds before the time limit at which a task gets SIGTERM (`--signal=B:TERM@60`).
const SIGNAL_LEAD_S: u32 = 60;

/// The sbatch script of the jobs `indices` of the manifest at `manifest`, run by the `rl`
/// binary at `rl`; each task's output goes to `logs/<array id>_<index>.out`.
pub fn script(
    name: &str,
    indices: &[usize],
    opts: &SlurmOptions,
    rl: &Path,
    manifest: &Path,
    logs: &Path,
) -> String {
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!("#SBATCH --job-name={name}"),
        format!("#SBATCH --array={}", array_spec(indices, opts.max_parallel)),
        "#SBATCH --requeue".to_string(),
        format!("#SBATCH --signal=B:TERM@{SIGNAL_LEAD_S}"),
        format!("#SBATCH --output={}/%A_%a.out", logs.display()),
        "#SBATCH --open-mode=append".to_string(),
        "#SBATCH --ntasks=1".to_string(),
        format!("#SBATCH --cpus-per-task={}", opts.cpus_per_task),
    ];
    let optional = [
        ("partition", &opts.partition),
        ("time", &opts.time),
        ("mem", &opts.mem),
    ];
    for (flag, value) in optional {
        if let Some(value) = value {
            lines.push(format!("#SBATCH --{flag}={value}"));
        }
    }
    for arg in &opts.sbatch_args {
        lines.push(format!("#SBATCH {arg}"));
    }
    lines.extend([
        String::new(),
        "# One task = one (trial, seed) job of the manifest. `exec` makes rl the batch shell, so"
            .into(),
        "# the SIGTERM of --signal=B:TERM reaches it: it checkpoints, marks the job interrupted"
            .into(),
        "# and exits 143; a requeued or resubmitted task continues from the checkpoint.".into(),
        "export RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"".into(),
        format!(
            "exec {} sweep task {} --index \"$SLURM_ARRAY_TASK_ID\"",
            quote(&rl.display().to_string()),
            quote(&manifest.display().to_string())
        ),
    ]);
    lines.join("\n") + "\n"
}

/// `0-3,5,7-9%K`: the indices as ranges, then the limit of tasks at once.
pub fn array_spec(indices: &[usize], max_parallel: Option<usize>) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &i in indices {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => ranges.push((i, i)),
        }
    }
    let spec: Vec<String> = ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    let limit = max_parallel.map_or(String::new(), |k| format!("%{k}"));
    spec.join(",") + &limit
}

/// A shell word for `text` (single-quoted when it holds anything but safe characters).
fn quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_-.=,+:".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `sbatch` on the PATH, or the error that says Slurm is not installed.
pub fn sbatch() -> Result<PathBuf, UsageError> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("sbatch"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            UsageError::new(
                "sbatch is not on the PATH: Slurm is not installed on this machine (submit from \
                 a cluster's login node); `rl sweep slurm --dry-run` prints the script",
            )
        })
}

/// Submits `script` with `sbatch`; returns the array's job id.
pub fn submit(sbatch: &Path, script: &Path) -> anyhow::Result<String> {
    let out = Command::new(sbatch)
        .arg("--parsable")
        .arg(script)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "sbatch {} failed ({}): {}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let id = String::from_utf8_lossy(&out.stdout);
    Ok(id.trim().split(';').next().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specs_compress_runs_of_indices() {
        assert_eq!(array_spec(&[0, 1, 2, 3], Some(2)), "0-3%2");
        assert_eq!(array_spec(&[0, 2, 3, 4, 7], None), "0,2-4,7");
    }

    #[test]
    fn the_script_runs_one_job_per_task_and_takes_every_option() {
        let opts = SlurmOptions {
            partition: Some("gpu".into()),
            time: Some("1:00:00".into()),
            cpus_per_task: 2,
            mem: Some("4G".into()),
            max_parallel: Some(8),
            sbatch_args: vec!["--account=abc".into(), "--qos=high".into()],
        };
        let text = script(
            "s",
            &[0, 1, 2],
            &opts,
            Path::new("/opt/rl"),
            Path::new("/r/s/sweep.jsonl"),
            Path::new("/r/s/slurm"),
        );
        for line in [
            "#SBATCH --array=0-2%8",
            "#SBATCH --requeue",
            "#SBATCH --signal=B:TERM@60",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=1:00:00",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --mem=4G",
            "#SBATCH --account=abc",
            "#SBATCH --qos=high",
            "#SBATCH --output=/r/s/slurm/%A_%a.out",
            "exec /opt/rl sweep task /r/s/sweep.jsonl --index \"$SLURM_ARRAY_TASK_ID\"",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
        assert_eq!(quote("/a b/it's"), "'/a b/it'\\''s'");
    }
}
