//! simple_speaker_listener_v4: an immobile speaker sees the goal's colour and tells a blind
//! listener where to go.
//!
//! MPE2 1.1.1 `mpe2/simple_speaker_listener/simple_speaker_listener.py`; ENV_SPEC in
//! `shared/fixtures/mpe/README.md`.

use rand::RngExt;

use super::Scenario;
use super::core::{Entity, World, dist2, place, push_relative};
use crate::rng::Rng;

/// The landmark colours (red, green, blue).
const LANDMARK_COLORS: [[f64; 3]; 3] = [[0.65, 0.15, 0.15], [0.15, 0.65, 0.15], [0.15, 0.15, 0.65]];

/// `simple_speaker_listener.Scenario`: `speaker_0` (immobile, speaks, `dim_c` 3), `listener_0`
/// (moves, silent) and three landmarks; nothing collides.
#[derive(Clone, Debug, Default)]
pub struct SimpleSpeakerListener;

impl Scenario for SimpleSpeakerListener {
    fn make_world(&self) -> World {
        let agent = |name: &str| Entity {
            collide: false,
            size: 0.075,
            ..Entity::agent(name.into(), 3)
        };
        let speaker = Entity {
            movable: false,
            ..agent("speaker_0")
        };
        let listener = Entity {
            silent: true,
            ..agent("listener_0")
        };
        let landmarks = (0..3)
            .map(|i| Entity {
                collide: false,
                size: 0.04,
                ..Entity::landmark(i)
            })
            .collect();
        World {
            agents: vec![speaker, listener],
            landmarks,
            dim_c: 3,
        }
    }

    fn reset_world(&self, world: &mut World, rng: &mut Rng) {
        for agent in &mut world.agents {
            agent.goal_a = None;
            agent.goal_b = None;
        }
        world.agents[0].goal_a = Some(1);
        let goal = rng.random_range(0..world.landmarks.len());
        world.agents[0].goal_b = Some(world.agents.len() + goal);
        for agent in &mut world.agents {
            agent.color = [0.25, 0.25, 0.25];
        }
        for (landmark, color) in world.landmarks.iter_mut().zip(LANDMARK_COLORS) {
            landmark.color = color;
        }
        world.agents[1].color = world.landmarks[goal].color.map(|c| c + 0.45);
        for entity in world.agents.iter_mut().chain(&mut world.landmarks) {
            place(entity, rng, -1.0, 1.0);
        }
    }

    /// Both agents: minus the squared distance from the listener to the goal.
    fn reward(&self, _agent: usize, world: &World) -> f64 {
        let speaker = &world.agents[0];
        let listener = world.entity(speaker.goal_a.expect("the speaker's listener"));
        let goal = world.entity(speaker.goal_b.expect("the speaker's goal"));
        -dist2(listener, goal)
    }

    /// Speaker: the goal's colour. Listener: `vel, landmark_j - self, speaker.c`.
    fn observation(&self, agent: usize, world: &World, out: &mut Vec<f64>) {
        let me = &world.agents[agent];
        if !me.movable {
            let color = me.goal_b.map_or([0.0; 3], |g| world.entity(g).color);
            out.extend(color);
            return;
        }
        out.extend(me.p_vel);
        for landmark in &world.landmarks {
            push_relative(out, landmark, me);
        }
        for (j, other) in world.agents.iter().enumerate() {
            if j != agent {
                out.extend(&other.c);
            }
        }
    }
}
