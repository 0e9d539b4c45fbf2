"""A user-defined gymnasium env for rl's bridge: walk right along a corridor to its end.

Importing this module registers `Corridor-v0`. rl reaches it through gymnasium's `module:id`
form, `id = "examples.gymnasium_env.corridor:Corridor-v0"`, which imports the module first (from
the repository root, where rl runs; elsewhere put its folder on PYTHONPATH and use
`corridor:Corridor-v0`).
"""

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Corridor(gym.Env):
    """Cells 0..length-1, start in a random cell of the left half; action 0 steps left, 1 right.

    Reward -0.01 per step and +1 on reaching the last cell, which ends the episode. The
    observation is the position scaled to [0, 1].
    """

    def __init__(self, length=10):
        self.length = length
        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.position = 0

    def _obs(self):
        return np.array([self.position / (self.length - 1)], dtype=np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(0, self.length // 2))
        return self._obs(), {}

    def step(self, action):
        move = 1 if action == 1 else -1
        self.position = min(max(self.position + move, 0), self.length - 1)
        terminated = self.position == self.length - 1
        reward = 1.0 if terminated else -0.01
        return self._obs(), reward, terminated, False, {}


gym.register(id="Corridor-v0", entry_point=Corridor, max_episode_steps=100)
