//! The particle world: entities, contact forces and integration.
//!
//! MPE2 1.1.1 `mpe2/_mpe_utils/core.py` (`Entity`, `Agent`, `Landmark`, `World.step`), as the
//! "Physics" section of `shared/fixtures/mpe/README.md` (ENV_SPEC) pins it down: float64
//! throughout, every formula evaluated left to right as written there, no fused multiply-add,
//! glibc's `exp` and `log1p` (Rust's `f64::exp` and `f64::ln_1p` on `*-linux-gnu`).

use rand::RngExt;

use crate::rng::Rng;

/// `World.dim_p`: positions and velocities are 2-vectors.
pub const DIM_P: usize = 2;
/// `World.dt`.
pub const DT: f64 = 0.1;
/// `World.damping`.
pub const DAMPING: f64 = 0.25;
/// `World.contact_force`.
pub const CONTACT_FORCE: f64 = 100.0;
/// `World.contact_margin`.
pub const CONTACT_MARGIN: f64 = 0.001;
/// The force sensitivity of an agent without `accel` (`simple_env.py`, `_set_action`).
pub const DEFAULT_SENSITIVITY: f64 = 5.0;

/// An agent or a landmark (`core.py`'s `Entity`, `Agent`, `Landmark`). Landmarks have an empty
/// `c` and never move.
#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    /// `agent_0`, `adversary_1`, `landmark 2`, ...
    pub name: String,
    pub p_pos: [f64; DIM_P],
    pub p_vel: [f64; DIM_P],
    /// Communication state (`state.c`), `dim_c` values for agents.
    pub c: Vec<f64>,
    pub size: f64,
    pub mass: f64,
    pub movable: bool,
    pub collide: bool,
    /// Agents only: does not communicate (`c` stays zero).
    pub silent: bool,
    /// Force sensitivity; `None`: [`DEFAULT_SENSITIVITY`].
    pub accel: Option<f64>,
    /// Speed clamp; `None`: no clamp.
    pub max_speed: Option<f64>,
    /// Observed only through a goal landmark's colour (simple_reference, speaker_listener).
    pub color: [f64; 3],
    /// simple_tag and simple_adversary: a predator / the adversary.
    pub adversary: bool,
    /// simple_tag: a boundary landmark (never created by the scenario's defaults).
    pub boundary: bool,
    /// `goal_a`, as an index into [`World::entity`] (agents first, then landmarks).
    pub goal_a: Option<usize>,
    /// `goal_b`, as an index into [`World::entity`].
    pub goal_b: Option<usize>,
}

impl Entity {
    /// `Agent()`'s defaults: movable, colliding, not silent, size 0.05.
    pub fn agent(name: String, dim_c: usize) -> Self {
        Self {
            name,
            p_pos: [0.0; DIM_P],
            p_vel: [0.0; DIM_P],
            c: vec![0.0; dim_c],
            size: 0.05,
            mass: 1.0,
            movable: true,
            collide: true,
            silent: false,
            accel: None,
            max_speed: None,
            color: [0.0; 3],
            adversary: false,
            boundary: false,
            goal_a: None,
            goal_b: None,
        }
    }

    /// `Landmark()` as every scenario makes it: not movable, size 0.05, named `landmark {i}`.
    pub fn landmark(i: usize) -> Self {
        Self {
            movable: false,
            silent: true,
            c: Vec::new(),
            ..Self::agent(format!("landmark {i}"), 0)
        }
    }
}

/// What an agent does in one step, decoded from its action (`Agent.action`).
#[derive(Clone, Debug, PartialEq)]
pub struct AgentAction {
    /// Physical force `u`, already scaled by the sensitivity.
    pub u: [f64; DIM_P],
    /// Utterance, `dim_c` values.
    pub c: Vec<f64>,
}

/// The world: agents, then landmarks (`World.entities` order, which the contact forces follow).
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    pub agents: Vec<Entity>,
    pub landmarks: Vec<Entity>,
    /// `World.dim_c`: length of every agent's `c`.
    pub dim_c: usize,
}

impl World {
    /// Number of entities (agents and landmarks).
    pub fn num_entities(&self) -> usize {
        self.agents.len() + self.landmarks.len()
    }

