//! simple_spread_v3: N agents cover N landmarks without colliding (cooperative).
//!
//! MPE2 1.1.1 `mpe2/simple_spread/simple_spread.py`; ENV_SPEC in `shared/fixtures/mpe/README.md`.

use super::Scenario;
use super::core::{Entity, World, dist, is_collision, place, push_relative};
use crate::rng::Rng;

/// `simple_spread.Scenario` with `N` agents (size 0.15, colliding, silent) and `N` landmarks.
#[derive(Clone, Debug)]
pub struct SimpleSpread {
    pub n: usize,
}

/// `Scenario.benchmark_data` of one agent: what MPE2's benchmark mode records.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpreadBenchmark {
    /// `-(sum of min distances) - collisions`: the unshaped benchmark reward.
    pub reward: f64,
    /// Agents whose disc overlaps this agent's, the agent itself included (MPE2 counts it).
    pub collisions: u32,
    /// Sum over landmarks of the distance to the nearest agent.
    pub min_dists: f64,
    /// Landmarks with an agent closer than 0.1.
    pub occupied_landmarks: u32,
}

impl SimpleSpread {
    /// `benchmark_data(agent, world)`, the diagnostics of the original MPE paper (collisions,
    /// occupied landmarks, min distances), computed as MPE2 does.
    pub fn benchmark_data(&self, agent: usize, world: &World) -> SpreadBenchmark {
        let me = &world.agents[agent];
        let mut data = SpreadBenchmark {
            reward: 0.0,
            collisions: 0,
            min_dists: 0.0,
            occupied_landmarks: 0,
        };
        for landmark in &world.landmarks {
            let nearest = nearest_agent_distance(world, landmark);
            data.min_dists += nearest;
            data.reward -= nearest;
            if nearest < 0.1 {
                data.occupied_landmarks += 1;
            }
        }
        if me.collide {
            for other in &world.agents {
                if is_collision(other, me) {
                    data.reward -= 1.0;
                    data.collisions += 1;
                }
            }
        }
        data
    }
}

/// `min(dist(a, landmark) for a in agents)`.
fn nearest_agent_distance(world: &World, landmark: &Entity) -> f64 {
    world
        .agents
        .iter()
        .map(|a| dist(a, landmark))
        .fold(f64::INFINITY, f64::min)
}

impl Scenario for SimpleSpread {
    fn make_world(&self) -> World {
        let agents = (0..self.n)
            .map(|i| Entity {
                silent: true,
                size: 0.15,
                ..Entity::agent(format!("agent_{i}"), 2)
            })
            .collect();
        let landmarks = (0..self.n)
            .map(|i| Entity {
                collide: false,
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
            agent.color = [0.35, 0.35, 0.85];
        }
        for landmark in &mut world.landmarks {
            landmark.color = [0.25, 0.25, 0.25];
        }
        for entity in world.agents.iter_mut().chain(&mut world.landmarks) {
            place(entity, rng, -1.0, 1.0);
        }
    }

    /// The local reward: minus the number of other agents overlapping this one.
    fn reward(&self, agent: usize, world: &World) -> f64 {
        let me = &world.agents[agent];
        let mut reward = 0.0;
        if me.collide {
            for (j, other) in world.agents.iter().enumerate() {
                let hit = is_collision(other, me) && j != agent;
                reward -= 1.0 * f64::from(u8::from(hit));
            }
        }
        reward
    }

    /// Minus the sum over landmarks of the distance to the nearest agent.
    fn global_reward(&self, world: &World) -> f64 {
        let mut reward = 0.0;
        for landmark in &world.landmarks {
            reward -= nearest_agent_distance(world, landmark);
        }
        reward
    }

    /// The team's view of [`SimpleSpread::benchmark_data`], as the MADDPG paper reports it:
    /// `collisions` (pairs of distinct agents in contact), `occupied_landmarks` and `min_dists`.
    fn diagnostics(&self, world: &World) -> Vec<(&'static str, f64)> {
        let per_agent: Vec<SpreadBenchmark> = (0..world.agents.len())
            .map(|i| self.benchmark_data(i, world))
            .collect();
        // Each agent's count includes itself; each pair is counted by both of its agents.
        let others: u32 = per_agent
            .iter()
            .map(|b| b.collisions.saturating_sub(1))
            .sum();
        let first = per_agent.first();
        vec![
            ("collisions", f64::from(others / 2)),
            (
                "occupied_landmarks",
                first.map_or(0.0, |b| f64::from(b.occupied_landmarks)),
            ),
            ("min_dists", first.map_or(0.0, |b| b.min_dists)),
        ]
    }

    /// `vel, pos, landmark_j - self, other - self, other.c`.
    fn observation(&self, agent: usize, world: &World, out: &mut Vec<f64>) {
        let me = &world.agents[agent];
        out.extend(me.p_vel);
        out.extend(me.p_pos);
        for landmark in &world.landmarks {
            push_relative(out, landmark, me);
        }
        let others = || world.agents.iter().enumerate().filter(|(j, _)| *j != agent);
        for (_, other) in others() {
            push_relative(out, other, me);
        }
        for (_, other) in others() {
            out.extend(&other.c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three agents: 0 and 1 overlap at landmark 0, agent 2 sits 0.05 from landmark 1,
    /// landmark 2 is 1.0 away from agent 2.
    fn world() -> (SimpleSpread, World) {
        let spread = SimpleSpread { n: 3 };
        let mut world = spread.make_world();
        for (agent, pos) in world
            .agents
            .iter_mut()
            .zip([[0.0, 0.0], [0.2, 0.0], [2.0, 0.05]])
        {
            agent.p_pos = pos;
        }
        for (landmark, pos) in world
            .landmarks
            .iter_mut()
            .zip([[0.0, 0.0], [2.0, 0.0], [2.0, 1.05]])
        {
            landmark.p_pos = pos;
        }
        (spread, world)
    }

    #[test]
    fn benchmark_counts_collisions_occupied_landmarks_and_min_distances() {
        let (spread, world) = world();
        let zero = spread.benchmark_data(0, &world);
        // Agent 0 overlaps agent 1 and (as in MPE2) itself.
        assert_eq!(zero.collisions, 2);
        assert_eq!(zero.occupied_landmarks, 2);
        let min_dists = 0.0 + 0.05 + 1.0;
        assert!((zero.min_dists - min_dists).abs() < 1e-12);
        assert_eq!(zero.reward, -zero.min_dists - 2.0);
        let two = spread.benchmark_data(2, &world);
        assert_eq!((two.collisions, two.occupied_landmarks), (1, 2));
        assert_eq!(two.min_dists, zero.min_dists);
    }

    #[test]
    fn diagnostics_count_colliding_pairs_once() {
        let (spread, world) = world();
        let min_dists = spread.benchmark_data(0, &world).min_dists;
        assert_eq!(
            spread.diagnostics(&world),
            [
                ("collisions", 1.0),
                ("occupied_landmarks", 2.0),
                ("min_dists", min_dists)
            ]
        );
    }

    #[test]
    fn rewards_count_other_agents_and_cover_landmarks() {
        let (spread, world) = world();
        assert_eq!(spread.reward(0, &world), -1.0);
        assert_eq!(spread.reward(1, &world), -1.0);
        assert_eq!(spread.reward(2, &world), 0.0);
        let benchmark = spread.benchmark_data(0, &world);
        assert_eq!(spread.global_reward(&world), -benchmark.min_dists);
    }
}
