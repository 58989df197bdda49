# Shared by tests/tools/bench/run.sh and tests/tools/bench/smoke.sh (sourced, not run).
# Only bash built-ins and coreutils: the smoke test must work on a fresh machine.

# http_get PORT PATH: prints the body of GET http://127.0.0.1:PORT/PATH (HTTP/1.0, no curl needed).
http_get() {
  local port=$1 path=$2 response
  exec 9<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&9
  response=$(timeout 5 cat <&9) || true
  exec 9<&- 9>&-
  printf '%s' "${response#*$'\r\n\r\n'}"
}

# await_replies GRAPH_PORT N: waits (<= 60 s: ctest runs the smoke beside other suites) until the
# fake Graph has counted at least N replies in all; sets replies to its count. False on time-out.
await_replies() {
  for _ in $(seq 1 6000); do
    replies=$(http_get "$1" /bench/count)
    [ "${replies:-0}" -ge "$2" ] && return 0
    sleep 0.01
  done
  return 1
}

# http_status PORT PATH: prints the status code of GET http://127.0.0.1:PORT/PATH, or 000.
http_status() {
  local port=$1 path=$2 line
  { exec 9<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || { echo 000; return; }
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&9
  read -r -t 5 line <&9 || line="HTTP/1.0 000"
  exec 9<&- 9>&-
  line=${line#* }
  echo "${line%% *}"
}

# wait_ready PORT: waits (up to 20 s) for /readyz on the admin port; prints the seconds it took.
wait_ready() {
  local port=$1 start end
  start=$(date +%s.%N)
  for _ in $(seq 1 2000); do
    if [ "$(http_status "$port" /readyz)" = 200 ]; then
      end=$(date +%s.%N)
      awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
      return 0
    fi
    sleep 0.01
  done
  return 1
}

# write_config FILE PORT ADMIN_PORT ROBOFY_PORT GRAPH_PORT CAPACITY WORKERS [SPOOL_DIR [CERT KEY]]
# The bench configuration: one "*" route, no read receipts (every Graph request is a reply),
# pace 1000/s per number (the loadgen spreads over many numbers), warn logging. With CERT and KEY
# the webhook listener terminates TLS (server.tls); the admin listener stays plain HTTP.
write_config() {
  local file=$1 port=$2 admin=$3 robofy=$4 graph=$5 capacity=$6 workers=$7 spool=${8:-}
  local cert=${9:-} key=${10:-} tls=""
  if [ -n "$cert" ]; then
    tls=$(printf '  tls:\n    cert_file: "%s"\n    key_file: "%s"' "$cert" "$key")
  fi
  cat >"$file" <<YAML
server:
  listen: "127.0.0.1:$port"
  webhook_path: /webhook
$tls
admin:
  listen: "127.0.0.1:$admin"
meta:
  app_secret: bench-app-secret
  verify_token: bench-verify-token
  access_token: bench-graph-token
  graph_base_url: "http://127.0.0.1:$graph"
robofy:
  base_url: "http://127.0.0.1:$robofy"
  api_key: bench-robofy-key
  timeout: 60s
  max_attempts: 1
routes:
  - phone_number_id: "*"
    pid: bench-project
    chatbot_id: bench-agent
    messages_per_second: 1000
queue:
  capacity: $capacity
  workers: $workers
replies:
  typing_indicator: false
logging:
  level: ${BENCH_LOG_LEVEL:-warn}
  format: json
shutdown:
  grace: 1s
YAML
  if [ -n "$spool" ]; then printf 'spool:\n  dir: "%s"\n' "$spool" >>"$file"; fi
}

# cpu_ticks PID: utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15).
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) }
  # After "comm) " the fields start at field 3 (state): utime is the 12th, stime the 13th.
  awk '{ print $12 + $13 }' <<<"$stat"
}

# rss_kb PID: resident set size in kB (VmRSS).
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# hwm_kb PID: peak resident set size in kB (VmHWM).
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# json_field JSON NAME: the number NAME in a flat JSON object line.
json_field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }

