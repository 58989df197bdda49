#!/usr/bin/env bash
# A before/after of the ingress path in one run: nginx (the baseline), bridge A and bridge B,
# alternating round by round under the same wrk client (wrk.sh), so a neighbour's burst hits one
# round, not the comparison. Prints one JSON line per round and the best of each server.
#   tests/tools/bench/ab.sh BRIDGE_A BRIDGE_B [ROUNDS]   (after a `make bench`, which builds
#   build-bench's loadgen and fakes; BENCH_DURATION, BENCH_WRK_* as for run.sh)
set -euo pipefail
cd "$(dirname "$0")/../../.."
bridge_a=$(realpath "$1") bridge_b=$(realpath "$2") rounds=${3:-3}
build=${BENCH_DIR:-build-bench}
duration=${BENCH_DURATION:-5}
loadgen=$build/tests/tools/robofy-wa-loadgen
fakes=$build/tests/tools/robofy-wa-bench-fakes
source tests/tools/bench/lib.sh
source tests/tools/bench/wrk.sh
[ -n "$wrk_bin" ] || { echo "ab.sh: wrk is missing" >&2; exit 1; }
work=$(mktemp -d /tmp/robofy-ab.XXXXXX)
port=${BENCH_PORT:-$(free_port_base)}
admin=$((port + 1)) robofy=$((port + 2)) graph=$((port + 3)) nginx_port=$((port + 4))
ticks=$(getconf CLK_TCK)
pin_server=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 0); fi
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT

# run_bridge BINARY: fakes with Robofy holding every answer, the bridge, one wrk run; prints JSON.
run_bridge() {
  "$fakes" --robofy-port "$robofy" --graph-port "$graph" --robofy-delay-ms 600000 \
    >"$work/fakes.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 500); do grep -q "fakes ready" "$work/fakes.log" && break; sleep 0.01; done
  write_config "$work/bench.yaml" "$port" "$admin" "$robofy" "$graph" 10000000 256
  "${pin_server[@]}" "$1" --config "$work/bench.yaml" >"$work/bridge.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_ready "$admin" >/dev/null || { echo "ab.sh: bridge not ready" >&2; exit 1; }
  wrk_load "http://127.0.0.1:$port/" "$pid"
  stop_all
}

run_nginx() {
  start_nginx
  wrk_load "http://127.0.0.1:$nginx_port/" "$nginx_pid"
  stop_all
}

wrk_prepare
for round in $(seq 1 "$rounds"); do
  echo "{\"round\":$round,\"server\":\"nginx\",\"result\":$(run_nginx)}"
  echo "{\"round\":$round,\"server\":\"A\",\"result\":$(run_bridge "$bridge_a")}"
  echo "{\"round\":$round,\"server\":\"B\",\"result\":$(run_bridge "$bridge_b")}"
done
