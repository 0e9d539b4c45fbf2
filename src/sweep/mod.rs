//! Sweeps: a `[sweep]` table expands an experiment into trials (grid and random search), each
//! trial into one job per seed, listed in a manifest; the jobs run on local threads
//! ([`local`]) or as Slurm array tasks ([`slurm`]), each one seed run in its own folder
//! `<out>/<sweep>/<trial>/seed_<k>/`. Nothing below this module knows about sweeps.

pub mod distribution;
pub mod local;
pub mod manifest;
pub mod plan;
pub mod slurm;
pub mod spec;
pub mod status;
pub mod trial;

pub use plan::Plan;
