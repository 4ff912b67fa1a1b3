#!/usr/bin/env bash
# Installs Debian's chromium, chromium-driver and a small Chinese font for the
# web chat browser tests (tests/browser). Idempotent: does nothing when they
# are already present. Needs root (or sudo) and the Debian package mirror.
set -euo pipefail

have_cjk_font() {
  command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]
}

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && have_cjk_font; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "installing chromium, chromium-driver and fonts-wqy-microhei (browser tests)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-wqy-microhei
