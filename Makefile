# rl — common tasks. `make run` builds and runs the main experiment; `make test` runs every test.
CARGO ?= cargo
EXPERIMENT ?= experiments/ppo_pendulum.toml

.PHONY: run test bench fmt lint build fuzz

build:
	$(CARGO) build --release

run:
	$(CARGO) run --release -- run $(EXPERIMENT)

# Unit, fixture, CLI, determinism and learning tests, optimised (learning tests train agents).
test:
	$(CARGO) test --release

# 20,000 mutated experiment files (and every file truncated at every byte) through `rl validate`.
fuzz:
	RL_FUZZ_CASES=20000 $(CARGO) test --release --test fuzz

bench:
	$(CARGO) bench

fmt:
	$(CARGO) fmt

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings
