//! simple_reference_v3: two agents each know where the other should go and must say it.
//!
//! MPE2 1.1.1 `mpe2/simple_reference/simple_reference.py`; ENV_SPEC in
//! `shared/fixtures/mpe/README.md`.

use rand::RngExt;

use super::Scenario;
use super::core::{Entity, World, dist, place, push_relative};
use crate::rng::Rng;

/// The landmark colours (red, green, blue).
const LANDMARK_COLORS: [[f64; 3]; 3] = [[0.75, 0.25, 0.25], [0.25, 0.75, 0.25], [0.25, 0.25, 0.75]];

/// `simple_reference.Scenario`: `agent_0` and `agent_1` (move and speak, `dim_c` 10) and three
/// landmarks; nothing collides.
#[derive(Clone, Debug, Default)]
pub struct SimpleReference;

impl Scenario for SimpleReference {
    fn make_world(&self) -> World {
        let agents = (0..2)
            .map(|i| Entity {
                collide: false,
                ..Entity::agent(format!("agent_{i}"), 10)
            })
            .collect();
        let landmarks = (0..3)
            .map(|i| Entity {
                collide: false,
                ..Entity::landmark(i)
            })
            .collect();
        World {
            agents,
            landmarks,
            dim_c: 10,
        }
    }

    fn reset_world(&self, world: &mut World, rng: &mut Rng) {
        let agents = world.agents.len();
        for agent in &mut world.agents {
            agent.goal_a = None;
            agent.goal_b = None;
        }
        for (i, other) in [(0, 1), (1, 0)] {
            world.agents[i].goal_a = Some(other);
            world.agents[i].goal_b = Some(agents + rng.random_range(0..world.landmarks.len()));
        }
        for agent in &mut world.agents {
            agent.color = [0.25, 0.25, 0.25];
        }
        for (landmark, color) in world.landmarks.iter_mut().zip(LANDMARK_COLORS) {
            landmark.color = color;
        }
        for (i, other) in [(0, 1), (1, 0)] {
            let goal = world.agents[i].goal_b.expect("assigned above");
            world.agents[other].color = world.entity(goal).color;
        }
        for entity in world.agents.iter_mut().chain(&mut world.landmarks) {
            place(entity, rng, -1.0, 1.0);
        }
    }

    /// Minus the distance from the other agent to the landmark this agent knows.
    fn reward(&self, agent: usize, world: &World) -> f64 {
        let me = &world.agents[agent];
        match (me.goal_a, me.goal_b) {
            (Some(a), Some(b)) => -dist(world.entity(a), world.entity(b)),
            _ => -0.0,
        }
    }

    /// The mean of the agents' rewards.
    fn global_reward(&self, world: &World) -> f64 {
        let mut sum = 0.0;
        for agent in 0..world.agents.len() {
            sum += self.reward(agent, world);
        }
        sum / world.agents.len() as f64
    }

    /// `vel, landmark_j - self, goal_b.color, other.c`.
    fn observation(&self, agent: usize, world: &World, out: &mut Vec<f64>) {
        let me = &world.agents[agent];
        out.extend(me.p_vel);
        for landmark in &world.landmarks {
            push_relative(out, landmark, me);
        }
        out.extend(me.goal_b.map_or([0.0; 3], |g| world.entity(g).color));
        for (j, other) in world.agents.iter().enumerate() {
            if j != agent {
                out.extend(&other.c);
            }
        }
    }
}
