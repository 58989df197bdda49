# Sourced by run.sh (issue 15): the ingress rounds driven by wrk, a client that is not the limit.
# Our load generator signs and builds each request as it goes, and in nginx's rounds it ran its
# core at 99 %, so nginx was measured at the generator's ceiling. wrk (one thread, keep-alive
# connections, pinned to CPU 1) replays requests that the load generator signed beforehand
# (--write-requests), one file per run; wrk_requests.lua loads them before wrk's clock starts and
# reports the share of its core wrk used, so a round where the client was the limit shows.
# Needs: $loadgen, $work, $ticks, $duration, json_field and cpu_ticks (lib.sh).
wrk_bin=$(command -v wrk || true)
wrk_connections=${BENCH_WRK_CONNECTIONS:-50}
# Distinct deliveries per measured run: more than the bridge answers in one round, so every
# request is a new wamid (a repeat would only be answered as a duplicate: cheaper). The run
# reports the share of unique requests, which is 1.0 unless a round outran the file.
wrk_requests=${BENCH_WRK_REQUESTS:-600000}
wrk_script=tests/tools/bench/wrk_requests.lua
wrk_pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then wrk_pin=(taskset -c 1); fi

# wrk_prepare: signs the deliveries once (the measured file, and a small one for warm-ups).
wrk_prepare() {
  local common=(--secret bench-app-secret --numbers 64)
  "$loadgen" --write-requests "$work/requests.measured" --requests "$wrk_requests" \
    --run-id "m$RANDOM$RANDOM" "${common[@]}"
  "$loadgen" --write-requests "$work/requests.warm" --requests 20000 --run-id "w$RANDOM$RANDOM" \
    "${common[@]}"
}

# wrk_load URL PID: a 1 s warm-up, then the measured run of $duration s; prints wrk's JSON with
# the server's CPU µs per request and the share of unique requests added. The server is idle
# before wrk connects and after it leaves, so its CPU is read around the whole wrk process.
# wrk does not verify a server's certificate (it sets SSL_VERIFY_NONE), so over TLS our load
# generator first makes a few requests that do verify it ($tls_cert) and reports the protocol and
# cipher negotiated.
wrk_load() {
  local url=$1 pid=$2 before after result requests tls='"none"'
  if [[ "$url" == https:* ]]; then
    tls=$("$loadgen" --url "${url}webhook" --requests 20 --connections 1 --ca-file "$tls_cert" \
      --secret bench-app-secret --run-id "tls$RANDOM$RANDOM" |
      sed -n 's/.*"tls":\("[^"]*"\).*/\1/p') || true
  fi
  "${wrk_pin[@]}" "$wrk_bin" -t1 -c"$wrk_connections" -d1s -s "$wrk_script" "$url" \
    -- "$work/requests.warm" "$ticks" >/dev/null 2>&1 || true
  before=$(cpu_ticks "$pid")
  result=$("${wrk_pin[@]}" "$wrk_bin" -t1 -c"$wrk_connections" -d"${duration}s" \
    -s "$wrk_script" "$url" -- "$work/requests.measured" "$ticks" 2>"$work/wrk.err" |
    grep '^{"client"') || { echo "make bench: wrk failed" >&2; cat "$work/wrk.err" >&2; }
  after=$(cpu_ticks "$pid")
  requests=$(json_field "$result" requests)
  awk -v r="${requests:-0}" -v t=$((after - before)) -v hz="$ticks" -v j="$result" \
    -v c="$wrk_connections" -v file="$wrk_requests" -v tls="${tls:-\"failed\"}" \
    'BEGIN { sub(/}$/, "", j)
      printf "%s,\"connections\":%d,\"tls\":%s,\"unique_share\":%.2f,\"server_cpu_us_per_request\":%.2f}\n",
        j, c, tls, (r > file ? file / r : 1), (r > 0 ? t * 1e6 / hz / r : 0) }'
}
