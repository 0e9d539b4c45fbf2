//! One Python worker process (`python/rl_bridge.py`, embedded): its start, its hello, the binary
//! requests, and its end. The child is killed and waited for on drop, so no zombie is left.

use std::io::{BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde::Deserialize;

use super::Bridge;
use super::stderr::read_stderr;
use crate::env::registry::OptionError;
use crate::env::{Action, EnvSpec, Space, Step};

/// The worker script, shipped inside the binary so that rl runs from anywhere.
const SCRIPT: &str = include_str!("../../../python/rl_bridge.py");

/// A space as the worker describes it.
#[derive(Deserialize)]
struct SpaceMessage {
    discrete: Option<usize>,
    #[serde(rename = "box")]
    bounded: Option<BoxMessage>,
}

#[derive(Deserialize)]
struct BoxMessage {
    low: Vec<Bound>,
    high: Vec<Bound>,
}

/// A Box bound: a number, or `"inf"` / `"-inf"` (JSON has no infinities).
#[derive(Deserialize)]
#[serde(untagged)]
enum Bound {
    Number(f64),
    Text(String),
}

impl Bound {
    fn value(&self) -> f32 {
        match self {
            Bound::Number(x) => *x as f32,
            Bound::Text(t) if t.starts_with('-') => f32::NEG_INFINITY,
            Bound::Text(_) => f32::INFINITY,
        }
    }
}

impl SpaceMessage {
    fn space(&self) -> Space {
        match (&self.discrete, &self.bounded) {
            (Some(n), _) => Space::Discrete(*n),
            (None, Some(b)) => Space::Box {
                low: b.low.iter().map(Bound::value).collect(),
                high: b.high.iter().map(Bound::value).collect(),
            },
            (None, None) => unreachable!("the worker describes Discrete and Box spaces only"),
        }
    }
}

/// The worker's first message: its env's spec, or why it could not make it.
#[derive(Deserialize)]
struct Hello {
    ok: bool,
    kind: Option<String>,
    package: Option<String>,
    message: Option<String>,
    id: Option<String>,
    observation_space: Option<SpaceMessage>,
    action_space: Option<SpaceMessage>,
    max_episode_steps: Option<u32>,
    reward_threshold: Option<f64>,
}

/// A running worker serving `num_envs` envs.
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    spec: EnvSpec,
    num_envs: usize,
    /// Reused bytes of requests and replies.
    buf: Vec<u8>,
}

impl Worker {
    /// Starts a worker of `bridge` with `num_envs` envs, auto-reset inside the worker when
    /// `autoreset`; a missing interpreter, package or id is an error on its `[env]` key.
    pub fn start(bridge: &Bridge, num_envs: usize, autoreset: bool) -> Result<Self, OptionError> {
        let config = serde_json::json!({
            "id": bridge.id,
            "kwargs": bridge.kwargs,
            "max_episode_steps": bridge.max_episode_steps,
            "num_envs": num_envs,
            "autoreset": autoreset,
        });
        let mut command = Command::new(&bridge.python);
        command
            .arg("-c")
            .arg(SCRIPT)
            .arg(config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group: a Ctrl-C at the terminal (SIGINT to the whole foreground
        // group) or a `kill` of rl's group reaches rl alone, which stops its seeds at a step
        // and checkpoints them before it ends the workers; the worker still exits when rl's end
        // of its pipe closes, so none outlives rl.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(|e| OptionError {
            key: "python",
            message: format!(
                "cannot start the Python interpreter `{}` ({e}); set env.python or \
                     RL_PYTHON to a Python with gymnasium, e.g. `python3 -m venv .venv && \
                     .venv/bin/pip install gymnasium` and RL_PYTHON=.venv/bin/python",
                bridge.python
            ),
        })?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_reader = child.stderr.take().map(|pipe| {
            let tail = Arc::clone(&stderr);
            let id = bridge.id.clone();
            std::thread::spawn(move || read_stderr(pipe, &id, &tail))
        });
        let mut worker = Self {
            stdin: child.stdin.take().expect("piped stdin"),
            stdout: BufReader::new(child.stdout.take().expect("piped stdout")),
            child,
            stderr,
            stderr_reader,
            spec: EnvSpec {
                id: bridge.id.clone(),
                observation_space: Space::Discrete(1),
                action_space: Space::Discrete(1),
                max_episode_steps: None,
                reward_threshold: None,
            },
            num_envs,
            buf: Vec::new(),
        };
        let pid = worker.pid();
        let hello = worker.hello().map_err(|e| OptionError {
            key: "python",
            message: format!(
                "the gymnasium worker (`{}`, pid {pid}) stopped before it said hello: {e}",
                bridge.python
            ),
        })?;
        worker.spec = spec_of(bridge, hello)?;
        Ok(worker)
    }

