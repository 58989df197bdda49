#!/usr/bin/env bash
# `make run`: starts the bridge. With credentials in the environment it goes live with
# deploy/config/live.yaml (or $BRIDGE_CONFIG); without them it runs against the local simulator
# of Meta, Robofy and the Graph API, so the whole round trip shows in the terminal.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/.."
bridge="$build_dir/bridge/robofy-wa-bridge"
simulator="$build_dir/tests/tools/robofy-wa-simulator"

required=(META_APP_SECRET META_VERIFY_TOKEN WHATSAPP_ACCESS_TOKEN ROBOFY_API_KEY ROBOFY_PID ROBOFY_CHATBOT_ID)
set_count=0
for v in "${required[@]}"; do [ -n "${!v:-}" ] && set_count=$((set_count + 1)); done

if [ "$set_count" -eq "${#required[@]}" ] || [ -n "${BRIDGE_CONFIG:-}" ]; then
  config=${BRIDGE_CONFIG:-deploy/config/live.yaml}
  echo "make run: credentials found; starting the bridge live with $config"
  exec "$bridge" --config "$config"
fi
if [ "$set_count" -gt 0 ]; then
  echo "make run: only some credentials are set; live mode needs all of: ${required[*]}" >&2
  echo "make run: (unset them all to run against the simulator)" >&2
  exit 2
fi

replicas=${REPLICAS:-1}
case "$replicas" in
  ''|*[!0-9]*) echo "make run: REPLICAS must be a number (1 runs one process, 2 or more share Redis)" >&2; exit 2 ;;
esac
export SIM_BRIDGE_PORT=${SIM_BRIDGE_PORT:-8080} SIM_ADMIN_PORT=${SIM_ADMIN_PORT:-9090}
export SIM_ROBOFY_PORT=${SIM_ROBOFY_PORT:-18081} SIM_GRAPH_PORT=${SIM_GRAPH_PORT:-18082}
# A port of 0 means any free one (the tests run several of these at once).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for v in SIM_BRIDGE_PORT SIM_ADMIN_PORT SIM_ROBOFY_PORT SIM_GRAPH_PORT; do
  if [ "${!v}" = 0 ]; then export "$v=$(free_port)"; fi
done

pids=()
work=$(mktemp -d)
stop_all() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap 'stop_all; exit 130' INT TERM

config=deploy/config/simulator.yaml
if [ "$replicas" -gt 1 ]; then
  # Several replicas share a private redis-server: its own port and directory, AOF fsynced on
  # every write (as the operator guide asks of a production Redis), gone when this script ends.
  redis_server=$(command -v redis-server || echo /usr/bin/redis-server)
  [ -x "$redis_server" ] || { echo "make run: REPLICAS=$replicas needs redis-server (apt-get install redis-server)" >&2; exit 1; }
  redis_port=$(free_port)
  "$redis_server" --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" \
    --appendonly yes --appendfsync always --maxmemory-policy noeviction --daemonize no \
    --logfile "$work/redis.log" &
  pids+=($!)
  config=$work/replicas.yaml
  { cat deploy/config/simulator.yaml
    printf 'redis:\n  url: "redis://127.0.0.1:%s/0"\n  key_prefix: simulator\n' "$redis_port"; } >"$config"
  echo "make run: $replicas replicas sharing redis-server on 127.0.0.1:$redis_port; the simulator spreads its deliveries over them (Ctrl-C stops all)"
else
  echo "make run: no credentials set; running against the local simulator (Ctrl-C stops both)"
fi

bridge_urls=() ready_urls=()
for i in $(seq 1 "$replicas"); do
  if [ "$i" -eq 1 ]; then port=$SIM_BRIDGE_PORT admin=$SIM_ADMIN_PORT; else port=$(free_port) admin=$(free_port); fi
  SIM_BRIDGE_PORT=$port SIM_ADMIN_PORT=$admin POD_NAME=$([ "$replicas" -gt 1 ] && echo "replica-$i" || true) \
    "$bridge" --config "$config" &
  pids+=($!)
  bridge_urls+=("http://127.0.0.1:$port/webhook")
  ready_urls+=("http://127.0.0.1:$admin/readyz")
done
join() { local IFS=,; echo "$*"; }
"$simulator" --bridge-url "$(join "${bridge_urls[@]}")" --ready-url "$(join "${ready_urls[@]}")" \
  --robofy-port "$SIM_ROBOFY_PORT" --graph-port "$SIM_GRAPH_PORT" \
  --app-secret simulator-app-secret --interval "${SIM_INTERVAL:-3s}" --messages "${SIM_MESSAGES:-0}" &
sim_pid=$!
# Stop when the simulator ends (it reports its verdict) or any bridge or Redis stops.
status=0
wait -n "$sim_pid" "${pids[@]}" || status=$?
stop_all
kill -TERM "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
exit $status
