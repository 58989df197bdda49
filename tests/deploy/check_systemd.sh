#!/usr/bin/env bash
# Checks deploy/systemd offline (no running systemd needed):
#   1. systemd-analyze verify: the unit, unmodified, inside a scratch root that holds the built
#      binary and the system's units; any diagnostic fails. A copy with a misspelt key must fail.
#   2. systemd-analyze security --offline: exposure at most 2.0 (prints the score).
#   3. the unit and deploy/systemd/config.yaml agree: stop timeout above shutdown.grace, the state
#      directory is spool.dir, every ${CREDENTIALS_DIRECTORY}/NAME is a LoadCredential=.
#   4. robofy-wa-bridge --check-config accepts deploy/systemd/config.yaml with those credentials.
# Usage: check_systemd.sh SOURCE_DIR BINARY
set -euo pipefail
src=$1
binary=$2
unit="$src/deploy/systemd/robofy-wa-bridge.service"
config="$src/deploy/systemd/config.yaml"

fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null ||
  fail "systemd-analyze is missing: install the Debian package systemd"
[ -f /lib/systemd/system/sysinit.target ] ||
  fail "/lib/systemd/system has no sysinit.target: install the Debian package systemd"
[ -x "$binary" ] || fail "$binary is not built"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A root that looks like an installed system: the unit's paths (/usr/bin/robofy-wa-bridge,
# /bin/kill) exist, and the targets it orders against come from the host.
make_root() {
  local root=$1
  mkdir -p "$root/usr/bin" "$root/bin" "$root/etc/systemd/system" "$root/lib/systemd"
  cp "$binary" "$root/usr/bin/robofy-wa-bridge"
  # ExecReload's /bin/kill (procps) only has to exist for verify.
  printf '#!/bin/sh\n' >"$root/bin/kill"
  chmod 0755 "$root/bin/kill"
  cp -a /lib/systemd/system "$root/lib/systemd/"
}

verify() {  # prints the diagnostics; fails when there are any
  local root=$1 out rc=0
  out=$(systemd-analyze verify --root="$root" robofy-wa-bridge.service 2>&1) || rc=$?
  [ "$rc" -eq 0 ] && [ -z "$out" ] && return 0
  printf '%s\n' "$out"
  return 1
}

echo "== systemd-analyze verify"
make_root "$tmp/root"
cp "$unit" "$tmp/root/etc/systemd/system/"
verify "$tmp/root" || fail "systemd-analyze verify reports problems in $unit"
echo "ok: no diagnostics"

# The harness must see a broken unit: a misspelt key is only a warning with exit status 0.
sed 's/^ProtectSystem=/ProtectSystm=/' "$unit" >"$tmp/root/etc/systemd/system/robofy-wa-bridge.service"
if verify "$tmp/root" >/dev/null; then
  fail "a unit with a misspelt key passed verify: the check cannot see problems"
fi
echo "ok: a misspelt key is caught"
cp "$unit" "$tmp/root/etc/systemd/system/"

echo "== systemd-analyze security --offline=yes"
security=$(systemd-analyze security --offline=yes --root="$tmp/root" --threshold=20 \
  robofy-wa-bridge.service 2>&1) || {
  printf '%s\n' "$security" | grep -E '✗|Overall' >&2
  fail "exposure above 2.0 (the lines marked ✗ above add to it)"
}
printf '%s\n' "$security" | grep 'Overall exposure level'

echo "== unit and config.yaml agree"
value() { sed -n "s/^$1=//p" "$unit" | tail -1; }
seconds() {  # 40s, 2min, 90 -> seconds
  case $1 in
    *min) echo $((${1%min} * 60)) ;; *ms) echo 0 ;; *s) echo "${1%s}" ;; *[0-9]) echo "$1" ;;
    *) fail "cannot read duration '$1'" ;;
  esac
}
for want in Type=notify NotifyAccess=main DynamicUser=yes NoNewPrivileges=yes \
  ProtectSystem=strict CapabilityBoundingSet= Restart=on-failure 'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qxF "$want" "$unit" || fail "$unit lacks '$want'"
done
grep -q '^ExecStartPre=.*--check-config' "$unit" || fail "no ExecStartPre= running --check-config"
[ -n "$(value WatchdogSec)" ] || fail "no WatchdogSec="

grace=$(sed -n 's/^ *grace: *\([0-9a-z]*\).*/\1/p' "$config")
grace_s=$(seconds "${grace:-25s}")
stop_s=$(seconds "$(value TimeoutStopSec)")
[ "$stop_s" -gt "$grace_s" ] || fail "TimeoutStopSec ${stop_s}s must exceed shutdown.grace ${grace_s}s"
echo "ok: TimeoutStopSec ${stop_s}s > shutdown.grace ${grace_s}s"

spool=$(sed -n 's/^ *dir: *\(.*\)$/\1/p' "$config")
[ "$spool" = "/var/lib/$(value StateDirectory)" ] ||
  fail "spool.dir '$spool' is not the unit's StateDirectory /var/lib/$(value StateDirectory)"
echo "ok: spool.dir $spool is the StateDirectory"

mkdir -p "$tmp/credentials"
for name in $(grep -v '^ *#' "$config" | grep -o '\${CREDENTIALS_DIRECTORY}/[a-z_]*' | sed 's|.*/||' | sort -u); do
  grep -q "^LoadCredential=$name:" "$unit" || fail "config.yaml reads credential $name; the unit does not load it"
  printf 'test-%s\n' "$name" >"$tmp/credentials/$name"
done
[ "$(find "$tmp/credentials" -type f | wc -l)" -ge 4 ] || fail "config.yaml should read all four secrets from credentials"
echo "ok: every credential config.yaml reads is a LoadCredential="

echo "== robofy-wa-bridge --check-config deploy/systemd/config.yaml"
env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$tmp/credentials" \
  "$binary" --config "$config" --check-config || fail "the bridge rejects deploy/systemd/config.yaml"
