#!/bin/sh
# Installs what the container test (test/install/container.test.ts) needs from Debian's packages:
# podman with the runc runtime, and mmdebstrap to build the image's base from Debian packages (no
# base image can be pulled here). Then sets `default_ulimits = []` in containers.conf: podman's
# default ulimits can't be applied inside this machine's sandbox, and runs fail without it.
# Idempotent. Needs root (or sudo) and apt-get.
set -eu

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO='sudo -n'
  else
    echo "install-podman: need root (or sudo) to apt-get install podman" >&2
    exit 1
  fi
fi

if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1; then
  echo "install-podman: podman, runc and mmdebstrap already present ($(podman --version))"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-podman: apt-get not found; install Debian's podman, runc and mmdebstrap" >&2
    exit 1
  fi
  echo "install-podman: installing Debian's podman, runc and mmdebstrap with apt-get…"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman runc mmdebstrap uidmap fuse-overlayfs slirp4netns >/dev/null
  echo "install-podman: installed $(podman --version)"
fi

CONF=/etc/containers/containers.conf
if ! grep -qs '^default_ulimits *= *\[\]' "$CONF"; then
  $SUDO mkdir -p /etc/containers
  if grep -qs '^\[containers\]' "$CONF"; then
    $SUDO sed -i 's/^\[containers\]/[containers]\ndefault_ulimits = []/' "$CONF"
  else
    printf '[containers]\ndefault_ulimits = []\n' | $SUDO tee -a "$CONF" >/dev/null
  fi
  echo "install-podman: set default_ulimits = [] in $CONF"
fi
