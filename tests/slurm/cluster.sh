#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the sweep test: `cluster.sh start | stop`.
#
# start: installs Debian's slurm-wlm and munge when missing (apt, as root), starts munged as the
#        munge user and slurmctld + slurmd with a one-node slurm.conf (the short hostname,
#        CPUs=$(nproc), no cgroups), waits until `sinfo` shows the node idle, and prints
#        `export SLURM_CONF=...` (the client commands need it).
# stop:  stops the daemons it started, by the pids it recorded.
#
# Everything lives under $RL_SLURM_DIR (default /tmp/rl-slurm): config, state, spool, logs, pids.
set -euo pipefail

DIR="${RL_SLURM_DIR:-/tmp/rl-slurm}"
CONF="$DIR/slurm.conf"
MUNGE_DIR="$DIR/munge"

log() { echo "cluster.sh: $*" >&2; }

install_packages() {
  local missing=()
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null ||
    missing+=(slurm-wlm)
  command -v munged >/dev/null || missing+=(munge)
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # policy-rc.d 101: the packages' scripts must not start their services (no init here).
  local policy=/usr/sbin/policy-rc.d created=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  [ -z "$created" ] || $sudo rm -f "$policy"
}

start_munge() {
  mkdir -p "$MUNGE_DIR"
  chown munge:munge "$MUNGE_DIR"
  chmod 700 "$MUNGE_DIR"
  if [ ! -s "$MUNGE_DIR/munge.key" ]; then
    dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
    chown munge:munge "$MUNGE_DIR/munge.key"
    chmod 400 "$MUNGE_DIR/munge.key"
  fi
  runuser -u munge -- munged \
    --key-file="$MUNGE_DIR/munge.key" --socket="$MUNGE_DIR/munge.socket" \
    --pid-file="$MUNGE_DIR/munged.pid" --log-file="$MUNGE_DIR/munged.log" \
    --seed-file="$MUNGE_DIR/munged.seed" --force
}

write_conf() {
  local host cpus mem_mb
  host="$(hostname -s)"
  cpus="$(nproc)"
  mem_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
  mkdir -p "$DIR/state" "$DIR/spool"
  cat >"$CONF" <<EOF
ClusterName=rl
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_DIR/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=30
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  if [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
    log "already running"
    echo "export SLURM_CONF=$CONF"
    return
  fi
  install_packages
  rm -rf "$DIR"
  mkdir -p "$DIR"
  start_munge
  write_conf
  export SLURM_CONF="$CONF"
  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  local host
  host="$(hostname -s)"
  for _ in $(seq 1 60); do
    if sinfo -h -n "$host" -o '%t' 2>/dev/null | grep -qx idle; then
      log "node $host idle ($(nproc) CPUs)"
      echo "export SLURM_CONF=$CONF"
      return
    fi
    sleep 0.5
  done
  log "the node did not come up; logs:"
  tail -n 20 "$DIR/slurmctld.log" "$DIR/slurmd.log" "$MUNGE_DIR/munged.log" >&2 || true
  stop
  exit 1
}

stop() {
  local pidfile pid
  for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$MUNGE_DIR/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    rm -f "$pidfile"
  done
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
