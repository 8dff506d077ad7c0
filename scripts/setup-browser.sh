#!/usr/bin/env bash
# Installs Debian's Chromium for the browser WebGPU check (packages/tensor/test/browser), driven by
# playwright-core with executablePath: no browser is downloaded by a test tool. Idempotent.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "setup-browser: $(chromium --version 2>/dev/null || echo chromium) is installed" >&2
  exit 0
fi
. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" != "debian" ] && [ "${ID_LIKE:-}" != "debian" ]; then
  echo "setup-browser: install Chromium with your package manager (the browser test looks for /usr/bin/chromium or CHROMIUM_PATH)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq -o Dpkg::Use-Pty=0 >/dev/null
$SUDO apt-get install -y -qq -o Dpkg::Use-Pty=0 chromium >/dev/null
echo "setup-browser: installed $(chromium --version 2>/dev/null)" >&2
