#!/usr/bin/env bash
# Starts a private single-node Slurm on this host for the Slurm tests: munged, slurmctld and
# slurmd, all with their files under one folder ($TASKBENCH_SLURM_DIR, default
# /tmp/taskbench-slurm) and a slurm.conf that clients find through SLURM_CONF. Debian 12, as
# root (Slurm's daemons need it). Idempotent: a cluster that already answers is left alone.
# Stop it with slurm-down.sh.
#
#   tests/slurm/slurm-up.sh            # prints "export SLURM_CONF=..." when ready
#   TASKBENCH_SLURM_INSTALL=1 ...      # apt-get install slurm-wlm munge first if missing
set -euo pipefail

DIR="${TASKBENCH_SLURM_DIR:-/tmp/taskbench-slurm}"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"

die() {
  echo "slurm-up: $*" >&2
  for f in "$DIR/slurmctld.log" "$DIR/slurmd.log" "$DIR/munged.log"; do
    [ -s "$f" ] && [ -r "$f" ] && { echo "--- last lines of $f" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}

# Cannot start here: an error under CI (CI=true), elsewhere a skip (ctest: exit 77).
cannot() {
  if [ "${CI:-}" = true ]; then die "$*"; fi
  echo "slurm-up: SKIPPED: $*" >&2
  exit 77
}

[ "$(id -u)" -eq 0 ] || cannot "must run as root (slurmd and munged need it); try: sudo $0"

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if [ "${TASKBENCH_SLURM_INSTALL:-0}" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge
  else
    cannot "slurm-wlm and munge are not installed (packaging/install-deps.sh installs them)"
  fi
fi

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Already up (a previous run, or the ctest fixture ran twice)?
if alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid" && alive "$DIR/munged.pid" \
  && sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
  echo "slurm-up: already running"
  echo "export SLURM_CONF=$CONF"
  exit 0
fi

# Half-started leftovers: stop them before starting afresh, with no old jobs in the state.
"$(dirname "$0")/slurm-down.sh" >/dev/null 2>&1 || true
rm -rf "${DIR:?}/state" "${DIR:?}/spool" "$DIR"/*.log
mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
chmod 0700 "$DIR/munge"

# A TCP port nobody listens on (bash's /dev/tcp: connecting fails on a free port).
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
CTLD_PORT=$(free_port 16817)
SLURMD_PORT=$(free_port $((CTLD_PORT + 1)))

HOST=$(hostname -s)
NCPU=$(nproc)
# Worker jobs mostly wait on the scheduler: offer more CPUs than cores so a 2-core CI box can
# run several one-CPU worker jobs at once (config_overrides makes slurmd accept the figure).
CPUS=${TASKBENCH_SLURM_CPUS:-$((NCPU < 8 ? 8 : NCPU))}
MEM_MB=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)

cat >"$CONF" <<EOF
# Written by taskbench tests/slurm/slurm-up.sh: a private single-node cluster.
ClusterName=taskbench
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# Containers have no usable cgroups: track jobs by process group, no task containment.
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
# Quick teardown: SIGKILL 2 s after SIGTERM; ended jobs stay visible to squeue for 5 min.
KillWait=2
MinJobAge=300
InactiveLimit=0
SchedulerType=sched/backfill
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

# munge: a private key and socket, so a system munged (if any) is not disturbed.
if [ ! -s "$DIR/munge/munge.key" ]; then
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$DIR/munge/munge.key"
  else
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  fi
fi
chmod 0400 "$DIR/munge/munge.key"
munged --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
  --pid-file="$DIR/munged.pid" --log-file="$DIR/munged.log" --seed-file="$DIR/munge/seed" \
  || die "munged did not start"

slurmctld -f "$CONF" || die "slurmctld did not start"
slurmd -f "$CONF" || die "slurmd did not start"

# Wait (up to 30 s) until the node is ready for jobs.
for _ in $(seq 1 60); do
  state=$(sinfo -h -n "$HOST" -o '%T' 2>/dev/null || true)
  case "$state" in
  idle | mixed | allocated)
    echo "slurm-up: node $HOST $state ($CPUS CPUs, ${MEM_MB} MB), slurmctld port $CTLD_PORT"
    echo "export SLURM_CONF=$CONF"
    exit 0
    ;;
  drain* | down*)
    scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
    ;;
  esac
  sleep 0.5
done
die "node $HOST did not become idle within 30 s (sinfo: ${state:-no answer})"
