//! Parameter initialisation from the run's own RNG stream.
//!
//! Burn's `Tensor::random` draws from a backend-wide generator that seeds running in parallel
//! would race on; drawing here keeps a seed's initial network independent of its neighbours.

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use nalgebra::DMatrix;

use crate::rng::{Rng, standard_normal};

/// A `rows × cols` matrix with orthonormal rows or columns (whichever are fewer), scaled by
/// `gain` (Saxe et al. 2014; PyTorch's `orthogonal_`): the Q factor of a Gaussian matrix, with
/// signs fixed by R's diagonal so that Q is Haar-distributed. Row-major.
pub fn orthogonal(rows: usize, cols: usize, gain: f64, rng: &mut Rng) -> Vec<f32> {
    // QR needs a tall matrix: factor the transpose of a wide one.
    let (tall_rows, tall_cols) = (rows.max(cols), rows.min(cols));
    let gaussian = DMatrix::from_fn(tall_rows, tall_cols, |_, _| standard_normal(rng));
    let qr = gaussian.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for (j, mut column) in q.column_iter_mut().enumerate() {
        if r[(j, j)] < 0.0 {
            column.neg_mut();
        }
    }
    let q = if rows >= cols { q } else { q.transpose() };
    let mut out = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for j in 0..cols {
            out.push((gain * q[(i, j)]) as f32);
        }
    }
    out
}

/// A fully connected layer `d_in → d_out` with orthogonal weights of `gain` and zero biases, as
/// PPO implementations initialise them (Engstrom et al. 2020; Huang et al. 2022).
pub fn orthogonal_linear(
    d_in: usize,
    d_out: usize,
    gain: f64,
    rng: &mut Rng,
    device: &Device,
) -> Linear {
    // Burn stores the weight as [d_in, d_out] (y = x W + b): the transpose of PyTorch's.
    let weight = orthogonal(d_in, d_out, gain, rng);
    Linear {
        weight: Param::from_data(TensorData::new(weight, [d_in, d_out]), device),
        bias: Some(Param::from_data(
            TensorData::new(vec![0.0f32; d_out], [d_out]),
            device,
        )),
    }
}

/// PyTorch's default `nn.Linear` initialisation, U(−1/√d_in, 1/√d_in) for weights and biases
/// (Kaiming-uniform with a = √5), for networks built without orthogonal init.
pub fn default_linear(d_in: usize, d_out: usize, rng: &mut Rng, device: &Device) -> Linear {
    use rand::RngExt;
    let bound = 1.0 / (d_in as f64).sqrt();
    let mut uniform = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| rng.random_range(-bound..bound) as f32)
            .collect()
    };
    let weight = uniform(d_in * d_out);
    let bias = uniform(d_out);
    Linear {
        weight: Param::from_data(TensorData::new(weight, [d_in, d_out]), device),
        bias: Some(Param::from_data(TensorData::new(bias, [d_out]), device)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    /// WᵀW = gain² I for a tall matrix and W Wᵀ = gain² I for a wide one.
    #[test]
    fn orthogonal_is_orthonormal_times_gain() {
        let mut rng = stream(0, Stream::Init);
        for (rows, cols) in [(64, 4), (4, 64), (64, 64), (1, 8)] {
            let gain = 2f64.sqrt();
            let w = orthogonal(rows, cols, gain, &mut rng);
            let m = DMatrix::from_row_slice(
                rows,
                cols,
                &w.iter().map(|&x| x as f64).collect::<Vec<_>>(),
            );
            let gram = if rows >= cols {
                m.transpose() * &m
            } else {
                &m * m.transpose()
            };
            let n = rows.min(cols);
            for i in 0..n {
                for j in 0..n {
                    let expected = if i == j { gain * gain } else { 0.0 };
                    assert!(
                        (gram[(i, j)] - expected).abs() < 1e-5,
                        "{rows}x{cols} gram[{i},{j}] = {}",
                        gram[(i, j)]
                    );
                }
            }
        }
    }

    #[test]
    fn same_stream_same_weights() {
        let a = orthogonal(8, 3, 1.0, &mut stream(7, Stream::Init));
        let b = orthogonal(8, 3, 1.0, &mut stream(7, Stream::Init));
        let c = orthogonal(8, 3, 1.0, &mut stream(8, Stream::Init));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
