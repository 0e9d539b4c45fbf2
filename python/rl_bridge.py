"""rl's gymnasium worker: serves `num_envs` gymnasium envs to rl over stdin/stdout.

rl starts it as `python -c <this file> <config json>` and talks a little-endian binary protocol:

  hello (worker → rl, once): u32 length, then a JSON object: the spaces and the time limit,
        or {"ok": false, "kind": ..., "message": ...} when gymnasium, a package or the id fails.
  b"r" u32 env, u8 has_seed, u64 seed → f32[obs_dim]          reset(seed=...) of one env
  b"s" actions of every env (i64 each, or f32[act_dim] each) →
        f64[n] rewards, u8[n] flags (1 terminated, 2 truncated), f32[n, obs_dim] observations,
        then, with autoreset on, f32[obs_dim] of the reset of each env that finished, in order
  b"n" u32 env, u64 seed → nothing                              env.unwrapped.np_random reseeded
  b"x" u32 env → u32 count, f64[count]                          env.unwrapped.state, if any

Observations are flattened to float32 (a Discrete one is its index). End of input: exit quietly.
Warnings (gymnasium's env checker's, the env's own) go to stderr as one line each, prefixed
`rl-bridge-warning: `; rl shows each once per run, whichever worker raised it.
Only the standard library, numpy and gymnasium (plus whatever the env itself imports).
"""

import json
import re
import struct
import sys
import traceback
import warnings

WARNING_PREFIX = "rl-bridge-warning: "


def send(out, data):
    out.write(data)
    out.flush()


def hello(out, message):
    body = json.dumps(message).encode()
    send(out, struct.pack("<I", len(body)) + body)


def bounds(values):
    """Box bounds as JSON numbers, with infinities as strings (JSON has none)."""
    return [v if abs(v) != float("inf") else ("inf" if v > 0 else "-inf") for v in values]


