//! Explicit random-number streams. Every random draw of a run comes from its seed through one
//! of these streams, so a seed's results never depend on threads or on other seeds.
//!
//! ChaCha8 is portable and its output is fixed by its specification, so a seed gives the same
//! numbers on every platform and with every future version of this program.

use rand::SeedableRng;

/// The generator used everywhere in rl.
pub type Rng = rand_chacha::ChaCha8Rng;

/// Independent streams derived from one run seed (ChaCha's 64-bit stream id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Seeds of the training envs (reset distributions, slippery transitions).
    Env = 1,
    /// Seeds of the evaluation env.
    Eval = 2,
    /// Exploration: ε-greedy draws, action sampling.
    Explore = 3,
    /// Parameter initialisation.
    Init = 4,
    /// Minibatch order and replay sampling.
    Minibatch = 5,
    /// The problem instance of an env drawn per run (a bandit's arm means).
    Instance = 6,
    /// An exploration bonus's random parts (RND's networks, SimHash's projection).
    Bonus = 7,
    /// Hindsight relabelling's goal draws in the shared off-policy collector (SAC, TD3, DDPG).
    Hindsight = 8,
}

/// The generator of `stream` for run seed `seed`.
pub fn stream(seed: u64, stream: Stream) -> Rng {
    let mut rng = Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}

/// The generator of `stream` for worker `worker` of a parallel method (A3C, DPPO) in its
/// `generation`-th start (0 for a fresh run; a resumed A3C run starts again from its step).
/// Worker 0 of generation 0 gets the run's own stream, so one worker draws exactly what the
/// single-threaded method draws; every other (worker, generation) gets a stream id of its own.
pub fn worker_stream(seed: u64, s: Stream, worker: u64, generation: u64) -> Rng {
    let mut rng = Rng::seed_from_u64(seed);
    rng.set_stream(s as u64 + (worker << 8) + (generation << 32));
    rng
}

/// A generator seeded like gymnasium's `reset(seed=...)` seeds an env.
pub fn from_seed(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// One draw from N(0, 1) by the Box–Muller transform (Box & Muller 1958).
pub fn standard_normal(rng: &mut Rng) -> f64 {
    use rand::RngExt;
    // 1 - U lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod worker_tests {
    use super::*;
    use rand::RngExt;

    /// Worker 0 of a fresh run draws the run's stream; other workers and restarts differ.
    #[test]
    fn worker_zero_is_the_run_stream_and_the_others_are_distinct() {
        let first = |mut r: Rng| -> u64 { r.random() };
        let base = first(stream(7, Stream::Explore));
        assert_eq!(first(worker_stream(7, Stream::Explore, 0, 0)), base);
        let others = [
            first(worker_stream(7, Stream::Explore, 1, 0)),
            first(worker_stream(7, Stream::Explore, 2, 0)),
            first(worker_stream(7, Stream::Explore, 0, 5000)),
            first(worker_stream(7, Stream::Env, 1, 0)),
        ];
        for (i, a) in others.iter().enumerate() {
            assert_ne!(*a, base);
            for b in &others[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
