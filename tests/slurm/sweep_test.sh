#!/usr/bin/env bash
# `rl sweep slurm` on a real one-node Slurm cluster (tests/slurm/cluster.sh): a small sweep
# (2 trials × 2 seeds of Q-learning on Taxi) runs as a job array; `rl sweep status` counts it
# complete; every job's curves equal `rl sweep run` of the same sweep (wall-clock columns
# aside). Then a long job is stopped with `scancel --signal=TERM` while it runs, resubmitted,
# and must end with the curves of an uninterrupted run. The daemons are stopped at the end.
#
# Run as root (it installs slurm-wlm and munge when missing): tests/slurm/sweep_test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
RL="${RL:-$ROOT/target/release/rl}"
[ -x "$RL" ] || cargo build --release
WORK="$(mktemp -d)"
STARTED=$SECONDS

log() { echo "[slurm test +$((SECONDS - STARTED))s] $*"; }
fail() {
  log "FAIL: $*"
  exit 1
}
cleanup() {
  "$ROOT/tests/slurm/cluster.sh" stop || true
  rm -rf "$WORK"
}
trap cleanup EXIT

eval "$("$ROOT/tests/slurm/cluster.sh" start)"
log "cluster up: $(sinfo -h -o '%P %a %D %t %c')"
cd "$WORK"

# Waits until Slurm job $1 has left the queue (at most $2 seconds).
wait_job() {
  local deadline=$((SECONDS + $2))
  while squeue -h -j "$1" 2>/dev/null | grep -q .; do
    [ $SECONDS -lt $deadline ] || fail "job $1 still queued after $2 s: $(squeue -h -j "$1")"
    sleep 1
  done
}

# The CSV file $1 without its wall-clock columns (wall_s, sps).
without_wall_clock() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) keep[i] = ($i != "wall_s" && $i != "sps") }
    { line = ""; for (i = 1; i <= NF; i++) if (keep[i]) line = line $i ","; print line }' "$1"
}

# Every seed folder under $1 has the curves of its twin under $2.
same_curves() {
  local count=0 seed twin csv
  while IFS= read -r seed; do
    twin="$2/${seed#"$1"/}"
    for csv in curve.csv episodes.csv; do
      [ -f "$twin/$csv" ] || fail "$twin/$csv missing"
      diff <(without_wall_clock "$seed/$csv") <(without_wall_clock "$twin/$csv") >/dev/null ||
        fail "$seed/$csv differs from $twin/$csv"
    done
    count=$((count + 1))
  done < <(find "$1" -type d -name 'seed_*' | sort)
  [ "$count" -gt 0 ] || fail "no seed folders under $1"
  log "$count jobs: curves identical ($1 vs $2)"
}

# The job id: the last line `rl sweep slurm` prints.
submit() {
  local out
  out="$("$RL" sweep slurm "$@")" || fail "rl sweep slurm $*: $out"
  echo "$out" | sed 's/^/    /' >&2
  echo "$out" | tail -n 1
}

cat >sweep.toml <<'EOF'
[experiment]
name = "taxi"
seeds = "0..2"
total_steps = 30_000
eval_every = 5_000
eval_episodes = 20

[env]
id = "Taxi-v3"

[algo]
name = "q_learning"

[sweep]
name = "small"
"algo.learning_rate" = [0.1, 0.5]
EOF

id="$(submit sweep.toml --out slurm)"
log "submitted the small sweep as array job $id"
wait_job "$id" 120
status="$("$RL" sweep status slurm/small)"
echo "$status" | sed 's/^/    /'
echo "$status" | grep -q "^4 complete, 0 running, 0 interrupted, 0 failed, 0 pending" ||
  fail "the array did not complete every job"
"$RL" sweep run sweep.toml --out local -q --jobs 2 >/dev/null
same_curves slurm/small local/small
again="$("$RL" sweep slurm sweep.toml --out slurm)"
echo "$again" | grep -q "nothing to submit" || fail "a complete sweep was submitted again: $again"
log "resubmitting a complete sweep submits nothing"

# A long job (about 10 s here), stopped by SIGTERM while it runs, then resubmitted.
sed -e 's/total_steps = 30_000/total_steps = 40_000_000/' -e 's/eval_every = 5_000/eval_every = 2_000_000/' \
  -e 's/name = "small"/name = "long"/' -e 's/\[0.1, 0.5\]/[0.5]/' -e 's/seeds = "0..2"/seeds = "0..1"/' \
  sweep.toml >long.toml
id="$(submit long.toml --out slurm)"
seed_dir=slurm/long/base/seed_0
deadline=$((SECONDS + 60))
until grep -q '"running"' "$seed_dir/meta.json" 2>/dev/null &&
  [ "$(wc -l <"$seed_dir/curve.csv" 2>/dev/null || echo 0)" -ge 3 ]; do
  [ $SECONDS -lt $deadline ] || fail "the long job never ran"
  sleep 0.2
done
scancel --full --signal=TERM "$id"
log "sent SIGTERM to array job $id at row $(($(wc -l <"$seed_dir/curve.csv") - 1)) of its curve"
wait_job "$id" 60
grep -q '"interrupted"' "$seed_dir/meta.json" || fail "the stopped job is not interrupted: $(cat "$seed_dir/meta.json")"
[ -f "$seed_dir/checkpoint.json" ] || fail "the stopped job left no checkpoint"
"$RL" sweep status slurm/long | sed 's/^/    /'
id="$(submit long.toml --out slurm)"
log "resubmitted as array job $id"
wait_job "$id" 120
"$RL" sweep status slurm/long | grep -q "^1 complete" || fail "the resumed job did not complete"
grep -h "^job 0" slurm/long/slurm/*.out | sed 's/^/    /'
"$RL" sweep run long.toml --out local -q --jobs 1 >/dev/null
same_curves slurm/long local/long
log "PASS"