def describe(space, np, spaces, what):
    """A Discrete or Box space as JSON; any other space is refused, naming it."""
    if isinstance(space, spaces.Discrete):
        return {"discrete": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        low = np.asarray(space.low, dtype=np.float64).ravel().tolist()
        high = np.asarray(space.high, dtype=np.float64).ravel().tolist()
        return {"box": {"low": bounds(low), "high": bounds(high), "shape": list(space.shape)}}
    raise TypeError(
        f"the {what} space is {space}; rl's bridge serves Discrete and Box spaces only "
        "(flatten it with a gymnasium wrapper in a module of your own)"
    )


def make_envs(cfg, gym):
    """`num_envs` envs of `cfg["id"]`; gymnasium's `module:Env-v0` ids import the module."""
    kwargs = dict(cfg.get("kwargs") or {})
    if cfg.get("max_episode_steps") is not None:
        kwargs["max_episode_steps"] = cfg["max_episode_steps"]
    return [gym.make(cfg["id"], **kwargs) for _ in range(cfg["num_envs"])]


def start(cfg, out):
    """Imports gymnasium, makes the envs and says hello; None (after an error hello) on failure."""
    try:
        import numpy as np
        import gymnasium as gym
        from gymnasium import spaces
    except ImportError as e:
        hello(out, {"ok": False, "kind": "import", "package": e.name, "message": str(e)})
        return None
    try:
        envs = make_envs(cfg, gym)
    except (ImportError, gym.error.DependencyNotInstalled) as e:
        # gymnasium re-raises a failed import of an env's package: name the original module.
        package = getattr(e, "name", None) or getattr(e.__cause__, "name", None)
        hello(out, {"ok": False, "kind": "import", "package": package, "message": str(e)})
        return None
    except gym.error.Error as e:
        hello(out, {"ok": False, "kind": "id", "message": f"{type(e).__name__}: {e}"})
        return None
    except TypeError as e:
        hello(out, {"ok": False, "kind": "kwargs", "message": str(e)})
        return None
    except Exception:
        hello(out, {"ok": False, "kind": "make", "message": traceback.format_exc()})
        return None
    env = envs[0]
    try:
        obs_space = describe(env.observation_space, np, spaces, "observation")
        act_space = describe(env.action_space, np, spaces, "action")
    except TypeError as e:
        hello(out, {"ok": False, "kind": "space", "message": str(e)})
        return None
    spec = env.spec
    hello(out, {
        "ok": True,
        "id": spec.id if spec else cfg["id"],
        "observation_space": obs_space,
        "action_space": act_space,
        "max_episode_steps": spec.max_episode_steps if spec else None,
        "reward_threshold": spec.reward_threshold if spec else None,
    })
    return np, envs, obs_space, act_space


def serve(cfg, inp, out, np, envs, obs_space, act_space):
    """Answers rl's requests until its end of the pipe closes."""
    n = len(envs)
    obs_start = obs_space.get("start", 0)
    autoreset = cfg["autoreset"]
    if "discrete" in act_space:
        act_start = act_space["start"]
        act_bytes, act_shape, act_dtype = 8 * n, None, None
    else:
        act_shape = envs[0].action_space.shape
        act_dtype = envs[0].action_space.dtype
        act_bytes = 4 * n * int(np.prod(act_shape, dtype=np.int64))

    obs_dim = len(obs_space["box"]["low"]) if "box" in obs_space else 1

    def write(row, obs):
        """Writes one observation, flattened to float32, into `row`."""
        row[:] = np.ravel(obs) - obs_start if obs_start else np.ravel(obs)

    rewards = np.zeros(n, dtype=np.float64)
    flags = bytearray(n)
    observations = np.zeros((n, obs_dim), dtype=np.float32)
    reset = np.zeros(obs_dim, dtype=np.float32)
    while True:
        op = inp.read(1)
        if not op:
            return
        if op == b"r":
            i, has_seed, seed = struct.unpack("<IBQ", inp.read(13))
            write(reset, envs[i].reset(seed=seed if has_seed else None)[0])
            send(out, reset.tobytes())
        elif op == b"s":
            raw = inp.read(act_bytes)
            if act_shape is None:
                actions = np.frombuffer(raw, dtype="<i8") + act_start
            else:
                actions = np.frombuffer(raw, dtype="<f4").reshape((n,) + act_shape)
            resets = []
            for i, env in enumerate(envs):
                a = int(actions[i]) if act_shape is None else actions[i].astype(act_dtype)
                obs, reward, terminated, truncated, _ = env.step(a)
                rewards[i] = reward
                flags[i] = (1 if terminated else 0) | (2 if truncated else 0)
                write(observations[i], obs)
                if autoreset and (terminated or truncated):
                    # Each env is reset here, its final observation kept above: gymnasium's
                    # vector autoreset modes never come into play.
                    write(reset, env.reset()[0])
                    resets.append(reset.tobytes())
            send(out, rewards.tobytes() + bytes(flags) + observations.tobytes() + b"".join(resets))
        elif op == b"n":
            i, seed = struct.unpack("<IQ", inp.read(12))
            envs[i].unwrapped.np_random = np.random.default_rng(seed)
        elif op == b"x":
            (i,) = struct.unpack("<I", inp.read(4))
            state = getattr(envs[i].unwrapped, "state", None)
            values = np.zeros(0) if state is None else np.asarray(state, dtype=np.float64).ravel()
            send(out, struct.pack("<I", len(values)) + values.astype("<f8").tobytes())
        else:
            raise ValueError(f"unknown request {op!r}")


def forward_warnings():
    """Writes each warning Python shows as one stderr line, without gymnasium's colour codes."""
    ansi = re.compile(r"\x1b\[[0-9;]*m")

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(ansi.sub("", str(message)).split())
        sys.stderr.write(f"{WARNING_PREFIX}{category.__name__}: {text}\n")
        sys.stderr.flush()

    warnings.showwarning = show


def main():
    cfg = json.loads(sys.argv[1])
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    # Anything the env prints goes to stderr, never into the protocol.
    sys.stdout = sys.stderr
    forward_warnings()
    started = start(cfg, out)
    if started is not None:
        serve(cfg, inp, out, *started)


if __name__ == "__main__":
    main()