# free_port_base: prints a random port P (12000-32000) such that P..P+4 on 127.0.0.1 accept no connection now,
# so parallel test runs (other build directories) rarely collide.
free_port_base() {
  local base p busy
  for _ in $(seq 1 20); do
    base=$((12000 + RANDOM % 20000))  # below the ephemeral range (32768+)
    busy=0
    for p in $(seq "$base" $((base + 4))); do
      if { exec 8<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then exec 8<&- 8>&-; busy=1; break; fi
    done
    [ "$busy" = 0 ] && { echo "$base"; return 0; }
  done
  return 1
}

# start_nginx [tls]: the baseline, a fixed 200 from one nginx worker on $nginx_port (pinned like
# the bridge, through pin_server; the same for make bench and ab.sh); sets nginx_pid. Plain HTTP,
# or TLS with the bridge's certificate and protocol range and OpenSSL's default ciphers (nginx's own default list is "HIGH:!aNULL:!MD5"; with TLS 1.3 both
# negotiate the same suite anyway, and the load generator reports which).
start_nginx() {
  local listen="listen 127.0.0.1:$nginx_port;" ready=200
  if [ "${1:-}" = tls ]; then
    listen="listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $tls_cert;
    ssl_certificate_key $tls_key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers DEFAULT;"
    ready=400  # plain HTTP to a TLS port: nginx answers 400, so it is up
  fi
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity auto;
daemon off;
master_process off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  client_max_body_size 4m;
  client_body_buffer_size 64k;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  server {
    $listen
    location / { return 200 "{}"; }
  }
}
CONF
  "${pin_server[@]}" "${nginx_bin:-$(command -v nginx || echo /usr/sbin/nginx)}" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  for _ in $(seq 1 500); do
    [ "$(http_status "$nginx_port" /)" = "$ready" ] && return 0
    sleep 0.01
  done
  echo "bench: nginx did not start" >&2; cat "$work/nginx/error.log" >&2; exit 1
}

# stop_processes SECONDS PID...: SIGTERM to each, then up to SECONDS for each to end before
# SIGKILL. Each one's exit status lands in stopped_rc[PID] ("killed" when SIGKILL was needed).
declare -gA stopped_rc=()
stop_processes() {
  local seconds=$1 p rc
  shift
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 1 $((seconds * 100))); do kill -0 "$p" 2>/dev/null || break; sleep 0.01; done
    stopped_rc[$p]=0
    if kill -0 "$p" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null || true
      stopped_rc[$p]=killed
    fi
    rc=0
    wait "$p" 2>/dev/null || rc=$?
    [ "${stopped_rc[$p]}" = killed ] || stopped_rc[$p]=$rc
  done
}

# load URL PID [loadgen args...]: a 1 s warm-up, then the measured run; prints the loadgen JSON
# with the server's CPU µs per request added. An https URL verifies the server against our
# throwaway certificate; the loadgen shakes hands before its clock starts, and the server's share
# of that (one handshake per connection) is a negligible part of its CPU over the run. Reads the
# caller's loadgen, pin_cpu (e.g. (--cpu 1)), connections, ticks (CLK_TCK) and, for https, tls_cert.
load() {
  local url=$1 pid=$2 before after result requests common counted warmup
  shift 2
  common=(--url "$url" "${pin_cpu[@]}" --secret bench-app-secret --numbers 64)
  if [[ "$url" == https:* ]]; then common+=(--ca-file "$tls_cert"); fi
  "$loadgen" "${common[@]}" --duration 1 --connections "$connections" --run-id "warm$RANDOM" \
    >/dev/null || true
  before=$(cpu_ticks "$pid")
  result=$("$loadgen" "${common[@]}" "$@") || true
  after=$(cpu_ticks "$pid")
  # With --warmup the server also answered the warm-up's requests in its CPU time.
  counted=$(json_field "$result" requests) warmup=$(json_field "$result" warmup_answers)
  requests=$((${counted:-0} + ${warmup:-0}))
  awk -v r="$requests" -v t=$((after - before)) -v hz="$ticks" -v j="$result" \
    'BEGIN { sub(/}$/, "", j); printf "%s,\"server_cpu_us_per_request\":%.2f}\n", j, (r > 0 ? t * 1e6 / hz / r : 0) }'
}
