//! simple_adversary_v3: N good agents hide which of N landmarks is the goal from one adversary.
//!
//! MPE2 1.1.1 `mpe2/simple_adversary/simple_adversary.py` (shaped rewards, the defaults);
//! ENV_SPEC in `shared/fixtures/mpe/README.md`.

use rand::RngExt;

use super::Scenario;
use super::core::{Entity, World, dist, place, push_relative};
use crate::rng::Rng;

/// `simple_adversary.Scenario` with `N` good agents, one adversary (first) and `N` landmarks;
/// nothing collides.
#[derive(Clone, Debug)]
pub struct SimpleAdversary {
    pub n: usize,
}

/// The distance from `agent` to its goal landmark.
fn goal_distance(world: &World, agent: &Entity) -> f64 {
    let goal = agent
        .goal_a
        .expect("reset_world assigns every agent the goal");
    dist(agent, world.entity(goal))
}

impl Scenario for SimpleAdversary {
    fn make_world(&self) -> World {
        let agents = (0..=self.n)
            .map(|i| {
                let (adversary, name) = match i {
                    0 => (true, "adversary_0".to_string()),
                    _ => (false, format!("agent_{}", i - 1)),
                };
                Entity {
                    adversary,
                    collide: false,
                    silent: true,
                    size: 0.15,
                    ..Entity::agent(name, 2)
                }
            })
            .collect();
        let landmarks = (0..self.n)
            .map(|i| Entity {
                collide: false,
                size: 0.08,
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
                [0.35, 0.35, 0.85]
            };
        }
        for landmark in &mut world.landmarks {
            landmark.color = [0.15, 0.15, 0.15];
        }
        let goal = rng.random_range(0..world.landmarks.len());
        world.landmarks[goal].color = [0.15, 0.65, 0.15];
        let goal = world.agents.len() + goal;
        for agent in &mut world.agents {
            agent.goal_a = Some(goal);
        }
        for entity in world.agents.iter_mut().chain(&mut world.landmarks) {
            place(entity, rng, -1.0, 1.0);
        }
    }

    /// Adversary: minus its distance to the goal. Good agents: minus the nearest good agent's
    /// distance to the goal, plus the adversaries' distances.
    fn reward(&self, agent: usize, world: &World) -> f64 {
        let me = &world.agents[agent];
        if me.adversary {
            return -goal_distance(world, me);
        }
        let mut adversary_distance = 0.0;
        let mut nearest_good = f64::INFINITY;
        for a in &world.agents {
            if a.adversary {
                adversary_distance += goal_distance(world, a);
            } else {
                nearest_good = nearest_good.min(goal_distance(world, a));
            }
        }
        -nearest_good + adversary_distance
    }

    /// Good agents: `goal - self, landmark_j - self, other - self`; the adversary the same
    /// without the goal.
    fn observation(&self, agent: usize, world: &World, out: &mut Vec<f64>) {
        let me = &world.agents[agent];
        if !me.adversary {
            let goal = me.goal_a.expect("reset_world assigns every agent the goal");
            push_relative(out, world.entity(goal), me);
        }
        for landmark in &world.landmarks {
            push_relative(out, landmark, me);
        }
        for (j, other) in world.agents.iter().enumerate() {
            if j != agent {
                push_relative(out, other, me);
            }
        }
    }
}
