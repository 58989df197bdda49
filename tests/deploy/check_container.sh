#!/usr/bin/env bash
# Cheap checks of deploy/container that need no image build (deploy/container/build.sh builds it):
#   1. the image's default config.yaml passes --check-config with secrets in $SECRETS_DIR;
#   2. the Dockerfile's runtime packages provide every library `ldd` lists for the binary;
#   3. the Dockerfile runs as a numeric non-root user, stops with SIGTERM, has no HEALTHCHECK,
#      exposes the config's ports and declares the spool directory a volume.
# Usage: check_container.sh SOURCE_DIR BINARY
set -euo pipefail
src=$1
binary=$2
dockerfile="$src/deploy/container/Dockerfile"
config="$src/deploy/container/config.yaml"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v dpkg-query >/dev/null || fail "dpkg-query is missing (this check runs on Debian)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== --check-config deploy/container/config.yaml"
for s in meta_app_secret meta_verify_token whatsapp_access_token robofy_api_key; do
  printf 'test-%s\n' "$s" >"$tmp/$s"
done
env -i PATH=/usr/bin:/bin SECRETS_DIR="$tmp" ROBOFY_PID=pid ROBOFY_CHATBOT_ID=bot \
  "$binary" --config "$config" --check-config || fail "the image's default config is refused"

echo "== runtime packages cover ldd"
# The packages installed in the runtime stage: the apt-get install after the last FROM.
runtime=$(awk '/^FROM /{stage++} {print stage "\t" $0}' "$dockerfile" |
  awk -F'\t' -v last="$(grep -c '^FROM ' "$dockerfile")" '$1 == last {print $2}' |
  sed -n '/apt-get install/,/&&\s*rm/p' | tr -d '\\' | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -vE '^(apt-get|install|rm|no-install-recommends)$' | sort -u)
[ -n "$runtime" ] || fail "cannot find the runtime stage's apt-get install in $dockerfile"
base="libc6 libstdc++6 libgcc-s1"  # in every Debian base image (Priority: required)
missing=()
while read -r lib path; do
  case $lib in linux-vdso* | ld-linux* | libasan* | libubsan* | libtsan* | liblsan*) continue ;; esac
  real=$(readlink -f "$path")
  pkg=$(dpkg-query -S "$real" 2>/dev/null || dpkg-query -S "${real/#\/usr\/lib/\/lib}" 2>/dev/null ||
    dpkg-query -S "${path}" 2>/dev/null) || fail "no Debian package owns $path ($lib)"
  pkg=${pkg%%:*}
  if ! grep -qx "$pkg" <<<"$runtime" && [[ " $base " != *" $pkg "* ]]; then
    missing+=("$pkg ($lib)")
  fi
  echo "ok: $lib <- $pkg"
done < <(ldd "$binary" | awk '$2 == "=>" {print $1, $3} $2 != "=>" && $1 ~ /^\// {print $1, $1}')
[ ${#missing[@]} -eq 0 ] || fail "the runtime stage does not install: ${missing[*]}"

echo "== Dockerfile"
user=$(sed -n 's/^USER \(.*\)/\1/p' "$dockerfile" | tail -1)
[[ $user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "USER '$user' must be a numeric non-root uid"
grep -qx 'STOPSIGNAL SIGTERM' "$dockerfile" || fail "no STOPSIGNAL SIGTERM"
! grep -q '^HEALTHCHECK' "$dockerfile" || fail "HEALTHCHECK present (orchestrators probe /healthz)"
for key in server admin; do
  port=$(sed -n "/^$key:/,/^[a-z]/s/^ *listen: *\"[^\"]*:\([0-9]*\)\".*/\1/p" "$config")
  grep -qE "^EXPOSE( [0-9]+)* $port( |\$)" "$dockerfile" || fail "EXPOSE lacks the $key port $port"
done
spool=$(sed -n 's/^ *dir: *\(.*\)$/\1/p' "$config")
grep -q "^VOLUME .*\"$spool\"" "$dockerfile" || fail "VOLUME lacks spool.dir $spool"
echo "ok: user $user, SIGTERM, no HEALTHCHECK, ports exposed, $spool is a volume"