    /// The env's spec (its spaces from gymnasium).
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    pub fn num_envs(&self) -> usize {
        self.num_envs
    }

    /// The worker's pid (tests kill it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn hello(&mut self) -> Result<Hello, String> {
        let mut len = [0u8; 4];
        if let Err(e) = self.stdout.read_exact(&mut len) {
            return Err(self.death(&e));
        }
        let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
        if let Err(e) = self.stdout.read_exact(&mut body) {
            return Err(self.death(&e));
        }
        serde_json::from_slice(&body).map_err(|e| format!("a hello rl cannot read ({e})"))
    }

    /// Resets env `env` (gymnasium's `reset(seed=...)`) and writes its observation.
    pub fn reset(&mut self, env: usize, seed: Option<u64>, obs: &mut [f32]) {
        self.buf.clear();
        self.buf.push(b'r');
        self.buf.extend_from_slice(&(env as u32).to_le_bytes());
        self.buf.push(u8::from(seed.is_some()));
        self.buf.extend_from_slice(&seed.unwrap_or(0).to_le_bytes());
        self.send("reset");
        self.read_f32(obs, "reset");
    }

    /// Reseeds env `env`'s generator (`env.unwrapped.np_random`) without resetting it.
    pub fn reseed(&mut self, env: usize, seed: u64) {
        self.buf.clear();
        self.buf.push(b'n');
        self.buf.extend_from_slice(&(env as u32).to_le_bytes());
        self.buf.extend_from_slice(&seed.to_le_bytes());
        self.send("reseed");
    }

    /// `env.unwrapped.state` of env `env` as f64 values (empty when it has none).
    pub fn state(&mut self, env: usize) -> Vec<f64> {
        self.buf.clear();
        self.buf.push(b'x');
        self.buf.extend_from_slice(&(env as u32).to_le_bytes());
        self.send("state");
        let mut len = [0u8; 4];
        self.read_bytes(&mut len, "state");
        let mut bytes = vec![0u8; 8 * u32::from_le_bytes(len) as usize];
        self.read_bytes(&mut bytes, "state");
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    }

    /// Steps every env with `action(i)`: writes `steps[i]` and the observations after the step;
    /// returns the number of envs that finished (their reset observations follow, see
    /// [`Worker::read_f32`], when the worker auto-resets).
    pub fn step<'a>(
        &mut self,
        mut action: impl FnMut(usize) -> Action<'a>,
        steps: &mut [Step],
        obs: &mut [f32],
    ) -> usize {
        self.buf.clear();
        self.buf.push(b's');
        for i in 0..self.num_envs {
            match action(i) {
                Action::Discrete(a) => self.buf.extend_from_slice(&(a as i64).to_le_bytes()),
                Action::Continuous(a) => {
                    for x in a {
                        self.buf.extend_from_slice(&x.to_le_bytes());
                    }
                }
            }
        }
        self.send("step");
        let n = self.num_envs;
        let mut head = std::mem::take(&mut self.buf);
        head.resize(9 * n, 0);
        self.read_bytes(&mut head, "step");
        let mut finished = 0;
        for (i, step) in steps.iter_mut().enumerate() {
            let reward = f64::from_le_bytes(head[8 * i..8 * i + 8].try_into().expect("8 bytes"));
            let flags = head[8 * n + i];
            *step = Step {
                reward,
                terminated: flags & 1 != 0,
                truncated: flags & 2 != 0,
            };
            finished += usize::from(flags != 0);
        }
        self.buf = head;
        self.read_f32(obs, "step");
        finished
    }

    /// Reads f32 values into `out` (an observation or rows of them).
    pub fn read_f32(&mut self, out: &mut [f32], doing: &str) {
        let mut bytes = std::mem::take(&mut self.buf);
        bytes.resize(4 * out.len(), 0);
        self.read_bytes(&mut bytes, doing);
        for (x, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *x = f32::from_le_bytes(c.try_into().expect("4 bytes"));
        }
        self.buf = bytes;
    }

    fn send(&mut self, doing: &str) {
        if let Err(e) = self.stdin.write_all(&self.buf) {
            self.fail(doing, &e);
        }
    }

    fn read_bytes(&mut self, out: &mut [u8], doing: &str) {
        if let Err(e) = self.stdout.read_exact(out) {
            self.fail(doing, &e);
        }
    }

    /// The worker is gone mid-run: the seed fails with its exit status and traceback (the
    /// runner records the panic as the seed's error).
    fn fail(&mut self, doing: &str, e: &std::io::Error) -> ! {
        let death = self.death(e);
        panic!(
            "the gymnasium worker of {} (pid {}) failed during {doing}: {death}",
            self.spec.id,
            self.child.id()
        )
    }

    /// Waits for a dead worker and describes its end: exit status and stderr.
    fn death(&mut self, e: &std::io::Error) -> String {
        let status = self
            .child
            .wait()
            .map_or_else(|w| w.to_string(), |s| s.to_string());
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        format!(
            "{e}; it exited with {status}; its stderr:\n{}",
            stderr.trim_end()
        )
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The spec a hello gives, or the error it reports on its `[env]` key.
fn spec_of(bridge: &Bridge, hello: Hello) -> Result<EnvSpec, OptionError> {
    let message = hello.message.clone().unwrap_or_default();
    if hello.ok {
        let (Some(obs), Some(act)) = (hello.observation_space, hello.action_space) else {
            return Err(OptionError {
                key: "id",
                message: format!("the gymnasium worker gave no spaces for {}", bridge.id),
            });
        };
        return Ok(EnvSpec {
            id: hello.id.unwrap_or_else(|| bridge.id.clone()),
            observation_space: obs.space(),
            action_space: act.space(),
            max_episode_steps: hello.max_episode_steps,
            reward_threshold: hello.reward_threshold,
        });
    }
    let python = &bridge.python;
    let (key, message) = match hello.kind.as_deref() {
        Some("import") => {
            let package = hello.package.unwrap_or_else(|| "gymnasium".into());
            let key = if package == "gymnasium" {
                "python"
            } else {
                "id"
            };
            (
                key,
                format!(
                    "{} needs the Python package `{package}`, which `{python}` cannot import \
                     ({message}); install it: `{python} -m pip install {}`",
                    bridge.id,
                    pip_name(&package)
                ),
            )
        }
        Some("id") => (
            "id",
            format!("gymnasium cannot make `{}`: {message}", bridge.id),
        ),
        Some("kwargs") => (
            "kwargs",
            format!("gymnasium.make(\"{}\"): {message}", bridge.id),
        ),
        Some("space") => ("id", format!("{}: {message}", bridge.id)),
        _ => (
            "id",
            format!("gymnasium.make(\"{}\") failed: {message}", bridge.id),
        ),
    };
    Err(OptionError { key, message })
}

/// What to `pip install` for a missing module.
fn pip_name(module: &str) -> String {
    match module {
        "mujoco" => "\"gymnasium[mujoco]\"".into(),
        "Box2D" => "\"gymnasium[box2d]\"".into(),
        "ale_py" => "ale-py".into(),
        other => other.replace('_', "-"),
    }
}
