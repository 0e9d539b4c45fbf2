//! Skill discovery without a reward: DIAYN (Eysenbach et al. 2019) learns K skills z, a
//! skill-conditioned policy π(a|s, z) and a discriminator q(z|s) that tells them apart from the
//! states they visit; the policy is trained by SAC on the discriminator's pseudo-reward.

pub mod diayn;
pub mod discriminator;
pub mod skill;