    /// Entity `i` of `World.entities` (agents first, then landmarks).
    pub fn entity(&self, i: usize) -> &Entity {
        match i.checked_sub(self.agents.len()) {
            None => &self.agents[i],
            Some(j) => &self.landmarks[j],
        }
    }

    fn entity_mut(&mut self, i: usize) -> &mut Entity {
        match i.checked_sub(self.agents.len()) {
            None => &mut self.agents[i],
            Some(j) => &mut self.landmarks[j],
        }
    }

    /// The index of the entity called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        (0..self.num_entities()).find(|&i| self.entity(i).name == name)
    }

    /// `World.step()`: contact forces from the pre-step positions, then integration of every
    /// movable entity, then the agents' communication state. `forces` is scratch space.
    pub fn step(&mut self, actions: &[AgentAction], forces: &mut Vec<Option<[f64; DIM_P]>>) {
        let n = self.num_entities();
        forces.clear();
        forces.resize(n, None);
        // apply_action_force: `u + noise`, the noise being 0.0.
        for (i, (agent, action)) in self.agents.iter().zip(actions).enumerate() {
            if agent.movable {
                forces[i] = Some(action.u.map(|u| u + 0.0));
            }
        }
        // apply_environment_force: pairs in entity order, each term added in front.
        for a in 0..n {
            for b in a + 1..n {
                let (ea, eb) = (self.entity(a), self.entity(b));
                if !(ea.collide && eb.collide) || !(ea.movable || eb.movable) {
                    continue;
                }
                let force = collision_force(ea, eb);
                if ea.movable {
                    forces[a] = Some(add_in_front(force, forces[a]));
                }
                if eb.movable {
                    forces[b] = Some(add_in_front(force.map(|f| -f), forces[b]));
                }
            }
        }
        for (i, force) in forces.iter().enumerate() {
            let entity = self.entity_mut(i);
            if entity.movable {
                integrate(entity, *force);
            }
        }
        // update_agent_state: `c = action.c + noise` (noise 0.0) unless silent.
        for (agent, action) in self.agents.iter_mut().zip(actions) {
            if agent.silent {
                agent.c.fill(0.0);
            } else {
                for (c, a) in agent.c.iter_mut().zip(&action.c) {
                    *c = a + 0.0;
                }
            }
        }
    }
}

/// `p_force[i] = f + p_force[i]`, with a missing force counting as `0.0`.
fn add_in_front(f: [f64; DIM_P], existing: Option<[f64; DIM_P]>) -> [f64; DIM_P] {
    let e = existing.unwrap_or([0.0; DIM_P]);
    [f[0] + e[0], f[1] + e[1]]
}

/// `World.get_collision_force(a, b)`: the force on `a` (the force on `b` is its negation).
fn collision_force(a: &Entity, b: &Entity) -> [f64; DIM_P] {
    let d = sub(a.p_pos, b.p_pos);
    let dist = norm(d);
    let dist_min = a.size + b.size;
    let penetration = softplus(-(dist - dist_min) / CONTACT_MARGIN) * CONTACT_MARGIN;
    d.map(|x| ((CONTACT_FORCE * x) / dist) * penetration)
}

/// `World.integrate_state` for one movable entity under `force`.
fn integrate(entity: &mut Entity, force: Option<[f64; DIM_P]>) {
    let [x, y] = entity.p_pos;
    let [vx, vy] = entity.p_vel;
    entity.p_pos = [x + vx * DT, y + vy * DT];
    entity.p_vel = entity.p_vel.map(|v| v * (1.0 - DAMPING));
    if let Some(f) = force {
        for (v, f) in entity.p_vel.iter_mut().zip(f) {
            *v += (f / entity.mass) * DT;
        }
    }
    if let Some(max_speed) = entity.max_speed {
        let speed = norm(entity.p_vel);
        if speed > max_speed {
            entity.p_vel = entity.p_vel.map(|v| (v / speed) * max_speed);
        }
    }
}

/// numpy's `logaddexp(0, y)` with the C library's `exp` and `log1p`.
pub fn softplus(y: f64) -> f64 {
    if y == 0.0 {
        std::f64::consts::LN_2
    } else if y < 0.0 {
        y.exp().ln_1p()
    } else {
        y + (-y).exp().ln_1p()
    }
}

