#!/usr/bin/env bash
# Sets up, builds and launches the Taskbench workbench on Debian 12:
#   1. installs the build dependencies from Debian's archive (packaging/install-deps.sh;
#      idempotent, needs root or sudo),
#   2. configures build/ with Ninja (RelWithDebInfo) and builds everything,
#   3. replaces itself with build/bin/taskbench, passing its arguments through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"

die() { echo "run.sh: $*" >&2; exit 1; }

echo "==> Installing dependencies (packaging/install-deps.sh)"
"$ROOT/packaging/install-deps.sh" \
  || die "installing dependencies failed (it needs root or sudo and Debian's archive)"

# ccache keeps rebuilds cheap; the cache lives in the user's home (or CCACHE_DIR).
export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/tmp}/.ccache}"
export CCACHE_BASEDIR="$ROOT"

echo "==> Configuring $BUILD"
cmake -G Ninja -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  || die "configuring failed (see above)"

echo "==> Building"
cmake --build "$BUILD" --parallel "$(nproc)" || die "the build failed (see above)"

APP="$BUILD/bin/taskbench"
[ -x "$APP" ] || die "$APP was not built"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  cat >&2 <<HINT
run.sh: there is no display (\$DISPLAY and \$WAYLAND_DISPLAY are empty), so the window
cannot open. Run it on a virtual display or without one:
  xvfb-run -a ./app/run.sh
  QT_QPA_PLATFORM=offscreen ./app/run.sh
The build is done; the command line works without a display:
  $BUILD/bin/taskbench-cli --help
HINT
  exit 1
fi

echo "==> Launching $APP $*"
exec "$APP" "$@"
