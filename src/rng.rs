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
}

/// The generator of `stream` for run seed `seed`.
pub fn stream(seed: u64, stream: Stream) -> Rng {
    let mut rng = Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
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
