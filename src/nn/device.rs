//! The one place that maps `backend = "flex" | "ndarray" | "wgpu"` to a Burn [`Device`].
//!
//! Burn 0.22 modules and tensors carry no backend type parameter: the device chosen here decides
//! where every tensor of a run lives. Training uses the autodiff device, acting the plain one
//! ([`Device::inner`] / `Module::valid`).

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

/// The compute backend of neural algorithms (tabular and planning methods run in plain Rust).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (the CPU default).
    #[default]
    Flex,
    /// Burn's ndarray CPU backend.
    Ndarray,
    /// Burn's wgpu GPU backend (Vulkan, Metal, DX12; software Vulkan where no GPU exists).
    Wgpu,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
        }
    }
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
    if !WGPU_OPTIMISED {
        static HINT: std::sync::Once = std::sync::Once::new();
        HINT.call_once(|| tracing::warn!("{WGPU_UNOPTIMISED}"));
    }
    // A GPU when one exists; cubecl falls back to a software adapter (lavapipe) otherwise.
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

/// Whether this binary was built with `--profile gpu`: the release profile compiles the wgpu
/// backend's host side (cubecl, wgpu, naga) at opt-level 0 for a quick build (Cargo.toml).
pub const WGPU_OPTIMISED: bool = matches!(env!("RL_PROFILE_DIR").as_bytes(), b"gpu");

/// The warning a wgpu run from any other build prints once.
pub const WGPU_UNOPTIMISED: &str = "this rl was built with the wgpu backend's host side \
    unoptimised (the release profile, for a quick build), so kernel compilation and launches are \
    slower; for training on a GPU, build target/gpu/rl with `make build-gpu` (cargo build --profile gpu)";

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> anyhow::Result<Device> {
    anyhow::bail!("this rl was built without the `wgpu` feature; rebuild with `--features wgpu`")
}

/// Whether `device` (plain or autodiff) computes in host memory: flex or ndarray, where reading
/// a tensor back costs a copy and no synchronisation.
pub fn computes_on_host(device: &Device) -> bool {
    let plain = device.clone().inner();
    #[allow(deprecated)] // burn-ndarray is deprecated upstream but is the card's CPU backend
    let ndarray = Device::ndarray();
    plain == Device::flex() || plain == ndarray
}

/// Pins Burn's default device (`Device::default()`, which prefers a GPU runtime when `wgpu` is
/// compiled in) to flex, unless `BURN_DEVICE` says otherwise. Burn uses the default device only
/// to load optimiser state, which it then moves to each parameter's device; pinned, a resumed
/// CPU run never starts a GPU (or software-Vulkan) runtime.
///
/// # Safety
/// Sets an environment variable: call it before any other thread exists.
pub unsafe fn pin_default_device() {
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: the caller guarantees no other thread reads the environment concurrently.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
}
