#!/usr/bin/env bash
# Runs one AT-SPI test script against the workbench, headless: a private Xvfb display
# (Xvfb -displayfd), a private D-Bus session (dbus-run-session) and the AT-SPI bus on it
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
  command -v Xvfb >/dev/null || missing+=(xvfb)
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
  # The display: Xvfb picks a free number itself (-displayfd) and writes it only once it
  # listens. xvfb-run guessed a number from lock files, and under a parallel ctest the
  # app sometimes found no server on it ("could not connect to display").
  export TASKBENCH_A11Y_INNER=1
  exec timeout -k 10 "${TASKBENCH_A11Y_TIMEOUT:-230}" "$0" --with-display "$script" "$@"
fi

if [ "${TASKBENCH_A11Y_INNER:-}" = 1 ] && [ "$script" = "--with-display" ]; then
  export TASKBENCH_A11Y_INNER=2
  script="$1"
  shift
  xvfb_log=$(mktemp -t taskbench-xvfb.XXXXXX)
  xvfb=""
  trap 'kill "$xvfb" 2>/dev/null; wait "$xvfb" 2>/dev/null; rm -f "$xvfb_log"' EXIT
  # A display counts once an X client completes the connection handshake on it. -noreset:
  # by default an X server resets when its last client leaves, and a client connecting
  # during the reset is dropped ("could not connect to display"); the handshake's own
  # client leaving made exactly that race with the app's start (233 of 800 connections
  # dropped in a two-client loop without the flag, none with it). That race was the only
  # reason this script ever started a second server, so one is started, once.
  exec {display_fd}< <(exec Xvfb -displayfd 1 -screen 0 1400x1000x24 -nolisten tcp -noreset 2>"$xvfb_log")
  xvfb=$!
  display=""
  read -r -t 30 -u "$display_fd" display || true
  if ! [[ "$display" =~ ^[0-9]+$ ]] || ! kill -0 "$xvfb" 2>/dev/null ||
    ! "$PY" "$(dirname "$0")/x_handshake.py" "$display" 2>>"$xvfb_log"; then
    echo "run_a11y: Xvfb gave no usable display (${display:-none}):" >&2
    cat "$xvfb_log" >&2
    exit 1
  fi
  export TASKBENCH_A11Y_XVFB_LOG="$xvfb_log"
  export DISPLAY=":$display"
  unset XAUTHORITY # no cookie: a local-only server (-nolisten tcp) admits local clients
  dbus-run-session -- "$0" "$script" "$@"
  exit $?
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
