//! Neural networks on Burn: devices, initialisation, MLPs, action distributions, actor-critic
//! policies and global gradient clipping. Nothing here knows which backend runs it.

pub mod acer;
pub mod actors;
pub mod adam;
pub mod checkpoint;
pub mod critics;
pub mod device;
pub mod distributions;
#[cfg(test)]
mod fused_optimizer_check;
pub mod grad_clip;
pub mod host;
pub mod host_adam;
pub mod host_mlp;
pub mod host_policy;
pub mod init;
pub mod mlp;
pub mod naf;
pub mod policy;
pub mod polyak;
pub mod q_network;
pub mod rmsprop;
pub mod simd;
pub mod subnormal;
pub mod tanh;

pub use adam::adam;
pub use checkpoint::{SavedModule, SavedOptimizer, burnpack};
pub use device::{Backend, plain_device};
pub use grad_clip::clip_grad_norm;
pub use host::{matrix, vector};
pub use mlp::Activation;
pub use policy::{Acting, ActionKind, Actions, ActorCritic, PolicyConfig, to_vec};
pub use rmsprop::rmsprop;
