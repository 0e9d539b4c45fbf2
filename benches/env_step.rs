//! Env step throughput (steps/s) of every registered env through the vector env, with
//! auto-reset, as training loops drive them. Run: `make bench`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

criterion_group!(benches, env_step);
criterion_main!(benches);