/// `a - b` per component.
pub fn sub(a: [f64; DIM_P], b: [f64; DIM_P]) -> [f64; DIM_P] {
    [a[0] - b[0], a[1] - b[1]]
}

/// `np.sum(np.square(d))`: each square rounded, then added.
pub fn norm2(d: [f64; DIM_P]) -> f64 {
    d[0] * d[0] + d[1] * d[1]
}

/// `np.sqrt(np.sum(np.square(d)))`.
pub fn norm(d: [f64; DIM_P]) -> f64 {
    norm2(d).sqrt()
}

/// The distance between two entities (`dist` in ENV_SPEC's rewards).
pub fn dist(a: &Entity, b: &Entity) -> f64 {
    norm(sub(a.p_pos, b.p_pos))
}

/// The squared distance between two entities (`dist2` in ENV_SPEC's rewards).
pub fn dist2(a: &Entity, b: &Entity) -> f64 {
    norm2(sub(a.p_pos, b.p_pos))
}

/// The scenarios' `is_collision`: strictly closer than the sum of the sizes.
pub fn is_collision(a: &Entity, b: &Entity) -> bool {
    dist(a, b) < a.size + b.size
}

/// A position uniform in `[low, high)²` (numpy's `uniform(low, high, dim_p)`).
pub fn uniform_position(rng: &mut Rng, low: f64, high: f64) -> [f64; DIM_P] {
    std::array::from_fn(|_| low + (high - low) * rng.random::<f64>())
}

/// Puts `entity` at rest at a position uniform in `[low, high)²`, its `c` zero (every
/// scenario's `reset_world`).
pub fn place(entity: &mut Entity, rng: &mut Rng, low: f64, high: f64) {
    entity.p_pos = uniform_position(rng, low, high);
    entity.p_vel = [0.0; DIM_P];
    entity.c.fill(0.0);
}

/// Appends `entity.p_pos - origin.p_pos` (a relative position of an observation).
pub fn push_relative(out: &mut Vec<f64>, entity: &Entity, origin: &Entity) {
    out.extend(sub(entity.p_pos, origin.p_pos));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_takes_numpys_branches() {
        assert_eq!(softplus(0.0), std::f64::consts::LN_2);
        assert_eq!(softplus(-800.0), 0.0, "underflows to exactly zero");
        assert_eq!(softplus(40.0), 40.0 + (-40.0f64).exp().ln_1p());
        assert_eq!(softplus(-3.0), (-3.0f64).exp().ln_1p());
    }

    fn ball(name: &str, x: f64, movable: bool) -> Entity {
        Entity {
            p_pos: [x, 0.0],
            movable,
            size: 0.15,
            ..Entity::agent(name.into(), 0)
        }
    }

    #[test]
    fn overlapping_agents_push_each_other_apart_equally() {
        let mut world = World {
            agents: vec![ball("a", 0.0, true), ball("b", 0.1, true)],
            landmarks: Vec::new(),
            dim_c: 0,
        };
        let idle = AgentAction {
            u: [0.0; 2],
            c: Vec::new(),
        };
        world.step(&[idle.clone(), idle], &mut Vec::new());
        let (a, b) = (world.agents[0].p_vel, world.agents[1].p_vel);
        assert!(a[0] < 0.0 && b[0] > 0.0);
        assert_eq!(a[0], -b[0]);
        assert_eq!(
            world.agents[0].p_pos,
            [0.0, 0.0],
            "positions use the old velocity"
        );
    }

    #[test]
    fn speed_is_clamped_strictly_above_max_speed() {
        let mut world = World {
            agents: vec![Entity {
                max_speed: Some(1.0),
                collide: false,
                ..Entity::agent("a".into(), 0)
            }],
            landmarks: Vec::new(),
            dim_c: 0,
        };
        let push = AgentAction {
            u: [30.0, 40.0],
            c: Vec::new(),
        };
        world.step(&[push], &mut Vec::new());
        let unclamped = [30.0 * DT, 40.0 * DT];
        let speed = norm(unclamped);
        assert_eq!(world.agents[0].p_vel, unclamped.map(|v| (v / speed) * 1.0));
    }
}
