//! Host slices to tensors: the one copy per minibatch or acting step from CPU memory.

use burn::prelude::*;

/// `values` (row-major, `cols` per row) as a `[rows, cols]` tensor on `device`.
pub fn matrix(values: &[f32], cols: usize, device: &Device) -> Tensor<2> {
    let rows = values.len() / cols;
    Tensor::<2>::from_data(TensorData::new(values.to_vec(), [rows, cols]), device)
}

/// `values` as a 1-D tensor on `device`.
pub fn vector(values: &[f32], device: &Device) -> Tensor<1> {
    Tensor::<1>::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}
