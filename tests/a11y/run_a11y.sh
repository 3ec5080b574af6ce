#!/usr/bin/env bash
# Runs one AT-SPI test script against the workbench, headless: a private Xvfb display
# (xvfb-run -a), a private D-Bus session (dbus-run-session) and the AT-SPI bus on it
# (at-spi-bus-launcher). The script starts taskbench itself, with a private HOME.
#   run_a11y.sh SCRIPT.py path/to/taskbench [taskbench args...]
# Exits 77 (ctest's SKIP_RETURN_CODE) when a tool is missing, except under CI=true, where
# packaging/install-deps.sh must have installed them all and a missing one fails.
# Everything is bounded: TASKBENCH_A11Y_TIMEOUT seconds in all (default 230).
set -u
script="$1"
shift
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
PY=/usr/bin/python3 # Debian's python, where python3-pyatspi lives (not a pyenv one)
LAUNCHER=/usr/libexec/at-spi-bus-launcher

if [ -z "${TASKBENCH_A11Y_INNER:-}" ]; then
  missing=()
  { [ -x "$PY" ] && "$PY" -c 'import pyatspi' 2>/dev/null; } || missing+=(python3-pyatspi)
  command -v xvfb-run >/dev/null || missing+=(xvfb)
  command -v xauth >/dev/null || missing+=(xauth)
  command -v dbus-run-session >/dev/null || missing+=(dbus)
  command -v dbus-send >/dev/null || missing+=(dbus)
  [ -x "$LAUNCHER" ] || missing+=(at-spi2-core)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "run_a11y: missing ${missing[*]} (packaging/install-deps.sh installs them)" >&2
    if [ "${CI:-}" = "true" ]; then
      exit 1
    fi
    exit 77
  fi
  export TASKBENCH_A11Y_INNER=1
  # -a alone starts at display 99 each time: the suite before may still be letting go of it
  # (its lock file gone, its socket not yet), and the app then cannot connect. Start from a
  # number of this run's own.
  exec timeout -k 10 "${TASKBENCH_A11Y_TIMEOUT:-230}" \
    xvfb-run -a -n "$((100 + $$ % 800))" -s "-screen 0 1400x1000x24 -nolisten tcp" \
    dbus-run-session -- "$0" "$script" "$@"
fi

# Inside the private session: start the accessibility bus and wait until it answers.
unset QT_QPA_PLATFORM
"$LAUNCHER" --launch-immediately &
launcher=$!
trap 'kill "$launcher" 2>/dev/null; wait "$launcher" 2>/dev/null' EXIT
ready=0
for _ in $(seq 1 300); do
  if dbus-send --session --print-reply --dest=org.a11y.Bus /org/a11y/bus \
    org.a11y.Bus.GetAddress >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "run_a11y: the AT-SPI bus did not start within 30 s" >&2
  exit 1
fi
cd "$(dirname "$script")" || exit 1
"$PY" "$script" "$@"
