//! What a checkpoint holds, independent of where it is stored: the session's counters and RNG,
//! and the algorithm's whole state, CBOR-encoded (compact and exact, NaN included). The runner
//! stores it in the seed folder (`run::checkpoint`); a test may keep it in memory.

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// What a session needs to continue: counters, recent returns, the eval stream, clocks and how
/// many rows of each CSV belong to the checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub episodes: u64,
    pub recent_returns: Vec<f64>,
    pub next_eval: u64,
    pub last_eval: Option<(u64, f64)>,
    pub last_diagnostics: Vec<f64>,
    pub eval_rng: Rng,
    pub train_seconds: f64,
    pub curve_rows: u64,
    pub episode_rows: u64,
    pub next_checkpoint: u64,
}

/// A checkpoint taken after env step `step`.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub step: u64,
    pub session: SessionState,
    /// The algorithm's own state, CBOR-encoded.
    pub algo: Vec<u8>,
}

impl Checkpoint {
    /// The state bytes: the session's state (CBOR, after its length as 8 little-endian bytes),
    /// then the algorithm's.
    pub fn state_bytes(&self) -> anyhow::Result<Vec<u8>> {
        let session = encode(&self.session)?;
        let mut bytes = Vec::with_capacity(8 + session.len() + self.algo.len());
        bytes.extend_from_slice(&(session.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&session);
        bytes.extend_from_slice(&self.algo);
        Ok(bytes)
    }

    /// The checkpoint taken after `step` whose state bytes are `bytes`.
    pub fn from_state_bytes(step: u64, bytes: &[u8]) -> anyhow::Result<Self> {
        let (len, rest) = bytes.split_first_chunk::<8>().context("too short")?;
        let len = usize::try_from(u64::from_le_bytes(*len))?;
        anyhow::ensure!(rest.len() >= len, "too short");
        let (session, algo) = rest.split_at(len);
        Ok(Self {
            step,
            session: decode(session)?,
            algo: algo.to_vec(),
        })
    }
}

/// The CBOR encoding of a state.
pub fn encode<T: Serialize>(state: &T) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    ciborium::into_writer(state, &mut bytes).context("cannot encode the checkpoint state")?;
    Ok(bytes)
}

/// A state from its CBOR encoding.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    ciborium::from_reader(bytes).context("the checkpoint's state does not fit")
}
