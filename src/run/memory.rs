//! The memory check before a run: the config's estimate (seeds at once × one seed's footprint,
//! plus the process) against `--max-memory` or what this machine (or its cgroup, under Slurm or
//! a container) has available. A run that cannot fit is refused before anything is written.

use crate::algo::footprint::{PROCESS_BYTES, SEED_BYTES};
use crate::config::Experiment;
use crate::error::UsageError;

/// Refuses the run when `seeds_at_once` seeds of `exp` need more than `limit` bytes (given
/// with `--max-memory`) or, without one, more than this machine has available.
pub fn check(exp: &Experiment, seeds_at_once: usize, limit: Option<u64>) -> Result<(), UsageError> {
    let (limit, source) = match limit {
        Some(bytes) => (bytes, format!("--max-memory is {}", human(bytes))),
        None => match available() {
            Some(bytes) => (
                bytes,
                format!("this machine has {} available", human(bytes)),
            ),
            None => return Ok(()),
        },
    };
    let footprint = exp.footprint();
    let per_seed = footprint.total();
    let need = (seeds_at_once as u64)
        .saturating_mul(per_seed)
        .saturating_add(PROCESS_BYTES);
    if need <= limit {
        return Ok(());
    }
    let mut parts: Vec<String> = footprint
        .parts
        .iter()
        .map(|p| format!("{} {} ({})", p.what, human(p.bytes), p.keys))
        .collect();
    parts.push(format!("{} fixed", human(SEED_BYTES)));
    let largest = footprint
        .parts
        .iter()
        .max_by_key(|p| p.bytes)
        .filter(|p| p.bytes > SEED_BYTES)
        .map_or_else(String::new, |p| format!("lower {}, ", p.keys));
    Err(UsageError::new(format!(
        "the run needs about {} of memory ({seeds_at_once} at once × {} per seed: {}; and {} \
         for the process) but {source}: {largest}run fewer seeds at once (--jobs), or set \
         --max-memory",
        human(need),
        human(per_seed),
        parts.join(", "),
        human(PROCESS_BYTES),
    )))
}

/// Bytes this process may still take: the kernel's `MemAvailable`, or less when its cgroup
/// (v2) has a `memory.max` below that. `None` where neither can be read (not Linux).
fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let machine = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)?;
    Some(cgroup_headroom().map_or(machine, |c| c.min(machine)))
}

/// `memory.max − memory.current` of this process's cgroup v2, when it sets a limit.
fn cgroup_headroom() -> Option<u64> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let max = read("memory.max")?.trim().parse::<u64>().ok()?;
    let current = read("memory.current").and_then(|c| c.trim().parse::<u64>().ok());
    Some(max.saturating_sub(current.unwrap_or(0)))
}

/// Parses a size for `--max-memory`: bytes, or a number with `K`, `M`, `G` or `T` (powers of
/// 1024; `KB`/`KiB` spellings too), e.g. `512M`, `1.5G`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; e.g. 512M, 8G or 1073741824"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`; use K, M, G or T"
            ));
        }
    };
    let bytes = number * (1u64 << shift) as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` must be at least one byte"));
    }
    Ok(bytes as u64)
}

/// Bytes in binary units, three significant digits (`16.0 GiB`).
fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1 t"), Ok(1 << 40));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("8X").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn human_units() {
        assert_eq!(human(100), "100 B");
        assert_eq!(human(16 << 30), "16.0 GiB");
        assert_eq!(human(3 << 19), "1.5 MiB");
    }

    #[test]
    fn this_machine_reports_its_memory() {
        if cfg!(target_os = "linux") {
            assert!(available().is_some_and(|b| b > 0));
        }
    }
}
