#!/usr/bin/env bash
# `cmake --install BUILD_DIR --prefix TMP` lays out the binary, the systemd unit (naming the
# installed binary) and the two example configurations.
# Usage: check_install.sh BUILD_DIR FULL_BINDIR
set -euo pipefail
build=$1
full_bindir=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp" >"$tmp.log" 2>&1 || { cat "$tmp.log" >&2; rm -f "$tmp.log"; fail "cmake --install failed"; }
rm -f "$tmp.log"

for f in bin/robofy-wa-bridge lib/systemd/system/robofy-wa-bridge.service \
  etc/robofy-wa-bridge/config.yaml.example etc/robofy-wa-bridge/config.systemd.yaml.example; do
  [ -f "$tmp/$f" ] || fail "$f is not installed"
  echo "ok: $f"
done
[ -x "$tmp/bin/robofy-wa-bridge" ] || fail "bin/robofy-wa-bridge is not executable"
"$tmp/bin/robofy-wa-bridge" --version | grep -q '^robofy-wa-bridge ' || fail "the installed binary does not run"
# An install must never write a live config.yaml over the operator's.
[ ! -e "$tmp/etc/robofy-wa-bridge/config.yaml" ] || fail "etc/robofy-wa-bridge/config.yaml must not be installed"

unit="$tmp/lib/systemd/system/robofy-wa-bridge.service"
grep -qxF "ExecStart=$full_bindir/robofy-wa-bridge --config /etc/robofy-wa-bridge/config.yaml" "$unit" ||
  fail "the installed unit does not start $full_bindir/robofy-wa-bridge: $(grep '^ExecStart=' "$unit")"
grep -q "^ExecStartPre=$full_bindir/robofy-wa-bridge .*--check-config" "$unit" ||
  fail "the installed unit's ExecStartPre= does not name $full_bindir/robofy-wa-bridge"
if [ "$full_bindir" != /usr/bin ] && grep -q /usr/bin/robofy-wa-bridge "$unit"; then
  fail "the installed unit still names /usr/bin/robofy-wa-bridge"
fi
echo "ok: the unit starts $full_bindir/robofy-wa-bridge"
