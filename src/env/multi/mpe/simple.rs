//! simple_v3: one agent learns to reach one landmark.
//!
//! MPE2 1.1.1 `mpe2/simple/simple.py`; ENV_SPEC in `shared/fixtures/mpe/README.md`.

use super::Scenario;
use super::core::{Entity, World, dist2, place, push_relative};
use crate::rng::Rng;

/// `simple.Scenario`: `agent_0` (silent, not colliding) and `landmark 0`.
#[derive(Clone, Debug, Default)]
pub struct Simple;

impl Scenario for Simple {
    fn make_world(&self) -> World {
        let agent = Entity {
            collide: false,
            silent: true,
            ..Entity::agent("agent_0".into(), 0)
        };
        let landmark = Entity {
            collide: false,
            ..Entity::landmark(0)
        };
        World {
            agents: vec![agent],
            landmarks: vec![landmark],
            dim_c: 0,
        }
    }

    fn reset_world(&self, world: &mut World, rng: &mut Rng) {
        for agent in &mut world.agents {
            agent.color = [0.25, 0.25, 0.25];
        }
        for landmark in &mut world.landmarks {
            landmark.color = [0.75, 0.25, 0.25];
        }
        for entity in world.agents.iter_mut().chain(&mut world.landmarks) {
            place(entity, rng, -1.0, 1.0);
        }
    }

    /// `-dist2(agent, landmark 0)`.
    fn reward(&self, agent: usize, world: &World) -> f64 {
        -dist2(&world.agents[agent], &world.landmarks[0])
    }

    /// `vel, landmark - self`.
    fn observation(&self, agent: usize, world: &World, out: &mut Vec<f64>) {
        let me = &world.agents[agent];
        out.extend(me.p_vel);
        for landmark in &world.landmarks {
            push_relative(out, landmark, me);
        }
    }
}
