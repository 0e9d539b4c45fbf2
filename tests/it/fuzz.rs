//! Config fuzzing: the shipped experiment files, mutated (keys deleted, values swapped for
//! another type or an out-of-range number, unicode inserted, tables renamed or doubled, bytes
//! flipped, the file truncated), must make `rl validate` answer 0 or 2 — never panic.
//!
//! `make test` runs `RL_FUZZ_CASES` (default 300) seeded cases; `make fuzz` runs 20,000 and
//! truncates every file at every byte as well.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rl::cli::ValidateArgs;
use rl::commands::validate;

/// Every shipped experiment: (file name, text).
fn shipped() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        // Validating a bridged file starts Python workers: tests/bridge.rs checks those.
        .filter(|p| !crate::golden::bridged(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// Values of every TOML type, out-of-range and odd numbers, odd strings.
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "-9223372036854775808",
    "9223372036854775807",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    "0.5",
    "-0.0",
    "true",
    "false",
    "\"\"",
    "\"x\"",
    "\"0..5\"",
    "\"5..0\"",
    "\"0..=18446744073709551615\"",
    "\"CartPole-v1\"",
    "\"wgpu\"",
    "\"ünïcödé ✓ 🚀 \\u202e\"",
    "[]",
    "[0]",
    "[-1, 2]",
    "[0, 0]",
    "[\"a\", 1]",
    "[[1], [2]]",
    "{}",
    "{ a = 1 }",
    "1979-05-27T07:32:00Z",
];

/// Text inserted at a random place: unicode, TOML syntax, control characters.
const INSERTS: &[&str] = &[
    "é",
    "🚀",
    "\u{200b}",
    "\u{202e}",
    "\u{0301}",
    "\0",
    "\t",
    "\r",
    "\n",
    "\"",
    "'",
    "=",
    "[",
    "]]",
    "#",
    ".",
    "[algo.policy]\n",
    "[[env]]\n",
    "[experiment]\n",
    "seeds = \"0..3\"\n",
    "unknown_key = 1\n",
    "name = \"dqn\"\n",
];

fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// The byte offsets of `text`'s char boundaries.
fn boundaries(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect()
}

/// One random mutation of `text`, as bytes (some are not UTF-8).
fn mutate(text: &str, rng: &mut impl Rng) -> Vec<u8> {
    let lines: Vec<&str> = text.lines().collect();
    let assignments: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains('=') && !lines[i].trim_start().starts_with('#'))
        .collect();
    let rejoin = |lines: &[String]| lines.join("\n").into_bytes();
    let mut owned: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match rng.random_range(0..8) {
        // Delete a key.
        0 if !assignments.is_empty() => {
            owned.remove(*pick(rng, &assignments));
            rejoin(&owned)
        }
        // Give a key a value of another type or out of range.
        1 | 2 if !assignments.is_empty() => {
            let i = *pick(rng, &assignments);
            let key = owned[i].split('=').next().unwrap().to_string();
            owned[i] = format!("{key}= {}", pick(rng, VALUES));
            rejoin(&owned)
        }
        // Insert text at a char boundary.
        3 => {
            let at = *pick(rng, &boundaries(text));
            let mut s = text.to_string();
            let insert: &&str = pick(rng, INSERTS);
            s.insert_str(at, insert);
            s.into_bytes()
        }
        // Rename or double a table header.
        4 => {
            let headers: Vec<usize> = (0..owned.len())
                .filter(|&i| owned[i].starts_with('['))
                .collect();
            if headers.is_empty() {
                return text.as_bytes().to_vec();
            }
            let i = *pick(rng, &headers);
            if rng.random::<bool>() {
                owned[i] = pick(
                    rng,
                    &["[expriment]", "[evn]", "[algo.policy.x]", "[env.id]", "[]"],
                )
                .to_string();
            } else {
                let header = owned[i].clone();
                owned.push(header);
            }
            rejoin(&owned)
        }
        // Flip a byte.
        5 => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let i = rng.random_range(0..bytes.len());
                bytes[i] ^= 1 << rng.random_range(0..8);
            }
            bytes
        }
        // Truncate anywhere (possibly inside a UTF-8 sequence).
        6 => {
            let at = rng.random_range(0..=text.len());
            text.as_bytes()[..at].to_vec()
        }
        // Several mutations at once.
        _ => {
            let once = String::from_utf8_lossy(&mutate(text, rng)).into_owned();
            mutate(&once, rng)
        }
    }
}

/// `rl validate` on `bytes`: Ok for exit 0 or 2, Err with the input when it panicked.
fn validate_bytes(bytes: &[u8], scratch: &Path) -> Result<(), String> {
    std::fs::write(scratch, bytes).unwrap();
    let args = ValidateArgs {
        config: scratch.to_path_buf(),
        overrides: Vec::new(),
    };
    match catch_unwind(AssertUnwindSafe(|| validate(&args))) {
        Ok(_) => Ok(()),
        Err(_) => Err(String::from_utf8_lossy(bytes).into_owned()),
    }
}

fn cases() -> usize {
    std::env::var("RL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

#[test]
fn mutated_experiment_files_never_panic_validate() {
    let files = shipped();
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("fuzzed.toml");
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let n = cases();
    for case in 0..n {
        let (name, text) = &files[case % files.len()];
        let bytes = mutate(text, &mut rng);
        if let Err(input) = validate_bytes(&bytes, &scratch) {
            panic!("case {case} (from {name}) panicked `rl validate` on:\n{input}");
        }
    }
    // The long run (`make fuzz`) also truncates every file at every byte.
    if n >= 10_000 {
        for (name, text) in &files {
            for at in 0..text.len() {
                if let Err(input) = validate_bytes(&text.as_bytes()[..at], &scratch) {
                    panic!("{name} truncated at byte {at} panicked `rl validate` on:\n{input}");
                }
            }
        }
    }
}

/// The mutations are not no-ops: most mutated files are refused (exit 2), some still load.
#[test]
fn mutations_reach_both_answers() {
    let files = shipped();
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("fuzzed.toml");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut ok, mut refused) = (0, 0);
    for case in 0..200 {
        let (_, text) = &files[case % files.len()];
        std::fs::write(&scratch, mutate(text, &mut rng)).unwrap();
        let args = ValidateArgs {
            config: scratch.clone(),
            overrides: Vec::new(),
        };
        match validate(&args) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(refused >= 100 && ok >= 10, "{ok} loaded, {refused} refused");
}
