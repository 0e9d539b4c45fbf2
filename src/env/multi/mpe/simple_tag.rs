//! simple_tag_v3: predators (adversaries) chase faster prey among obstacles.
//!
//! MPE2 1.1.1 `mpe2/simple_tag/simple_tag.py` (unshaped rewards, the defaults); ENV_SPEC in
//! `shared/fixtures/mpe/README.md`.

use super::Scenario;
use super::core::{DIM_P, Entity, World, is_collision, place, push_relative};
use crate::rng::Rng;

/// `simple_tag.Scenario`: `num_adversaries` predators (first), `num_good` prey and
/// `num_obstacles` obstacles; everything collides.
#[derive(Clone, Debug)]
pub struct SimpleTag {
    pub num_good: usize,
    pub num_adversaries: usize,
    pub num_obstacles: usize,
}

/// The prey's out-of-bounds penalty for one coordinate's magnitude `x`.
fn bound(x: f64) -> f64 {
    if x < 0.9 {
        0.0
    } else if x < 1.0 {
        (x - 0.9) * 10.0
    } else {
        (2.0 * x - 2.0).exp().min(10.0)
    }
}

impl Scenario for SimpleTag {
    fn make_world(&self) -> World {
        let agents = (0..self.num_adversaries + self.num_good)
            .map(|i| {
                let adversary = i < self.num_adversaries;
                let name = if adversary {
                    format!("adversary_{i}")
                } else {
                    format!("agent_{}", i - self.num_adversaries)
                };
                Entity {
                    adversary,
                    silent: true,
                    size: if adversary { 0.075 } else { 0.05 },
                    accel: Some(if adversary { 3.0 } else { 4.0 }),
                    max_speed: Some(if adversary { 1.0 } else { 1.3 }),
                    ..Entity::agent(name, 2)
                }
            })
            .collect();
        let landmarks = (0..self.num_obstacles)
            .map(|i| Entity {
                size: 0.2,
                ..Entity::landmark(i)
            })
            .collect();
        World {
            agents,
            landmarks,
            dim_c: 2,
        }
    }

    fn reset_world(&self, world: &mut World, rng: &mut Rng) {
        for agent in &mut world.agents {
            agent.color = if agent.adversary {
                [0.85, 0.35, 0.35]
            } else {
                [0.35, 0.85, 0.35]
            };
        }
        for landmark in &mut world.landmarks {
            landmark.color = [0.25, 0.25, 0.25];
        }
        for agent in &mut world.agents {
            place(agent, rng, -1.0, 1.0);
        }
        for landmark in &mut world.landmarks {
            if !landmark.boundary {
                place(landmark, rng, -0.9, 0.9);
            }
        }
    }

    /// Adversaries: 10 per (prey, adversary) pair in contact, shared. Prey: -10 per adversary
    /// touching it, minus the out-of-bounds penalty of x, then of y.
    fn reward(&self, agent: usize, world: &World) -> f64 {
        let me = &world.agents[agent];
        let adversaries = world.agents.iter().filter(|a| a.adversary);
        if me.adversary {
            let mut catches = 0u32;
            if me.collide {
                for prey in world.agents.iter().filter(|a| !a.adversary) {
                    catches += adversaries
                        .clone()
                        .filter(|adv| is_collision(prey, adv))
                        .count() as u32;
                }
            }
            return f64::from(10 * catches);
        }
        let mut caught = 0i32;
        if me.collide {
            caught -= 10 * adversaries.filter(|a| is_collision(a, me)).count() as i32;
        }
        let mut reward = f64::from(caught);
        for p in 0..DIM_P {
            reward -= bound(me.p_pos[p].abs());
        }
        reward
    }

    /// `vel, pos, obstacle_j - self, other - self, other prey's vel`.
    fn observation(&self, agent: usize, world: &World, out: &mut Vec<f64>) {
        let me = &world.agents[agent];
        out.extend(me.p_vel);
        out.extend(me.p_pos);
        for landmark in world.landmarks.iter().filter(|l| !l.boundary) {
            push_relative(out, landmark, me);
        }
        let others = || world.agents.iter().enumerate().filter(|(j, _)| *j != agent);
        for (_, other) in others() {
            push_relative(out, other, me);
        }
        for (_, other) in others().filter(|(_, o)| !o.adversary) {
            out.extend(other.p_vel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_is_zero_inside_linear_near_and_exponential_outside() {
        assert_eq!(bound(0.5), 0.0);
        assert_eq!(bound(0.95), (0.95 - 0.9) * 10.0);
        assert_eq!(bound(1.2), (2.0f64 * 1.2 - 2.0).exp());
        assert_eq!(bound(5.0), 10.0);
    }

    #[test]
    fn a_catch_rewards_every_adversary_and_punishes_the_prey() {
        let tag = SimpleTag {
            num_good: 1,
            num_adversaries: 2,
            num_obstacles: 0,
        };
        let mut world = tag.make_world();
        for (agent, pos) in world
            .agents
            .iter_mut()
            .zip([[0.0, 0.0], [0.5, 0.5], [0.1, 0.0]])
        {
            agent.p_pos = pos;
        }
        assert_eq!(tag.reward(0, &world), 10.0);
        assert_eq!(tag.reward(1, &world), 10.0);
        assert_eq!(tag.reward(2, &world), -10.0);
    }
}
