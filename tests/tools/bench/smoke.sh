#!/usr/bin/env bash
# ctest bench_smoke: the load generator for ~2 s against the real bridge with the instant fakes
# (tiny numbers, no baseline), so the `make bench` tooling cannot rot: plain HTTP, the per-message
# latency stamps, then a few hundred requests over TLS (a certificate the fakes write, so no
# openssl command is needed), then the floor server (ab.sh) in each mode, then one tiny round of the
# Redis bench (redis.sh: two replicas on a private redis-server; skipped without redis-server).
# Prints "bench smoke: ok".
set -euo pipefail
bridge=$1 fakes=$2 loadgen=$3 floor=$4
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
port=${BENCH_SMOKE_PORT:-$(free_port_base)}
admin=$((port + 1)) robofy=$((port + 2)) graph=$((port + 3))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$fakes" --robofy-port "$robofy" --graph-port "$graph" >"$work/fakes.log" 2>&1 &
fakes_pid=$!
pids+=("$fakes_pid")
for _ in $(seq 1 500); do grep -q "fakes ready" "$work/fakes.log" && break; sleep 0.01; done
grep -q "fakes ready" "$work/fakes.log" || { echo "bench smoke: fakes failed"; cat "$work/fakes.log"; exit 1; }
write_config "$work/bench.yaml" "$port" "$admin" "$robofy" "$graph" 100000 64
start_bridge() {
  "$bridge" --config "$work/bench.yaml" >"$work/bridge.log" 2>&1 &
  bridge_pid=$!
  pids+=("$bridge_pid")
  if ! wait_ready "$admin" >/dev/null; then
    echo "bench smoke: the bridge never became ready"; cat "$work/bridge.log"; exit 1
  fi
}
# wait_replies N: the fake Graph counts N replies (lib.sh's await_replies), and not one more.
wait_replies() { await_replies "$graph" "$1" && [ "$replies" = "$1" ]; }
start_bridge
result=$("$loadgen" --url "http://127.0.0.1:$port/webhook" --connections 4 --duration 2 --requests 4000 \
  --secret bench-app-secret --numbers 64) || { echo "bench smoke: loadgen failed: $result"; exit 1; }
echo "loadgen: $result"
requests=$(json_field "$result" requests) ok=$(json_field "$result" ok)
rps=$(json_field "$result" rps)
[ "${requests:-0}" -gt 0 ] || { echo "bench smoke: no request answered"; exit 1; }
[ "$ok" = "$requests" ] || { echo "bench smoke: $ok of $requests got 200"; exit 1; }
awk -v r="$rps" 'BEGIN { exit !(r >= 50) }' || { echo "bench smoke: only $rps req/s"; exit 1; }
# Every accepted message must come out at the fake Graph API as a reply (within 60 s), each with
# the send-time stamp the loadgen wrote into it.
wait_replies "$requests" || { echo "bench smoke: $replies of $requests answered"; exit 1; }
latency=$(http_get "$graph" /bench/latency)
echo "latency: $latency"
if [ "$(json_field "$latency" count)" != "$requests" ] || [ "$(json_field "$latency" unstamped)" != 0 ]; then
  echo "bench smoke: the stamps did not all come through"; exit 1
fi

# The open-loop pacing: 200 requests due at 400/s take at least the half second they are spread
# over (a generator that ignored --rate would finish them in a few milliseconds).
paced=$("$loadgen" --url "http://127.0.0.1:$port/webhook" --connections 4 --requests 200 --rate 400 \
  --secret bench-app-secret --numbers 64 --run-id paced) || { echo "bench smoke: paced loadgen failed: $paced"; exit 1; }
echo "loadgen paced: $paced"
[ "$(json_field "$paced" ok)" = 200 ] || { echo "bench smoke: not every paced request got 200"; exit 1; }
awk -v s="$(json_field "$paced" seconds)" 'BEGIN { exit !(s >= 0.49) }' ||
  { echo "bench smoke: --rate 400 sent 200 requests in under 0.5 s"; exit 1; }
requests=$((requests + 200))
wait_replies "$requests" || { echo "bench smoke: $replies of $requests answered"; exit 1; }

# --warmup and --latency-log (the half-load round's): at 400/s the first 0.25 s are the 100
# requests 0-99, answered and not counted; the log has one "due send-delay latency" line per
# counted answer.
warm=$("$loadgen" --url "http://127.0.0.1:$port/webhook" --connections 4 --duration 0.5 --rate 400 \
  --warmup 0.25 --latency-log "$work/latency.log" --secret bench-app-secret --numbers 64 \
  --run-id warmed) || { echo "bench smoke: loadgen --warmup failed: $warm"; exit 1; }
