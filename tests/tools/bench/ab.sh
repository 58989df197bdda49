#!/usr/bin/env bash
# A before/after of the ingress path in one run: nginx (the baseline) and servers A, B, ...,
# alternating round by round under the same wrk client (wrk.sh), so a neighbour's burst hits one
# round, not the comparison. Prints one JSON line per round, then each server's medians.
#   tests/tools/bench/ab.sh SERVER_A SERVER_B [SERVER_C ...] [ROUNDS]   (after a `make bench`,
#   which builds build-bench's loadgen, fakes and floor server; BENCH_DURATION, BENCH_WRK_* as
#   for run.sh). A server is a bridge binary, or a command in one argument (words split at
#   spaces) that takes the bridge's --config, e.g. the floor server:
#   "build-bench/tests/tools/robofy-wa-floor-server --mode beast"
# AB_RATE=R drives every server (nginx too) with our load generator at R requests/s, open loop,
# instead of wrk as fast as each answers: at one rate the client's wake-ups cost every server alike
# (the equal-rate round of run.sh), so CPU per request compares the servers' own work.
# AB_PIPELINE=N measures the whole pipeline instead (bridge binaries only, no nginx round): instant
# fakes, N messages of N customers sent as fast as the bridge takes them, as make bench's pipeline
# round; rps is messages answered per second (the clock stops at the last reply at the fake
# Graph), and CPU is the bridge's per message.
set -euo pipefail
cd "$(dirname "$0")/../../.."
servers=()
rounds=3
for arg in "$@"; do
  if [[ $arg =~ ^[0-9]+$ ]]; then rounds=$arg; else servers+=("$arg"); fi
done
[ "${#servers[@]}" -ge 1 ] || { echo "usage: ab.sh SERVER_A [SERVER_B ...] [ROUNDS]" >&2; exit 2; }
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
pin_server=() pin_cpu=() connections=32
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 0) pin_cpu=(--cpu 1); fi
pids=()
stop_all() {
  stop_processes 10 "${pids[@]}"
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT

# server_load URL PID: one measured run against the server PID (JSON): wrk as fast as it answers,
# or with AB_RATE our load generator at that rate, 32 connections (lib.sh's load).
server_load() {
  local url=$1 pid=$2
  if [ -n "${AB_PIPELINE:-}" ]; then
    pipeline_load "$url" "$pid"
    return
  fi
  if [ -z "${AB_RATE:-}" ]; then
    wrk_load "$url" "$pid"
    return
  fi
  load "${url}webhook" "$pid" --duration "$duration" --connections "$connections" \
    --rate "$AB_RATE" --run-id "run$RANDOM$RANDOM"
}

# pipeline_load URL PID: one AB_PIPELINE round against the bridge PID; prints JSON.
pipeline_load() {
  local url=$1 pid=$2 n=$AB_PIPELINE before after start end replies_before result
  replies_before=$(http_get "$graph" /bench/count)
  before=$(cpu_ticks "$pid") start=$(date +%s.%N)
  result=$("$loadgen" --url "${url}webhook" "${pin_cpu[@]}" --requests "$n" --senders "$n" \
    --connections "$connections" --secret bench-app-secret --numbers 64 \
    --run-id "run$RANDOM$RANDOM") || true
  await_replies "$graph" $((replies_before + n)) || true
  end=$(date +%s.%N) after=$(cpu_ticks "$pid")
  awk -v n="$n" -v a="$start" -v b="$end" -v t=$((after - before)) -v hz="$ticks" \
    -v share="$(json_field "$result" client_cpu_share)" 'BEGIN {
      printf "{\"rps\":%.1f,\"server_cpu_us_per_request\":%.2f,\"client_cpu_share\":%s}\n",
        n / (b - a), t * 1e6 / hz / n, share }'
}

# run_bridge "BINARY [ARGS]": the fakes (Robofy holding every answer, or instant with
# AB_PIPELINE), the server, one measured run; prints JSON.
run_bridge() {
  local command delay=600000
  read -ra command <<<"$1"
  [ -z "${AB_PIPELINE:-}" ] || delay=0
  "$fakes" --robofy-port "$robofy" --graph-port "$graph" --robofy-delay-ms "$delay" \
    >"$work/fakes.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 500); do grep -q "fakes ready" "$work/fakes.log" && break; sleep 0.01; done
  write_config "$work/bench.yaml" "$port" "$admin" "$robofy" "$graph" 10000000 256
  "${pin_server[@]}" "${command[@]}" --config "$work/bench.yaml" >"$work/bridge.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_ready "$admin" >/dev/null || { echo "ab.sh: bridge not ready" >&2; exit 1; }
  server_load "http://127.0.0.1:$port/" "$pid"
  stop_all
}

run_nginx() {
  start_nginx
  server_load "http://127.0.0.1:$nginx_port/" "$nginx_pid"
  stop_all
}

[ -n "${AB_RATE:-}${AB_PIPELINE:-}" ] || wrk_prepare
labels=(A B C D E F G H)
for round in $(seq 1 "$rounds"); do
  if [ -z "${AB_PIPELINE:-}" ]; then
    echo "{\"round\":$round,\"server\":\"nginx\",\"result\":$(run_nginx)}" | tee -a "$work/rounds"
  fi
  for i in "${!servers[@]}"; do
    echo "{\"round\":$round,\"server\":\"${labels[$i]}\",\"result\":$(run_bridge "${servers[$i]}")}" |
      tee -a "$work/rounds"
  done
done
python3 - "$work/rounds" <<'PY'
import json, statistics, sys
rounds = [json.loads(line) for line in open(sys.argv[1])]
by = {}
for r in rounds:
    by.setdefault(r["server"], []).append(r["result"])
# No nginx in the pipeline rounds: the ratio is then to the first server's.
base = by["nginx"] if "nginx" in by else next(iter(by.values()))
base_cpu = statistics.median(x["server_cpu_us_per_request"] for x in base)
for name, results in by.items():
    cpu = statistics.median(x["server_cpu_us_per_request"] for x in results)
    rps = statistics.median(x["rps"] for x in results)
    client = max(x["client_cpu_share"] for x in results)
    print(json.dumps({"server": name, "median_cpu_us_per_request": round(cpu, 2),
                      "median_rps": round(rps),
                      ("cpu_over_nginx" if "nginx" in by else "cpu_over_A"): round(cpu / base_cpu, 3),
                      "max_client_cpu_share": client}))
PY
