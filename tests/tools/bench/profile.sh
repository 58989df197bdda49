#!/usr/bin/env bash
# The profile behind BENCHMARKS.md: where the bridge's instructions (or CPU time) go per message.
#   tests/tools/bench/profile.sh ingress|pipeline [K] [callgrind|perf]
# ingress: Robofy holds every answer, so only the request path runs; pipeline: instant fakes, every
# message answered. callgrind (default) counts instructions from /readyz on (start-up excluded)
# over K messages (2000) and prints the top functions, inclusive, per message; perf samples CPU
# time (cpu-clock, works on VMs without hardware counters) for 4 s of load and prints the top
# symbols, kernel included (PERF_CALLGRAPH: perf's call-graph option, -g by default; use
# "--call-graph dwarf,16384" to see callers through code built without frame pointers;
# PROFILE_RATE=R: the load at R requests/s, open loop, instead of as fast as it answers). Uses the
# Release binaries of `make bench` (build-bench).
set -euo pipefail
cd "$(dirname "$0")/../../.."
source tests/tools/bench/lib.sh
mode=${1:?usage: profile.sh ingress|pipeline [K] [callgrind|perf]}
k=${2:-2000}
tool=${3:-callgrind}
build=${BENCH_DIR:-build-bench}
# BENCH_BRIDGE: another build, for a before; or a command in one argument (words split at spaces)
# that takes the bridge's --config, e.g. "build-bench/tests/tools/robofy-wa-floor-server --mode verify"
read -ra server <<<"${BENCH_BRIDGE:-$build/bridge/robofy-wa-bridge}"
bridge=${server[0]}
loadgen=$build/tests/tools/robofy-wa-loadgen
fakes=$build/tests/tools/robofy-wa-bench-fakes
for f in "$bridge" "$loadgen" "$fakes"; do
  [ -x "$f" ] || { echo "profile.sh: $f is missing; run make bench first" >&2; exit 1; }
done
case $mode in
  ingress) delay=600000 ;;
  pipeline) delay=0 ;;
  *) echo "profile.sh: mode is ingress or pipeline" >&2; exit 2 ;;
esac

work=$(mktemp -d /tmp/robofy-profile.XXXXXX)
port=$(free_port_base) && admin=$((port + 1)) robofy=$((port + 2)) graph=$((port + 3))
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
"$fakes" --robofy-port "$robofy" --graph-port "$graph" --robofy-delay-ms "$delay" >"$work/fakes.log" 2>&1 &
pids+=($!)
write_config "$work/bench.yaml" "$port" "$admin" "$robofy" "$graph" 10000000 256
wait_for_replies() {
  [ "$mode" = pipeline ] || return 0
  for _ in $(seq 1 3000); do [ "$(http_get "$graph" /bench/count)" -ge "$k" ] && return 0; sleep 0.1; done
}

if [ "$tool" = callgrind ]; then
  command -v valgrind >/dev/null || { echo "profile.sh: valgrind is missing" >&2; exit 1; }
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
    "${server[@]}" --config "$work/bench.yaml" >"$work/bridge.log" 2>&1 &
  bridge_pid=$!
  pids+=("$bridge_pid")
  wait_ready "$admin" >/dev/null || { echo "profile.sh: bridge not ready" >&2; exit 1; }
  callgrind_control -i on "$bridge_pid" >/dev/null
  "$loadgen" --url "http://127.0.0.1:$port/webhook" --requests "$k" --connections 4 \
    --secret bench-app-secret --numbers 64 >/dev/null
  wait_for_replies
  callgrind_control -i off "$bridge_pid" >/dev/null
  kill -TERM "$bridge_pid"
  wait "$bridge_pid" 2>/dev/null || true
  callgrind_annotate --inclusive=yes "$work/callgrind.out" 2>/dev/null >"$work/inclusive.txt" || true
  awk -v k="$k" '
    /PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f instructions per message (%d messages); top functions, inclusive, per message:\n", $1 / k, k; next }
    match($0, /^ *[0-9,]+ +\( *[0-9.]+%\) +/) && shown < 40 {
      n = $1; gsub(",", "", n); name = substr($0, RLENGTH + 1); sub(/ \[.*$/, "", name)
      printf "%9.0f  %s\n", n / k, substr(name, 1, 150); shown++ }' "$work/inclusive.txt"
else
  command -v perf >/dev/null || { echo "profile.sh: perf is missing (linux-perf)" >&2; exit 1; }
  "${server[@]}" --config "$work/bench.yaml" >"$work/bridge.log" 2>&1 &
  bridge_pid=$!
  pids+=("$bridge_pid")
  wait_ready "$admin" >/dev/null || { echo "profile.sh: bridge not ready" >&2; exit 1; }
  perf record -e cpu-clock -F 4999 ${PERF_CALLGRAPH:--g} -p "$bridge_pid" -o "$work/perf.data" 2>"$work/perf.log" &
  perf_pid=$!
  "$loadgen" --url "http://127.0.0.1:$port/webhook" --duration 4 --connections 32 \
    --secret bench-app-secret --numbers 64 ${PROFILE_RATE:+--rate "$PROFILE_RATE"}
  kill -INT "$perf_pid"
  wait "$perf_pid" 2>/dev/null || true
  perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    grep '%' | head -40
fi
echo "profile.sh: raw data in $work"
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
