//! Env step throughput (steps/s) of every registered env through the vector env, with
//! auto-reset, as training loops drive them; then gymnasium's CartPole-v1 with 8 envs through
//! the Python bridge against gymnasium's own `SyncVectorEnv`. Run: `make bench`.

use std::process::Command;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rl::env::bridge::{Bridge, Worker};
use rl::env::registry::REGISTRY;
use rl::env::{EnvOptions, Space, TimeLimit, VecEnv, make_env};

const STEPS: u64 = 10_000;

fn env_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("env_step");
    group.throughput(Throughput::Elements(STEPS));
    for entry in REGISTRY {
        let env = make_env(entry.id, &EnvOptions::default()).expect("registered");
        let limit = env.spec().max_episode_steps.or(Some(1000));
        let action_space = env.spec().action_space.clone();
        let mut envs = VecEnv::new(vec![TimeLimit::new(env, limit)]);
        envs.reset(&[0]);
        group.bench_function(entry.id, |b| {
            b.iter(|| {
                for t in 0..STEPS {
                    match &action_space {
                        Space::Discrete(n) => envs.step_discrete(&[t as usize % n]),
                        Space::Box { low, high } => {
                            // Alternate between the bounds (±1 where the box is unbounded).
                            let bound =
                                |b: f32, default: f32| if b.is_finite() { b } else { default };
                            let a = if t % 2 == 0 {
                                bound(low[0], -1.0)
                            } else {
                                bound(high[0], 1.0)
                            };
                            envs.step_continuous(&[a]);
                        }
                    }
                }
                envs.rewards()[0]
            })
        });
    }
    group.finish();
}

/// Copies of CartPole-v1 stepped together in the bridge comparison.
const BRIDGE_ENVS: usize = 8;

/// gymnasium's `SyncVectorEnv` of 8 CartPole-v1 stepped with the same alternating actions,
/// printing its steps/s.
const SYNC_VECTOR_ENV: &str = "
import time, numpy as np, gymnasium as gym
envs = gym.vector.SyncVectorEnv([lambda: gym.make('CartPole-v1') for _ in range(8)])
envs.reset(seed=0)
steps = 4000
start = time.perf_counter()
for t in range(steps):
    envs.step(np.full(8, t % 2))
print(steps * 8 / (time.perf_counter() - start))
";

/// Env steps/s of CartPole-v1 with 8 envs through rl's bridge and in gymnasium's
/// `SyncVectorEnv`, printed with their ratio (the target: the bridge at ≥ 50%).
fn bridge_step(c: &mut Criterion) {
    let python = Bridge::interpreter(None);
    let bridge = Bridge {
        python: python.clone(),
        id: "CartPole-v1".into(),
        kwargs: serde_json::Map::new(),
        max_episode_steps: None,
    };
    let worker = match Worker::start(&bridge, BRIDGE_ENVS, true) {
        Ok(w) => w,
        Err(e) => return eprintln!("bridge bench skipped: {e}"),
    };
    let mut envs = VecEnv::bridged(worker);
    envs.reset(&[0, 1, 2, 3, 4, 5, 6, 7]);
    let mut step = |rounds: usize| {
        for t in 0..rounds {
            envs.step_discrete(&[t % 2; BRIDGE_ENVS]);
        }
    };
    // Both sides measured in turn, best of three each: on a shared machine the load changes.
    let (mut bridged, mut sync) = (0f64, None::<f64>);
    for _ in 0..3 {
        let start = Instant::now();
        step(4000);
        bridged = bridged.max((4000 * BRIDGE_ENVS) as f64 / start.elapsed().as_secs_f64());
        let run = Command::new(&python).args(["-c", SYNC_VECTOR_ENV]).output();
        let measured = run.ok().and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        });
        sync = match (sync, measured) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    match sync {
        Some(sync) => println!(
            "CartPole-v1 x{BRIDGE_ENVS}: rl bridge {bridged:.0} steps/s, gymnasium \
             SyncVectorEnv {sync:.0} steps/s: {:.0}%",
            100.0 * bridged / sync
        ),
        None => println!("CartPole-v1 x{BRIDGE_ENVS}: rl bridge {bridged:.0} steps/s"),
    }
    let mut group = c.benchmark_group("bridge_step");
    group.throughput(Throughput::Elements((100 * BRIDGE_ENVS) as u64));
    group.bench_function("CartPole-v1 x8", |b| b.iter(|| step(100)));
    group.finish();
}

criterion_group!(benches, env_step, bridge_step);
criterion_main!(benches);
