#!/usr/bin/env bash
# The CI workflow's steps on one machine: N shard jobs in parallel, merge their artifacts,
# check the merged seeds against the experiment's [expect] table (and a baseline, if given).
#
#   examples/ci/local.sh EXPERIMENT.toml [SHARDS] [SEEDS] [BASELINE_DIR]
#
# e.g. examples/ci/local.sh experiments/ppo_cartpole.toml 3 0..5
# Writes under $WORK (default ci-work/): shard-<i>/ (one "artifact" per job), merged/,
# check.md (the job summary) and check.xml (JUnit). Exit code: rl check's (0 pass, 1 fail, 2 bad input).
set -euo pipefail

experiment=${1:?usage: local.sh EXPERIMENT.toml [SHARDS] [SEEDS] [BASELINE_DIR]}
shards=${2:-3}
seeds=${3:-0..5}
baseline=${4:-}
rl=${RL:-rl}
work=${WORK:-ci-work}

rm -rf "$work"
mkdir -p "$work"

# The seed matrix: one job per shard (here: processes), each with its own results folder.
pids=()
for ((i = 0; i < shards; i++)); do
  "$rl" run "$experiment" --seeds "$seeds" --shard "$i/$shards" --jobs 1 -q \
    --out "$work/shard-$i" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=$?
done
# A failed seed is recorded in its folder and counted by rl check; anything else stops here.
if [ "$status" -gt 1 ]; then
  echo "a shard exited with $status" >&2
  exit "$status"
fi

# The final job: download the artifacts side by side, merge, check.
shard_dirs=()
for ((i = 0; i < shards; i++)); do
  [ -d "$work/shard-$i" ] && shard_dirs+=("$work/shard-$i")
done
"$rl" merge "$work/merged" "${shard_dirs[@]}"

check=("$rl" check "$work/merged" --report "$work/check.xml")
if [ -n "$baseline" ]; then
  check+=(--baseline "$baseline")
fi
set +e
"${check[@]}" --format markdown | tee "$work/check.md"
code=${PIPESTATUS[0]}
exit "$code"