echo "loadgen warmed: $warm"
if "$loadgen" --url "http://127.0.0.1:$port/webhook" --warmup -1 --requests 1 >/dev/null 2>&1; then
  echo "bench smoke: loadgen took a negative --warmup"; exit 1
fi
counted=$(json_field "$warm" requests)
[ "$(json_field "$warm" warmup_answers)" = 100 ] ||
  { echo "bench smoke: --warmup 0.25 at 400/s did not leave out exactly 100 answers"; exit 1; }
[ "${counted:-0}" -ge 150 ] && [ "$(json_field "$warm" ok)" = "$counted" ] ||
  { echo "bench smoke: --warmup counted $counted answers, not ~200 of 200"; exit 1; }
[ "$(awk 'NF == 3 && $1 > 0 && $3 >= 0' "$work/latency.log" | wc -l)" = "$counted" ] ||
  { echo "bench smoke: the latency log does not hold one line per counted answer"; exit 1; }
requests=$((requests + 100 + counted))
wait_replies "$requests" || { echo "bench smoke: $replies of $requests answered"; exit 1; }

# The TLS path of the load generator, against the bridge terminating TLS.
kill -TERM "$bridge_pid"
wait "$bridge_pid" 2>/dev/null || true
"$fakes" --write-cert "$work" >/dev/null || { echo "bench smoke: no certificate"; exit 1; }
write_config "$work/bench.yaml" "$port" "$admin" "$robofy" "$graph" 100000 64 "" \
  "$work/tls.crt" "$work/tls.key"
start_bridge
tls=$("$loadgen" --url "https://127.0.0.1:$port/webhook" --ca-file "$work/tls.crt" --connections 2 \
  --requests 300 --secret bench-app-secret --numbers 64) || { echo "bench smoke: TLS loadgen failed: $tls"; exit 1; }
echo "loadgen TLS: $tls"
[ "$(json_field "$tls" ok)" = 300 ] || { echo "bench smoke: not every TLS request got 200"; exit 1; }
wait_replies $((requests + 300)) || { echo "bench smoke: $replies of $((requests + 300)) answered"; exit 1; }

# The ingress floor's servers (ab.sh): each answers every signed delivery 200 under the same config.
kill -TERM "$bridge_pid" 2>/dev/null || true
wait "$bridge_pid" 2>/dev/null || true
write_config "$work/bench.yaml" "$port" "$admin" "$robofy" "$graph" 100000 64
for mode in beast listener verify keep; do
  "$floor" --config "$work/bench.yaml" --mode "$mode" >"$work/floor.log" 2>&1 &
  floor_pid=$!
  pids+=("$floor_pid")
  wait_ready "$admin" >/dev/null || { echo "bench smoke: floor server ($mode) not ready"; exit 1; }
  floor_result=$("$loadgen" --url "http://127.0.0.1:$port/webhook" --connections 2 --requests 200 \
    --secret bench-app-secret --numbers 8) || { echo "bench smoke: floor ($mode) loadgen failed"; exit 1; }
  [ "$(json_field "$floor_result" ok)" = 200 ] ||
    { echo "bench smoke: floor server ($mode) answered $floor_result"; exit 1; }
  echo "floor server ($mode): 200 of 200"
  kill -TERM "$floor_pid"
  wait "$floor_pid" 2>/dev/null || true
done

# The Redis rounds' own functions (redis.sh), tiny: two replicas on a private redis-server, 40
# messages spread over both by two loadgens, every one answered, the round's JSON complete.
redis_note="no redis-server: Redis round skipped"
if command -v redis-server >/dev/null && command -v python3 >/dev/null; then
  ticks=$(getconf CLK_TCK) connections=4 pin_server=() pin_cpu=()
  graph_count() { http_get "$graph" /bench/count; }
  source "$(dirname "$0")/redis.sh"
  rb_start_redis
  rb_start_bridges 2 redis 1000 8
  round=$(rb_pipeline 40 redis)
  echo "redis round: $round"
  [ "$(json_field "$round" replies)" = 40 ] || { echo "bench smoke: Redis round not answered"; exit 1; }
  trips=$(json_field "$round" round_trips_per_message)
  awk -v t="${trips:-0}" 'BEGIN { exit !(t > 0) }' || { echo "bench smoke: no Redis round trips"; exit 1; }
  redis_note="Redis round: 40 messages over 2 replicas, $trips round trips each"
fi
echo "bench smoke: ok ($requests requests, $rps req/s, 300 over TLS, $replies replies; $redis_note)"
