//! The one place that maps `backend = "flex" | "ndarray" | "wgpu"` to a Burn [`Device`].
//!
//! Burn 0.22 modules and tensors carry no backend type parameter: the device chosen here decides
//! where every tensor of a run lives. Training uses the autodiff device, acting the plain one
//! ([`Device::inner`] / `Module::valid`).

use burn::prelude::Device;

use crate::config::Backend;

/// The autodiff device of `backend`, for training.
pub fn training_device(backend: Backend) -> anyhow::Result<Device> {
    Ok(plain_device(backend)?.autodiff())
}

/// The plain (non-autodiff) device of `backend`, for acting and evaluation.
pub fn plain_device(backend: Backend) -> anyhow::Result<Device> {
    match backend {
        Backend::Flex => Ok(Device::flex()),
        #[allow(deprecated)] // burn-ndarray is deprecated upstream but is the card's CPU backend
        Backend::Ndarray => Ok(Device::ndarray()),
        Backend::Wgpu => wgpu(),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu() -> anyhow::Result<Device> {
    // A GPU when one exists; cubecl falls back to a software adapter (lavapipe) otherwise.
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> anyhow::Result<Device> {
    anyhow::bail!("this rl was built without the `wgpu` feature; rebuild with `--features wgpu`")
}
