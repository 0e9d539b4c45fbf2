# rl — common tasks. `make run` builds and runs the main experiment; `make test` runs every test.
CARGO ?= cargo
EXPERIMENT ?= experiments/ppo_pendulum.toml

.PHONY: run test bench fmt lint build build-gpu fuzz verify

build:
	$(CARGO) build --release

# The release build with the wgpu backend's host side optimised (target/gpu/rl), for a GPU.
build-gpu:
	$(CARGO) build --profile gpu

run:
	$(CARGO) run --release -- run $(EXPERIMENT)

# Unit, fixture, CLI, determinism and learning tests, optimised (learning tests train agents).
test:
	$(CARGO) test --release

# 20,000 mutated experiment files (and every file truncated at every byte) through `rl validate`.
fuzz:
	RL_FUZZ_CASES=20000 $(CARGO) test --release --test it fuzz::

# The README's acceptance lines: every shipped experiment with an [expect] table, run in full
# (hours on 2 cores; not part of CI), then `rl check`ed. VERIFY=... picks a subset.
VERIFY ?= $(shell grep -l '^\[expect\]' experiments/*.toml)
VERIFY_OUT ?= results-verify
verify: build
	@for f in $(VERIFY); do ./target/release/rl run $$f --out $(VERIFY_OUT) --force -q || true; done
	./target/release/rl check $(VERIFY_OUT) --report $(VERIFY_OUT)/check.md

bench:
	$(CARGO) bench

fmt:
	$(CARGO) fmt

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings

# The experts of the imitation experiments (bc_*, dagger_*, gail_*, airl_*, maxent_irl_gridworld) and their
# datasets, in results/experts/: PPO on CartPole-v1, SAC on Pendulum-v1 (≈ 6 min on 2 cores)
# and value iteration on FrozenLake (seed 0 each; complete seeds are kept), then `rl collect`.
EXPERTS ?= results/experts
.PHONY: experts
experts: build
	./target/release/rl run experiments/ppo_cartpole.toml --seeds 0 --out $(EXPERTS) --resume -q
	./target/release/rl run experiments/sac_pendulum.toml --seeds 0 --out $(EXPERTS) --resume -q
	./target/release/rl run experiments/value_iteration_frozenlake.toml --seeds 0 --out $(EXPERTS) --resume -q
	./target/release/rl collect $(EXPERTS)/ppo_cartpole/seed_0 --episodes 10 --out $(EXPERTS)/ppo_cartpole.csv
	./target/release/rl collect $(EXPERTS)/sac_pendulum/seed_0 --episodes 10 --out $(EXPERTS)/sac_pendulum.csv
	./target/release/rl collect $(EXPERTS)/value_iteration_frozenlake/seed_0 --episodes 100 --out $(EXPERTS)/value_iteration_frozenlake.csv
