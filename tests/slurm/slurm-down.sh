#!/usr/bin/env bash
# Stops the private Slurm that slurm-up.sh started: cancels its jobs, then stops slurmd,
# slurmctld and munged (by their pid files, waiting until they are gone). Idempotent.
set -uo pipefail

DIR="${TASKBENCH_SLURM_DIR:-/tmp/taskbench-slurm}"
export SLURM_CONF="$DIR/slurm.conf"

if [ -s "$SLURM_CONF" ] && [ -s "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
  scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
fi

stop() {
  local pidfile="$DIR/$1.pid" pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}

stop slurmd
stop slurmctld
stop munged
# Job steps (slurmstepd) of this cluster that outlived slurmd.
if [ -d "$DIR/spool" ] && command -v pgrep >/dev/null; then
  for p in $(pgrep -x slurmstepd 2>/dev/null); do
    grep -qa "$SLURM_CONF" "/proc/$p/environ" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  done
fi
echo "slurm-down: stopped (files kept in $DIR)"
exit 0
