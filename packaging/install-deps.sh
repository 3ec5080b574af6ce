#!/usr/bin/env bash
# Installs every build and test dependency of Taskbench from Debian 12's archive.
# Idempotent: apt-get skips what is already there. Needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  build-essential cmake ninja-build ccache pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqt6svg6 libqt6sql6-sqlite libsqlite3-dev
  libboost-dev libboost-filesystem-dev
  libspdlog-dev libfmt-dev
  libssl-dev
  libgraphviz-dev graphviz
  xvfb xauth at-spi2-core dbus dbus-x11 python3-pyatspi
  qt6-qpa-plugins libgl1-mesa-dri fonts-dejavu-core
  slurm-wlm munge
  gdb elfutils
  bsdutils
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PKGS[@]} packages already installed"
fi
