#!/bin/sh
# `taskbench --help` and `--version` print and exit 0 on a machine without a display: no
# platform plugin may be loaded for them (over ssh Qt would abort with "could not load the Qt
# platform plugin xcb"). Usage: help_nodisplay.sh path/to/taskbench VERSION
set -u
bin="$1"
version="$2"
fail() {
    echo "help_nodisplay: $*" >&2
    exit 1
}
nodisplay() { env -u QT_QPA_PLATFORM -u DISPLAY -u WAYLAND_DISPLAY "$@"; }

out="$(nodisplay "$bin" --help 2>&1)" || fail "--help exited $?: $out"
case "$out" in
*Usage:*--workers*--screenshot*) ;;
*) fail "--help printed no usage text: $out" ;;
esac
out="$(nodisplay "$bin" --version 2>&1)" || fail "--version exited $?: $out"
case "$out" in
*"Taskbench $version"*) ;;
*) fail "--version printed '$out', expected 'Taskbench $version'" ;;
esac
out="$(nodisplay "$bin" --no-such-option --help 2>&1)" && fail "a bad option exited 0: $out"
case "$out" in
*no-such-option*) ;;
*) fail "a bad option was not named: $out" ;;
esac
echo "help_nodisplay: --help, --version and a bad option answered without a display"
