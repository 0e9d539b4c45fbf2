//! The gymnasium bridge: gymnasium's CartPole-v1 through a Python worker against rl's own,
//! seeds, auto-reset, bad input (exit 2) and a worker killed mid-run (that seed fails, the
//! others complete, no worker is left), a Ctrl-C to the process group (seeds checkpoint and
//! resume), env checker warnings shown once. Tests that need gymnasium print why they skip when the
//! interpreter (`RL_PYTHON`, else `python3`) cannot import it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rl::env::bridge::{Bridge, BridgeEnv, Worker};
use rl::env::{Action, Env, EnvOptions, TimeLimit, VecEnv, make_env};

use crate::common::{experiment, rl};

/// The interpreter the bridge uses, if it imports gymnasium (else the reason is printed).
fn python() -> Option<String> {
    let python = Bridge::interpreter(None);
    let ok = Command::new(&python)
        .args(["-c", "import gymnasium"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: `{python}` (RL_PYTHON) cannot import gymnasium");
    }
    ok.then_some(python)
}

fn cartpole(python: &str, max_episode_steps: Option<u32>) -> Bridge {
    Bridge {
        python: python.to_string(),
        id: "CartPole-v1".into(),
        kwargs: serde_json::Map::new(),
        max_episode_steps,
    }
}

/// A fixed action sequence that neither balances nor drops the pole at once.
fn action(t: usize) -> usize {
    usize::from((t / 3 + t / 7).is_multiple_of(2))
}

#[test]
fn gymnasium_cartpole_matches_rl_cartpole_step_for_step() {
    let Some(python) = python() else { return };
    let mut gym = TimeLimit::new(
        Box::new(BridgeEnv::start(&cartpole(&python, None)).unwrap()),
        Some(500),
    );
    let mut native = TimeLimit::new(
        make_env("CartPole-v1", &EnvOptions::default()).unwrap(),
        Some(500),
    );
    assert_eq!(
        gym.spec().observation_space,
        native.spec().observation_space
    );
    assert_eq!(gym.spec().action_space, native.spec().action_space);
    assert_eq!(gym.spec().max_episode_steps, Some(500));
    let (mut a, mut b) = ([0f32; 4], [0f32; 4]);
    // rl draws initial states with its own generator, gymnasium with numpy's: rl's env starts
    // from the float64 state gymnasium's reset(seed=7) drew, then both take the same actions.
    gym.reset(Some(7), &mut a);
    let first = gym.state();
    let mut again = [0f32; 4];
    gym.reset(Some(7), &mut again);
    assert_eq!(
        (gym.state(), again),
        (first.clone(), a),
        "same seed, same reset"
    );
    let (mut returns_gym, mut returns_rl) = (Vec::new(), Vec::new());
    let (mut total_gym, mut total_rl, mut t) = (0.0, 0.0, 0);
    native.set_state(&first, &mut b);
    while returns_gym.len() < 5 {
        assert_eq!(a, b, "observation at step {t}");
        let (sa, sb) = (
            gym.step(Action::Discrete(action(t)), &mut a),
            native.step(Action::Discrete(action(t)), &mut b),
        );
        assert_eq!(sa, sb, "step {t}");
        (total_gym, total_rl, t) = (total_gym + sa.reward, total_rl + sb.reward, t + 1);
        if sa.terminated || sa.truncated {
            returns_gym.push(std::mem::take(&mut total_gym));
            returns_rl.push(std::mem::take(&mut total_rl));
            gym.reset(None, &mut a);
            native.set_state(&gym.state(), &mut b);
        }
    }
    assert_eq!(returns_gym, returns_rl);
}

#[test]
fn a_bridged_vector_env_resets_itself_and_keeps_final_observations() {
    let Some(python) = python() else { return };
    let mut envs = VecEnv::bridged(Worker::start(&cartpole(&python, Some(5)), 3, true).unwrap());
    let mut single = BridgeEnv::start(&cartpole(&python, Some(5))).unwrap();
    assert_eq!((envs.num_envs(), envs.obs_dim()), (3, 4));
    envs.reset(&[11, 12, 13]);
    let mut obs = [0f32; 4];
    single.reset(Some(12), &mut obs);
    assert_eq!(
        envs.observation(1),
        obs,
        "the same seed gives the same reset"
    );
    for t in 0..5 {
        envs.step_discrete(&[0, 1, 0]);
        let step = single.step(Action::Discrete(1), &mut obs);
        assert_eq!(envs.rewards()[1], step.reward);
        if t < 4 {
            assert_eq!(envs.observation(1), obs);
            assert!(envs.ended().is_empty());
        }
    }
    // Step 5: gymnasium's TimeLimit truncates every copy; each was reset in the worker.
    assert_eq!(envs.truncated(), &[true, true, true]);
    assert_eq!(envs.terminated(), &[false, false, false]);
    assert_eq!(envs.final_observation(1), obs);
    assert_ne!(envs.observation(1), obs);
    assert_eq!(envs.ended().len(), 3);
    assert!(envs.ended().iter().all(|e| e.length == 5 && e.truncated));
}

/// An experiment file on a bridged env in `dir`, with `env` lines after `backend`.
fn bridged_experiment(dir: &Path, algo: &str, env: &str) -> String {
    let path = dir.join("bridged.toml");
    std::fs::write(
        &path,
        format!(
            "[experiment]\nname = \"bridged\"\n{budget}\n\
             [env]\nbackend = \"gymnasium\"\n{env}\n\n[algo]\nname = \"{algo}\"\n",
            // Planners do not train.
            budget = if algo == "mcts" {
                ""
            } else {
                "total_steps = 1000\n"
            }
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// `rl validate` of a bridged experiment: (exit code, stderr).
fn validate(algo: &str, env: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = bridged_experiment(dir.path(), algo, env);
    let out = rl(&["validate", &file], dir.path());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_interpreter_is_a_config_error() {
    let (code, stderr) = validate(
        "ppo",
        "id = \"CartPole-v1\"\npython = \"/nonexistent/python3\"",
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("env.python") && stderr.contains("/nonexistent/python3"),
        "{stderr}"
    );
}

#[test]
fn missing_packages_unknown_ids_and_planners_are_config_errors() {
    let Some(_) = python() else { return };
    let (code, stderr) = validate("ppo", "id = \"rl_no_such_package:Env-v0\"");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("env.id")
            && stderr.contains("`rl_no_such_package`")
            && stderr.contains("-m pip install rl-no-such-package"),
        "{stderr}"
    );
    let (code, stderr) = validate("ppo", "id = \"NoSuchEnv-v0\"");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("env.id") && stderr.contains("NoSuchEnv"),
        "{stderr}"
    );
    let (code, stderr) = validate(
        "ppo",
        "id = \"CartPole-v1\"\nkwargs = { no_such_kwarg = 1 }",
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("env.kwargs") && stderr.contains("no_such_kwarg"),
        "{stderr}"
    );
    let (code, stderr) = validate("mcts", "id = \"CartPole-v1\"");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("env.backend"), "{stderr}");
}

/// A gymnasium env whose observations are float64 in a float32 space: gymnasium's env checker
/// warns about the first reset and the first step of each copy.
const FLOAT64_ENV: &str = r#"
import gymnasium as gym
import numpy as np


class Float64Obs(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2), {}

    def step(self, action):
        return np.full(2, 0.5 * action), 1.0, False, False, {}


gym.register(id="Float64Obs-v0", entry_point=Float64Obs, max_episode_steps=5)
"#;

/// Two seeds, each with a training worker of two envs and an evaluation worker, raise the env
/// checker's two warnings (reset, step) in every worker: rl shows each once.
#[test]
fn env_checker_warnings_are_shown_once_per_run() {
    let Some(_) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("float64_obs.py"), FLOAT64_ENV).unwrap();
    let file = dir.path().join("warns.toml");
    std::fs::write(
        &file,
        "[experiment]\nname = \"warns\"\nseeds = \"0..2\"\ntotal_steps = 64\n\
         eval_every = 32\neval_episodes = 2\n\n\
         [env]\nbackend = \"gymnasium\"\nid = \"float64_obs:Float64Obs-v0\"\nnum_envs = 2\n\n\
         [algo]\nname = \"ppo\"\nn_steps = 16\nbatch_size = 32\n",
    )
    .unwrap();
    let out = rl(&["run", file.to_str().unwrap(), "-q"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for method in ["reset", "step"] {
        let warning = format!("`{method}()` method was expecting numpy array dtype to be float32");
        assert_eq!(stderr.matches(&warning).count(), 1, "{method}: {stderr}");
    }
    assert!(!stderr.contains("\u{1b}["), "colour codes: {stderr}");
}

/// The pids of the bridge workers `pid` started, with whether each serves training envs.
fn workers_of(pid: u32) -> Vec<(u32, bool)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // Fields after the `(comm)`: state, ppid, ...
        let parent = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split(' ').nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if parent == Some(pid) && cmdline.contains("rl's gymnasium worker") {
            found.push((child, cmdline.contains("\"autoreset\":true")));
        }
    }
    found
}

/// Whether process `pid` exists (a zombie counts: it was not waited for).
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_killed_worker_fails_its_seed_only_and_leaves_no_process() {
    let Some(_) = python() else { return };
    let out = tempfile::tempdir().unwrap();
    let config = experiment("ppo_cartpole_gymnasium.toml");
    let mut run = Command::new(env!("CARGO_BIN_EXE_rl"))
        .args([
            &"run",
            &config.as_str(),
            &"-q",
            &"--seeds",
            &"0..2",
            &"--jobs",
            &"2",
        ])
        .args([
            "--set",
            "experiment.total_steps=20000",
            "--set",
            "experiment.eval_every=5000",
        ])
        .args(["--set", "experiment.eval_episodes=2", "--out"])
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once training has begun (a seed has finished episodes), kill a training worker.
    let started = Instant::now();
    let training_begun = || {
        (0..2).any(|seed| {
            let episodes = out
                .path()
                .join(format!("ppo_cartpole_gymnasium/seed_{seed}/episodes.csv"));
            std::fs::read_to_string(episodes).is_ok_and(|t| t.lines().count() > 1)
        })
    };
    let (mut seen, mut killed) = (Vec::new(), None);
    while killed.is_none() && started.elapsed() < Duration::from_secs(60) {
        if run.try_wait().unwrap().is_some() {
            break;
        }
        let begun = training_begun();
        for (pid, training) in workers_of(run.id()) {
            if !seen.contains(&pid) {
                seen.push(pid);
            }
            if training && begun && killed.is_none() {
                Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status()
                    .unwrap();
                killed = Some(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = killed.expect("a training worker started");
    // While rl still runs, the killed worker has been waited for (no zombie).
    std::thread::sleep(Duration::from_millis(500));
    if run.try_wait().unwrap().is_none() {
        assert!(!exists(killed), "the killed worker {killed} is a zombie");
    }
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "one seed failed: {stderr}");
    let mut statuses = Vec::new();
    for seed in 0..2 {
        let meta = std::fs::read_to_string(
            out.path()
                .join(format!("ppo_cartpole_gymnasium/seed_{seed}/meta.json")),
        )
        .unwrap();
        let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
        if meta["status"] == "failed" {
            let error = meta["error"].as_str().unwrap();
            assert!(
                error.contains("gymnasium worker") && error.contains(&killed.to_string()),
                "{error}"
            );
            assert!(error.contains("signal: 9"), "{error}");
        }
        statuses.push(meta["status"].as_str().unwrap().to_string());
    }
    statuses.sort();
    assert_eq!(statuses, ["complete", "failed"]);
    for pid in seen {
        assert!(!exists(pid), "worker {pid} outlived rl");
    }
}

/// A Ctrl-C at the terminal signals the whole foreground process group. rl and its workers'
/// groups are apart, so the workers keep serving while rl stops each seed at a step and
/// checkpoints it; the stopped run then resumes to its end.
#[test]
fn ctrl_c_to_the_process_group_stops_bridged_seeds_cleanly() {
    let Some(_) = python() else { return };
    let out = tempfile::tempdir().unwrap();
    let config = experiment("ppo_cartpole_gymnasium.toml");
    let budget = [
        "--seeds",
        "0..2",
        "--jobs",
        "2",
        "--set",
        "experiment.total_steps=40000",
        "--set",
        "experiment.eval_every=10000",
        "--set",
        "experiment.eval_episodes=2",
    ];
    let mut run = Command::new(env!("CARGO_BIN_EXE_rl"));
    run.args(["run", config.as_str(), "-q"])
        .args(budget)
        .arg("--out")
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // rl leads a group of its own, as a shell's foreground job does.
    std::os::unix::process::CommandExt::process_group(&mut run, 0);
    let mut run = run.spawn().unwrap();
    let seed_dir = |seed: u32| {
        out.path()
            .join(format!("ppo_cartpole_gymnasium/seed_{seed}"))
    };
    let started = Instant::now();
    while !(0..2).all(|seed| {
        std::fs::read_to_string(seed_dir(seed).join("episodes.csv"))
            .is_ok_and(|t| t.lines().count() > 1)
    }) {
        assert!(started.elapsed() < Duration::from_secs(60), "no training");
        assert!(run.try_wait().unwrap().is_none(), "ended before the signal");
        std::thread::sleep(Duration::from_millis(20));
    }
    let group = format!("-{}", run.id());
    let sent = Command::new("kill")
        .args(["-s", "INT", "--", &group])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    for seed in 0..2 {
        let meta = std::fs::read_to_string(seed_dir(seed).join("meta.json")).unwrap();
        assert!(meta.contains("\"status\": \"interrupted\""), "{meta}");
    }
    let resumed = rl(
        &[
            &["run", config.as_str(), "-q", "--resume", "--out"],
            &[out.path().to_str().unwrap()][..],
            &budget[..],
        ]
        .concat(),
        out.path(),
    );
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    for seed in 0..2 {
        let meta = std::fs::read_to_string(seed_dir(seed).join("meta.json")).unwrap();
        assert!(meta.contains("\"status\": \"complete\""), "{meta}");
    }
}
