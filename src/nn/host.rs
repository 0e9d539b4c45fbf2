//! Host slices to tensors: the one copy per minibatch or acting step from CPU memory, and a
//! module's parameters set from host vectors.

use burn::module::{ModuleMapper, Param};
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

/// `module` with its parameters set to `values` (one per parameter, in visiting order, each in
/// the parameter's shape), tracked for gradients where they were.
pub fn load_params<M: Module>(module: M, values: Vec<&[f32]>) -> M {
    struct Load<'a, I: Iterator<Item = &'a [f32]>>(I);
    impl<'a, I: Iterator<Item = &'a [f32]>> ModuleMapper for Load<'a, I> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let values = self.0.next().expect("one value per parameter");
            param.map(|t| {
                let tracked = t.is_require_grad();
                let data = TensorData::new(values.to_vec(), t.shape());
                Tensor::<D>::from_data(data, &t.device()).set_require_grad(tracked)
            })
        }
    }
    let mut load = Load(values.into_iter());
    let module = module.map(&mut load);
    assert!(load.0.next().is_none(), "one value per parameter");
    module
}

/// Whether a host path's value `ours` agrees with Burn's `theirs` within float rounding
/// (1e-5 absolute plus 1e-4 relative), for the host paths' tests.
#[cfg(test)]
pub fn close(ours: f32, theirs: f32) -> bool {
    (ours - theirs).abs() <= 1e-5 + 1e-4 * theirs.abs()
}

/// Asserts that parameter lists agree value by value as [`close`] says.
#[cfg(test)]
pub fn assert_params_close(ours: &[Vec<f32>], theirs: &[Vec<f32>], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: parameter count");
    for (a, b) in ours.iter().flatten().zip(theirs.iter().flatten()) {
        assert!(close(*a, *b), "{what}: θ {a} vs {b}");
    }
}
