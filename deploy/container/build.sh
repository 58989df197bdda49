#!/usr/bin/env bash
# Builds the container image without a registry and checks it without running a container:
#   1. a Debian 12 base image from debootstrap (cached: skipped when localhost/debian:bookworm exists)
#   2. podman build with chroot isolation
#   3. the image's root file system, mounted with `podman image mount` and copied, runs
#      `robofy-wa-bridge --version` and `--check-config` under chroot as the image's user
# Needs root, podman and debootstrap (apt-get install podman debootstrap) and the Debian mirror.
# Usage: deploy/container/build.sh [TAG]       (default robofy-wa-bridge:dev)
#   MIRROR=URL (default: the first Debian archive in this machine's apt sources)   REBUILD_BASE=1 to debootstrap again
#   JOBS=N compile jobs in the image build (default 1: shared build machines)
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-robofy-wa-bridge:dev}
base=localhost/debian:bookworm
# The mirror this machine's apt already uses (deb822 .sources or one-line sources.list).
apt_mirror() {
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}'
  } | grep -v -- '-security' | head -n 1 || true  # an absent sources file is not an error
}
mirror=${MIRROR:-$(apt_mirror)}
[ -n "$mirror" ] || { echo "build.sh: no Debian mirror in the apt sources; set MIRROR" >&2; exit 1; }

fail() { echo "build.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, podman image mount and chroot need it)"
for tool in podman debootstrap chroot; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install podman debootstrap)"
done

started=$(date +%s)
work=$(mktemp -d /var/tmp/robofy-wa-bridge-image.XXXXXX)
mounted=""
cleanup() {
  [ -n "$mounted" ] && podman image unmount "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. Base image. minbase is apt, dpkg and the "required" packages: what debian:bookworm holds.
if [ -n "${REBUILD_BASE:-}" ] || ! podman image exists "$base"; then
  echo "== debootstrap --variant=minbase bookworm ($mirror)"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
  # The same slimming the official image does: no apt lists, no caches.
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin \
    "$work/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$work/rootfs" -c . | podman import --quiet - "$base" >/dev/null
  rm -rf "$work/rootfs"
else
  echo "== base image $base exists (REBUILD_BASE=1 to make it again)"
fi
base_done=$(date +%s)

# 2. The image. chroot isolation: these machines refuse to run containers under crun.
echo "== podman build $tag"
podman build --isolation=chroot --build-arg BASE="$base" --build-arg JOBS="${JOBS:-1}" \
  --ignorefile deploy/container/Dockerfile.dockerignore \
  -t "$tag" -f deploy/container/Dockerfile . >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log" >&2; fail "podman build failed (log above)"; }
built=$(date +%s)

# 3. Check the image's file system: it runs, as its user, and accepts its default configuration.
mnt=$(podman image mount "$tag")
mounted=1
root="$work/root"
cp -a "$mnt/." "$root"
podman image unmount "$tag" >/dev/null
mounted=""

user=$(podman image inspect --format '{{.Config.User}}' "$tag")
[ "$user" = "10001:10001" ] || fail "image user is '$user', expected 10001:10001"
stopsignal=$(podman image inspect --format '{{.Config.StopSignal}}' "$tag")
[ "$stopsignal" = "SIGTERM" ] || fail "image stop signal is '$stopsignal', expected SIGTERM"

echo "== chroot: robofy-wa-bridge --version"
version=$(chroot --userspec=10001:10001 "$root" /usr/bin/robofy-wa-bridge --version) ||
  fail "the binary does not run in the image (missing shared library?)"
echo "$version"

echo "== chroot: robofy-wa-bridge --check-config with the image's default config"
mkdir -p "$root/run/secrets"
for s in meta_app_secret meta_verify_token whatsapp_access_token robofy_api_key; do
  printf 'test-%s\n' "$s" >"$root/run/secrets/$s"
done
chmod 0644 "$root/run/secrets/"*
chroot --userspec=10001:10001 "$root" /usr/bin/env -i ROBOFY_PID=pid ROBOFY_CHATBOT_ID=bot \
  /usr/bin/robofy-wa-bridge --config /etc/robofy-wa-bridge/config.yaml --check-config ||
  fail "--check-config refused the image's default configuration"

echo "== chroot: --check-config must refuse a broken configuration (exit 2)"
printf 'server:\n  listen: nowhere\n' >"$root/tmp/broken.yaml"
rc=0
chroot --userspec=10001:10001 "$root" /usr/bin/robofy-wa-bridge --config /tmp/broken.yaml \
  --check-config >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--check-config on a broken file exited $rc, expected 2"

echo "== chroot: the bridge starts as the image's user, answers /readyz and drains on SIGTERM"
admin_port=$((20000 + RANDOM % 20000))
cat >"$root/tmp/smoke.yaml" <<YAML
server: {listen: "127.0.0.1:0"}
admin: {listen: "127.0.0.1:$admin_port"}
meta: {app_secret: s, verify_token: t, access_token: a}
robofy: {api_key: k}
routes: [{phone_number_id: "*", pid: p, chatbot_id: c}]
spool: {dir: /var/lib/robofy-wa-bridge}
logging: {format: text}
YAML
chroot --userspec=10001:10001 "$root" /usr/bin/robofy-wa-bridge --config /tmp/smoke.yaml \
  >"$work/smoke.log" 2>&1 &
bridge_pid=$!
ready=""
readyz() {  # the status line of GET /readyz, with bash's /dev/tcp (no curl in the check)
  ( exec 3<>"/dev/tcp/127.0.0.1/$admin_port" &&
    printf 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3 &&
    head -1 <&3 ) 2>/dev/null
}
for _ in $(seq 1 100); do
  if readyz | grep -q ' 200 '; then ready=1; break; fi
  sleep 0.1
done
kill -TERM "$bridge_pid" 2>/dev/null || true
rc=0
wait "$bridge_pid" || rc=$?
[ -n "$ready" ] || { cat "$work/smoke.log" >&2; fail "/readyz never answered 200"; }
[ "$rc" -eq 0 ] || { cat "$work/smoke.log" >&2; fail "the bridge exited $rc after SIGTERM"; }
[ -f "$root/var/lib/robofy-wa-bridge/journal" ] || fail "no journal in the spool volume"
echo "ok: ready, journal written in /var/lib/robofy-wa-bridge, exit 0 after SIGTERM"

# The CA store the upstream TLS connections verify against.
[ -s "$root/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA bundle in the image"

size=$(podman image inspect --format '{{.Size}}' "$tag")
base_size=$(podman image inspect --format '{{.Size}}' "$base")
finished=$(date +%s)
echo "== ok: $tag, $((size / 1000000)) MB (base $((base_size / 1000000)) MB);" \
  "base $((base_done - started)) s, build $((built - base_done)) s, checks $((finished - built)) s"
echo "   (build-stage layers stay cached for the next build; podman image prune removes them)"
