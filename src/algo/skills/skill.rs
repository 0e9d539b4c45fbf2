//! Skill conditioning (Eysenbach et al. 2019, §3.2): the policy and its critics see the
//! observation with the one-hot code of the skill appended, [s, e_z]; evaluation runs the
//! skills in turn and scores the best one on the task.

use crate::algo::actor_critic::saved::ActorPolicy;
use crate::env::{Action, Env};
use crate::session::Policy;

/// Fills `out` with the rows [s_i, e_{z_i}]: row i of `obs` (`obs_dim` values; none when
/// `obs_dim` is 0, which gives the one-hot codes alone) and the one-hot code of `skills[i]`
/// among `num_skills`.
pub fn condition(
    obs: &[f32],
    obs_dim: usize,
    skills: &[usize],
    num_skills: usize,
    out: &mut Vec<f32>,
) {
    out.clear();
    for (i, &z) in skills.iter().enumerate() {
        out.extend_from_slice(&obs[i * obs_dim..(i + 1) * obs_dim]);
        out.extend((0..num_skills).map(|k| if k == z { 1.0 } else { 0.0 }));
    }
}

/// The states and skills of conditioned rows [s, e_z] (row-major): the s part of every row,
/// and z as a `[rows]` index column.
pub fn split(rows: &[f32], obs_dim: usize, num_skills: usize) -> (Vec<f32>, Vec<i64>) {
    let width = obs_dim + num_skills;
    let mut states = Vec::with_capacity(rows.len() / width * obs_dim);
    let mut skills = Vec::with_capacity(rows.len() / width);
    for row in rows.chunks_exact(width) {
        let (s, code) = row.split_at(obs_dim);
        states.extend_from_slice(s);
        let z = code
            .iter()
            .position(|&x| x == 1.0)
            .expect("a one-hot skill code");
        skills.push(z as i64);
    }
    (states, skills)
}

/// The best skill's mean task return, when episode i of an evaluation ran skill i mod K (NaN
/// without episodes).
pub fn best_skill_return(returns: &[f64], num_skills: usize) -> f64 {
    (0..num_skills.min(returns.len()))
        .map(|z| {
            let own: Vec<f64> = returns
                .iter()
                .skip(z)
                .step_by(num_skills)
                .copied()
                .collect();
            own.iter().sum::<f64>() / own.len() as f64
        })
        .fold(f64::NAN, f64::max)
}

/// The deterministic skill-conditioned policy tanh μ(s, z): episode i of an evaluation runs
/// skill i mod K.
pub struct SkillPolicy {
    actor: ActorPolicy,
    num_skills: usize,
    episodes: usize,
    skill: usize,
    input: Vec<f32>,
}

impl SkillPolicy {
    /// `actor` takes the conditioned observation [s, e_z].
    pub fn new(actor: ActorPolicy, num_skills: usize) -> Self {
        Self {
            actor,
            num_skills,
            episodes: 0,
            skill: 0,
            input: Vec::new(),
        }
    }

    /// The actor (for the saved model).
    pub fn actor(&self) -> &ActorPolicy {
        &self.actor
    }
}

impl Policy for SkillPolicy {
    fn act(&mut self, obs: &[f32], env: &dyn Env) -> Action<'_> {
        condition(
            obs,
            obs.len(),
            &[self.skill],
            self.num_skills,
            &mut self.input,
        );
        self.actor.act(&self.input, env)
    }

    fn start_episode(&mut self) {
        self.skill = self.episodes % self.num_skills;
        self.episodes += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditioning_appends_the_one_hot_skill_and_split_inverts_it() {
        let obs = [0.5, -1.0, 2.0, 3.0];
        let mut rows = Vec::new();
        condition(&obs, 2, &[2, 0], 3, &mut rows);
        assert_eq!(rows, [0.5, -1.0, 0.0, 0.0, 1.0, 2.0, 3.0, 1.0, 0.0, 0.0]);
        assert_eq!(split(&rows, 2, 3), (obs.to_vec(), vec![2, 0]));
        condition(&[], 0, &[1], 2, &mut rows);
        assert_eq!(rows, [0.0, 1.0]);
    }

    #[test]
    fn the_best_skill_is_the_one_with_the_best_mean_return() {
        // Skills 0, 1, 2 in turn: means 2, 5, −1.
        let returns = [1.0, 4.0, -1.0, 3.0, 6.0, -1.0];
        assert_eq!(best_skill_return(&returns, 3), 5.0);
        // Fewer episodes than skills: the skills that ran.
        assert_eq!(best_skill_return(&[7.0, 9.0], 10), 9.0);
        assert!(best_skill_return(&[], 3).is_nan());
    }
}
