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

echo "make run: no credentials set; running against the local simulator (Ctrl-C stops both)"
export SIM_BRIDGE_PORT=${SIM_BRIDGE_PORT:-8080} SIM_ADMIN_PORT=${SIM_ADMIN_PORT:-9090}
export SIM_ROBOFY_PORT=${SIM_ROBOFY_PORT:-18081} SIM_GRAPH_PORT=${SIM_GRAPH_PORT:-18082}
# A port of 0 means any free one (the tests run several of these at once).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for v in SIM_BRIDGE_PORT SIM_ADMIN_PORT SIM_ROBOFY_PORT SIM_GRAPH_PORT; do
  if [ "${!v}" = 0 ]; then export "$v=$(free_port)"; fi
done
"$simulator" --bridge-url "http://127.0.0.1:$SIM_BRIDGE_PORT/webhook" \
  --ready-url "http://127.0.0.1:$SIM_ADMIN_PORT/readyz" \
  --robofy-port "$SIM_ROBOFY_PORT" --graph-port "$SIM_GRAPH_PORT" \
  --app-secret simulator-app-secret --interval "${SIM_INTERVAL:-3s}" --messages "${SIM_MESSAGES:-0}" &
sim_pid=$!
"$bridge" --config deploy/config/simulator.yaml &
bridge_pid=$!
trap 'kill -TERM $bridge_pid $sim_pid 2>/dev/null || true' INT TERM
# Stop when either side stops; report the simulator's verdict when it ends first.
status=0
wait -n $sim_pid $bridge_pid || status=$?
kill -TERM $bridge_pid $sim_pid 2>/dev/null || true
wait $bridge_pid 2>/dev/null || true
wait $sim_pid 2>/dev/null || true
exit $status
