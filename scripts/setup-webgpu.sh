#!/usr/bin/env bash
# Makes WebGPU usable in Node (Dawn, the `webgpu` package) on a machine without a GPU by
# installing Mesa's lavapipe software Vulkan driver. Idempotent: safe to run twice.
#
# - Where a Vulkan loader and a driver recent enough for Dawn are present already, it does nothing.
# - On Debian bookworm it adds the bookworm-backports suite, derived from the machine's own Debian
#   apt source (so no mirror host is written here), and installs mesa-vulkan-drivers + libvulkan1
#   from it (Dawn refuses the Mesa 22 of bookworm itself; backports has Mesa 24+).
# - Elsewhere it prints what to install.
set -euo pipefail

log() { printf 'setup-webgpu: %s\n' "$*" >&2; }

# (grep without -q in these pipelines: under pipefail, grep -q exiting at the first match can kill
# the writer with SIGPIPE and fail the pipeline at random)
have_loader() { ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; }
icd_files() { ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null || true; }
mesa_major() {
  # Version of the installed Mesa Vulkan drivers (Debian), empty if none.
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^[0-9]+://; s/^([0-9]+).*/\1/' || true
}

driver_ok() {
  have_loader || return 1
  [ -n "$(icd_files)" ] || return 1
  # A non-Mesa ICD (NVIDIA, AMD's own, ...) is taken as good. A Mesa one must be 24 or newer.
  if icd_files | grep -vE '(lvp|radeon|intel|nouveau|freedreno|broadcom|panfrost|virtio|asahi|powervr|gfxstream|dzn)_vk_icd|(lvp|radeon|intel|nouveau|freedreno|broadcom|panfrost|virtio|asahi|powervr|intel_hasvk)_icd' >/dev/null; then
    return 0
  fi
  local m; m=$(mesa_major)
  [ -n "$m" ] && [ "$m" -ge 24 ]
}

if driver_ok; then
  log "a Vulkan driver Dawn accepts is installed already (Mesa $(mesa_major || echo n/a)); nothing to do."
  exit 0
fi

. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" != "debian" ] || [ "${VERSION_CODENAME:-}" != "bookworm" ]; then
  cat >&2 <<TXT
setup-webgpu: no Vulkan driver that Dawn accepts was found, and this script only automates Debian bookworm.
  Install a Vulkan loader and a driver, then run 'npx sr2se doctor':
  - Debian/Ubuntu (newer than bookworm): apt-get install mesa-vulkan-drivers libvulkan1
  - Fedora: dnf install mesa-vulkan-drivers vulkan-loader
  - Arch: pacman -S vulkan-swrast vulkan-icd-loader
  - With a GPU: your vendor's driver (NVIDIA, AMD, Intel) already ships its Vulkan driver.
  - macOS: Dawn uses Metal; nothing to install.
TXT
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else log "needs root (or sudo) to install packages"; exit 1; fi
fi

target=/etc/apt/sources.list.d/sr2se-bookworm-backports.sources
have_backports() {
  grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

if ! have_backports; then
  uri="" keyring=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: the first stanza whose Suites has plain "bookworm" gives the mirror and the keyring.
    read -r uri keyring < <(awk '
      BEGIN { RS=""; FS="\n" }
      {
        u=""; s=""; k=""; t=""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)       { u=$i; sub(/^URIs:[ \t]*/, "", u); split(u, a, /[ \t]+/); u=a[1] }
          if ($i ~ /^Suites:/)     { s=" " $i " " }
          if ($i ~ /^Signed-By:/)  { k=$i; sub(/^Signed-By:[ \t]*/, "", k) }
          if ($i ~ /^Types:/)      { t=$i }
        }
        if (t ~ /deb( |$)/ && s ~ / bookworm / && u != "") { print u, (k == "" ? "-" : k); exit }
      }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    # one-line format: "deb [opts] URI bookworm main ..."
    uri=$(awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($(i+1)=="bookworm") { print $i; exit } break } }' /etc/apt/sources.list)
    keyring="-"
  fi
  if [ -z "$uri" ]; then
    log "could not find the Debian bookworm apt source to derive bookworm-backports from."
    log "add a bookworm-backports line for your mirror by hand, then run this again."
    exit 1
  fi
  log "adding bookworm-backports from the machine's own Debian source ($target)"
  {
    echo "Types: deb"
    echo "URIs: $uri"
    echo "Suites: bookworm-backports"
    echo "Components: main"
    [ "$keyring" != "-" ] && echo "Signed-By: $keyring"
  } | $SUDO tee "$target" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
$SUDO apt-get update -qq -o Dpkg::Use-Pty=0 >/dev/null
log "installing mesa-vulkan-drivers libvulkan1 from bookworm-backports"
$SUDO apt-get install -y -qq -o Dpkg::Use-Pty=0 -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null

if driver_ok; then
  log "lavapipe installed (Mesa $(mesa_major)). Check with: npx sr2se doctor"
else
  log "installed, but no usable Vulkan driver was detected; run 'npx sr2se doctor' for details."
  exit 1
fi
