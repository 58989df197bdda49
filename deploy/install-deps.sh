#!/usr/bin/env bash
# Installs what robofy-wa-bridge needs to build and test, from Debian 12 packages, when missing.
# Safe to run again: it does nothing when everything is there.
set -euo pipefail

packages=(
  g++ cmake make pkg-config ca-certificates
  libboost1.81-dev libboost-test1.81-dev libboost-json1.81-dev
  libssl-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libhiredis-dev libmd4c-dev
)
# Extra packages a caller asks for (e.g. clang for the fuzz targets): EXTRA_PACKAGES="clang ..."
read -r -a extra <<<"${EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
