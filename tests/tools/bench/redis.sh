# The Redis rounds of `make bench` (issue 12): run.sh sources this file and calls redis_rounds
# once, after its spool rounds (BENCH_REDIS=0 skips them); smoke.sh runs one tiny round with it. Every round starts its own redis-server (127.0.0.1, its own port and
# directory, appendonly yes, appendfsync always (BENCH_REDIS_FSYNC=everysec shows what the disk's
# fsync costs), maxmemory-policy noeviction) and fresh bridges:
#   pipeline  messages/s webhook in -> Graph reply out with the instant fakes: the spool, one
#             replica on Redis and two replicas on Redis, alternating, BENCH_REDIS_ROUNDS rounds,
#             the best of each kept; the CPU of every process over each round (/proc/PID/stat)
#   latency   the spool, then Redis, at BENCH_REDIS_RATE messages/s open loop (the loadgen's
#             --rate), instant fakes: acceptance p50/p99, and Redis round trips per message
#   memory    Redis used_memory before and after BENCH_REDIS_MEMORY_MESSAGES messages left queued
#             (Robofy holds every answer; also the round trips of the acceptance path alone), then
#             as many wamids only remembered (a route for another number: acknowledged, never
#             answered); these two fill Redis with appendfsync everysec, since fsync changes
#             nothing in memory and would make them take minutes
# Uses run.sh's variables (bridge, loadgen, fakes, work, port, admin, robofy, graph, pin_server,
# pin_cpu, ticks, connections), its start_fakes, stop_all and pids, and writes into its out array.
# Takes ~90 s on the 2-core machine of BENCHMARKS.md.

redis_server_bin=$(command -v redis-server || echo /usr/bin/redis-server)
redis_cli_bin=$(command -v redis-cli || echo /usr/bin/redis-cli)
rb_rounds=${BENCH_REDIS_ROUNDS:-3}
rb_messages=${BENCH_REDIS_MESSAGES:-10000}
rb_rate=${BENCH_REDIS_RATE:-1000}
rb_rate_seconds=${BENCH_REDIS_RATE_SECONDS:-5}
rb_memory_messages=${BENCH_REDIS_MEMORY_MESSAGES:-100000}
rb_fsync=${BENCH_REDIS_FSYNC:-always}  # appendfsync of the pipeline and latency rounds
# Meta's wamids are ~60 characters of base64 ("wamid.HBgL..."), and the key of a remembered one
# holds it whole: the loadgen's "wamid.bench.<run id>.<12 digits>" gets a run id (this and the
# loadgen's index) that makes it 64. Every round has a fresh store, so run ids may repeat.
rb_wamid_run_id=HBgLOTE5ODc2NTQzMjEwFQIAERgSQTNCRjQ2OU
# Bridge 1 uses run.sh's ports; Redis and bridge 2 get their own.
rb_base=$(free_port_base)
rb_redis_port=$rb_base rb_port2=$((rb_base + 1)) rb_admin2=$((rb_base + 2))
rb_ports=("$port" "$rb_port2") rb_admins=("$admin" "$rb_admin2")

rb_cli() { timeout 10 "$redis_cli_bin" -p "$rb_redis_port" "$@"; }
# rb_info FIELD: one field of INFO (all sections).
rb_info() { rb_cli info everything | tr -d '\r' | sed -n "s/^$1://p"; }
# rb_evalsha: scripts Redis ran so far (commandstats); the bridge runs every store step as one.
rb_evalsha() {
  rb_cli info commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p'
}

# rb_commandstats: "command:calls:usec" for every command Redis ran so far, the commands scripts
# ran included (commandstats counts those too): where Redis's time per message goes.
rb_commandstats() {
  rb_cli info commandstats | tr -d '\r' |
    sed -n 's/^cmdstat_\([a-z|]*\):calls=\([0-9]*\),usec=\([0-9]*\),.*/\1:\2:\3/p' | tr '\n' ' '
}

# rb_first_key PATTERN: one key that matches (SCAN, <= 200 steps of ~1000 keys).
rb_first_key() {
  local cursor=0 reply key
  for _ in $(seq 1 200); do
    # The cursor, then the keys found (redis-cli prints an empty line for none).
    mapfile -t reply < <(rb_cli scan "$cursor" match "$1" count 1000)
    for key in "${reply[@]:1}"; do
      if [ -n "$key" ]; then echo "$key"; return 0; fi
    done
    cursor=${reply[0]:-0}
    [ "$cursor" = 0 ] && return 1
  done
  return 1
}

# rb_start_redis [FSYNC]: a fresh redis-server on its own directory (appendfsync BENCH_REDIS_FSYNC,
# always by default, unless FSYNC says otherwise); sets rb_redis_pid.
rb_start_redis() {
  rm -rf "$work/redis" && mkdir -p "$work/redis"
  "$redis_server_bin" --port "$rb_redis_port" --bind 127.0.0.1 --dir "$work/redis" --save "" \
    --appendonly yes --appendfsync "${1:-$rb_fsync}" --maxmemory-policy noeviction \
    --daemonize no --logfile "$work/redis/redis.log" &
  rb_redis_pid=$!
  pids+=("$rb_redis_pid")
  for _ in $(seq 1 500); do
    [ "$(rb_cli ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.01
  done
  echo "make bench: redis-server did not start" >&2; cat "$work/redis/redis.log" >&2; exit 1
}

# rb_start_bridges COUNT spool|redis CAPACITY WORKERS [unrouted]: COUNT bridges (1 or 2) on the
# spool (a fresh spool.dir) or on the running redis-server; sets rb_bridge_pids. Bridge 1 runs on
# CPU 0 as in run.sh; a second one is left to the scheduler (on 2 cores nothing is free to give
# it). "unrouted": the one route is for a number the loadgen never uses, so every message is
# acknowledged and only its wamid remembered.
rb_start_bridges() {
  local count=$1 store=$2 capacity=$3 workers=$4 unrouted=${5:-} i file
  rb_bridge_pids=()
  rm -rf "$work/spool" && mkdir -p "$work/spool"
  for i in $(seq 0 $((count - 1))); do
    file=$work/bench-redis-$i.yaml
    if [ "$store" = spool ]; then
      write_config "$file" "${rb_ports[$i]}" "${rb_admins[$i]}" "$robofy" "$graph" "$capacity" \
        "$workers" "$work/spool"
    else
      write_config "$file" "${rb_ports[$i]}" "${rb_admins[$i]}" "$robofy" "$graph" "$capacity" \
        "$workers"
      printf 'redis:\n  url: "redis://127.0.0.1:%s/0"\n  key_prefix: bench\n' \
        "$rb_redis_port" >>"$file"
    fi
    if [ -n "$unrouted" ]; then sed -i 's/phone_number_id: "\*"/phone_number_id: "1"/' "$file"; fi
    if [ "$i" = 0 ]; then
      POD_NAME=bench-$i "${pin_server[@]}" "$bridge" --config "$file" >"$work/bridge-$i.log" 2>&1 &
    else
      POD_NAME=bench-$i "$bridge" --config "$file" >"$work/bridge-$i.log" 2>&1 &
    fi
    rb_bridge_pids+=($!)
    pids+=($!)
  done
  for i in $(seq 0 $((count - 1))); do
    wait_ready "${rb_admins[$i]}" >/dev/null || {
      echo "make bench: bridge $i ($store) never became ready" >&2
      cat "$work/bridge-$i.log" >&2
      exit 1
    }
  done
}

# rb_round_trips: Redis round trips of every running bridge so far (all outcomes), from /metrics.
rb_round_trips() {
  local total=0 i
  for i in "${!rb_bridge_pids[@]}"; do
    total=$((total + $(http_get "${rb_admins[$i]}" /metrics |
      awk '/^[a-z_]*redis_round_trips_total\{/ { s += $2 } END { printf "%d", s }')))
  done
  echo "$total"
}

# rb_children_mark NAME, then rb_children_cpu_s NAME: CPU seconds of this shell's finished
# children (loadgens and the polling) as of the mark. The mark runs `times` in this shell: inside
# a $(...) it would report the subshell's own children instead.
rb_children_mark() { times >"$work/times.$1"; }
rb_children_cpu_s() {
  awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
    printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$work/times.$1"
}

# rb_machine_ticks: busy and iowait clock ticks of the whole machine (/proc/stat), every tenant.
rb_machine_ticks() {
  awk '/^cpu / { printf "%d %d", $2 + $3 + $4 + $7 + $8 + $9, $6 }' /proc/stat
}

# rb_loadgens N TAG [loadgen args...]: N messages spread evenly over the running bridges, one
# loadgen per bridge, each with its own business numbers (so no conversation spans two
# replicas), run id and half the connections; waits for them (<= 120 s) and prints
# {"ok","requests","rps","p50_us","p99_us","max_us","loadgen_cpu_s","errors"} over all of them.
rb_loadgens() {
  local n=$1 tag=$2 count=${#rb_bridge_pids[@]} i lg_pids=()
  shift 2
  for i in $(seq 0 $((count - 1))); do
    timeout 120 "$loadgen" --url "http://127.0.0.1:${rb_ports[$i]}/webhook" "${pin_cpu[@]}" \
      --requests $((n / count)) --connections $((connections / count)) \
      --secret bench-app-secret --number $((106540352242922 + 64 * i)) --numbers 64 \
      --run-id "$tag$i" "$@" >"$work/loadgen-$i.json" 2>"$work/loadgen-$i.err" &
    lg_pids+=($!)
  done
  for i in "${lg_pids[@]}"; do wait "$i" || true; done
  for i in $(seq 0 $((count - 1))); do cat "$work/loadgen-$i.json"; done | python3 -c '
import json, sys
runs = [json.loads(line) for line in sys.stdin if line.strip()]
worst = lambda k: max((r[k] for r in runs), default=0)
print(json.dumps({
    "requests": sum(r["requests"] for r in runs), "ok": sum(r["ok"] for r in runs),
    "errors": sum(r["errors"] + r["other_status"] for r in runs),
    "rps": round(sum(r["rps"] for r in runs), 1),
    # per loadgen percentiles; the worse of the two (both spread the same load)
    "p50_us": worst("p50_us"), "p90_us": worst("p90_us"), "p99_us": worst("p99_us"),
    "max_us": worst("max_us"),
    "loadgen_cpu_s": round(sum(r["client_cpu_us_per_request"] * r["requests"] for r in runs) / 1e6, 2),
    "loadgens": len(runs)}, separators=(",", ":")))'
}

# rb_pipeline N STORE: N messages (one customer each) through the running bridges; waits (<= 90 s)
# for N replies at the fake Graph and prints the rate, the CPU seconds of each process over the
# round (from the first POST to the last reply), the per-message latency the fakes saw, and with
# Redis the round trips and Redis memory per answered message (what stays after the answer).
rb_pipeline() {
  local n=$1 store=$2 i start end replies=0 replies_before load
  local -A at=()  # figures before (b_*) and after (a_*) the round
  http_get "$graph" /bench/latency/reset >/dev/null
  replies_before=$(graph_count)
  rb_sample() {  # rb_sample PREFIX: every counter of the round, now
    local i ticks_list=""
    for i in "${!rb_bridge_pids[@]}"; do ticks_list+=" $(cpu_ticks "${rb_bridge_pids[$i]}")"; done
    at[${1}bridges]=$ticks_list
    at[${1}fakes]=$(cpu_ticks "$fakes_pid")
    at[${1}machine]=$(rb_machine_ticks)
    at[${1}redis]=0 at[${1}memory]=0 at[${1}trips]=0 at[${1}scripts]=0 at[${1}input]=0
    at[${1}reads]=0 at[${1}commands]=""
    if [ "$store" = redis ]; then
      at[${1}commands]=$(rb_commandstats)
      at[${1}redis]=$(cpu_ticks "$rb_redis_pid") at[${1}memory]=$(rb_info used_memory)
      at[${1}trips]=$(rb_round_trips) at[${1}scripts]=$(rb_evalsha)
      # What Redis read from its clients, and in how many read calls (with appendfsync always,
      # each event-loop turn reads a client once, then fsyncs before it answers).
      at[${1}input]=$(rb_info total_net_input_bytes)
      at[${1}reads]=$(awk '/^syscr:/ { print $2 }' "/proc/$rb_redis_pid/io")
    fi
    rb_children_mark "$1"
  }
  rb_sample b_
  start=$(date +%s.%N)
  load=$(rb_loadgens "$n" "$rb_wamid_run_id" --senders $((n / ${#rb_bridge_pids[@]})))
  # Polled every 20 ms: the polling's own CPU (a few processes per poll) is reported as harness.
  for _ in $(seq 1 4500); do
    replies=$(($(graph_count) - replies_before))
    [ "$replies" -ge "$n" ] && break
    sleep 0.02
  done
  end=$(date +%s.%N)
  rb_sample a_
  at[b_children]=$(rb_children_cpu_s b_) at[a_children]=$(rb_children_cpu_s a_)
  for i in "${!at[@]}"; do echo "$i=${at[$i]}"; done | python3 -c '
import json, sys
at = dict(line.rstrip("\n").split("=", 1) for line in sys.stdin)
n, replies, start, end, hz, cores, store, load, latency = sys.argv[1:]
hz, seconds, load, replies = int(hz), float(end) - float(start), json.loads(load), int(replies)
delta = lambda k, i=0: int(at["a_" + k].split()[i]) - int(at["b_" + k].split()[i])
bridges = [round(delta("bridges", i) / hz, 2) for i in range(len(at["a_bridges"].split()))]
redis, fakes = round(delta("redis") / hz, 2), round(delta("fakes") / hz, 2)
children = float(at["a_children"]) - float(at["b_children"])
busy, iowait = delta("machine", 0) / hz, delta("machine", 1) / hz
ours = sum(bridges) + redis + fakes + children
out = {
    "store": store, "replicas": len(bridges), "messages": int(n), "accepted": load["ok"],
    "replies": replies, "seconds": round(seconds, 3),
    "messages_per_s": round(replies / seconds, 1) if seconds > 0 else 0,
    "ingress_rps": load["rps"], "post_p50_us": load["p50_us"], "post_p99_us": load["p99_us"],
    "cpu_s": {"bridges": bridges, "redis_server": redis, "fakes": fakes,
              "loadgen": load["loadgen_cpu_s"],
              "harness": round(max(0.0, children - load["loadgen_cpu_s"]), 2),
              "machine_busy": round(busy, 2), "other_tenants": round(max(0.0, busy - ours), 2),
              "machine_iowait": round(iowait, 2), "capacity": round(seconds * int(cores), 2)},
    "latency_us": json.loads(latency)}
if store == "redis" and replies:
    out["round_trips_per_message"] = round(delta("trips") / replies, 2)
    out["redis_scripts_per_message"] = round(delta("scripts") / replies, 2)
    out["redis_bytes_per_answered_message"] = round(delta("memory") / replies)
    reads = delta("reads")
    out["redis_input_bytes_per_message"] = round(delta("input") / replies)
    out["redis_reads_per_s"] = round(reads / seconds) if seconds > 0 else 0
    out["redis_input_bytes_per_read"] = round(delta("input") / reads) if reads else None
    # Per answered message: calls and Redis CPU microseconds of each command, the busiest first.
    stats = lambda k: {c: (int(n), int(u)) for c, n, u in (w.split(":") for w in at[k].split())}
    before, after = stats("b_commands"), stats("a_commands")
    per = {c: [round((n - before.get(c, (0, 0))[0]) / replies, 2),
               round((u - before.get(c, (0, 0))[1]) / replies, 1)] for c, (n, u) in after.items()}
    out["redis_commands_per_message"] = dict(sorted(
        ((c, v) for c, v in per.items() if v[0] > 0), key=lambda cv: -cv[1][1]))
print(json.dumps(out, separators=(",", ":")))' "$n" "$replies" "$start" "$end" "$ticks" "$(nproc)" \
    "$store" "$load" "$(http_get "$graph" /bench/latency)"
}

# rb_rate STORE: BENCH_REDIS_RATE messages/s for BENCH_REDIS_RATE_SECONDS, open loop, on one
# running bridge with the instant fakes (every message answered meanwhile); prints the loadgen's
# acceptance latency, and the bridge's Redis round trips and Redis's scripts per message.
rb_rate() {
  local store=$1 n=$((rb_rate * rb_rate_seconds)) trips_before=0 trips_after=0 eval_before=0
  local eval_after=0 load replies_before
  replies_before=$(graph_count)
  if [ "$store" = redis ]; then trips_before=$(rb_round_trips) eval_before=$(rb_evalsha); fi
  load=$(rb_loadgens "$n" "$rb_wamid_run_id" --rate "$rb_rate" --senders "$n")
  for _ in $(seq 1 1000); do [ $(($(graph_count) - replies_before)) -ge "$n" ] && break; sleep 0.02; done
  if [ "$store" = redis ]; then trips_after=$(rb_round_trips) eval_after=$(rb_evalsha); fi
  python3 - "$store" "$load" "$n" $((trips_after - trips_before)) $((eval_after - eval_before)) \
    $(($(graph_count) - replies_before)) "$rb_rate" <<'PY'
import json, sys
store, load, n, trips, scripts, replies, rate = sys.argv[1:]
load = json.loads(load)
ok = load["ok"]
out = {"store": store, "rate": int(rate), "messages": int(n), "accepted": ok, "replies": int(replies),
       "rps": load["rps"], "p50_us": load["p50_us"], "p90_us": load["p90_us"],
       "p99_us": load["p99_us"], "max_us": load["max_us"], "errors": load["errors"]}
if store == "redis" and ok:
    out["round_trips_per_message"] = round(int(trips) / ok, 2)
    out["redis_scripts_per_message"] = round(int(scripts) / ok, 2)
print(json.dumps(out, separators=(",", ":")))
PY
}

# rb_memory queued|remembered: Redis's used_memory before and after BENCH_REDIS_MEMORY_MESSAGES
# messages with 64-character wamids. queued: Robofy holds every answer, one customer per message,
# so each waits in its own conversation (the workers' first claims aside); the bridge's round
# trips in this round are those of the acceptance path. remembered: every message unrouted, 64
# customers, so what grows is the wamids remembered for dedupe.
rb_memory() {
  local kind=$1 n=$rb_memory_messages before after trips_before trips_after eval_before eval_after
  local load senders=$rb_memory_messages sample=""
  [ "$kind" = remembered ] && senders=64
  sleep 0.2
  before=$(rb_info used_memory) trips_before=$(rb_round_trips) eval_before=$(rb_evalsha)
  load=$(rb_loadgens "$n" "$rb_wamid_run_id" --senders "$senders")
  sleep 0.5  # Redis frees the query buffers of idle clients in its cron
  after=$(rb_info used_memory) trips_after=$(rb_round_trips) eval_after=$(rb_evalsha)
  if [ "$kind" = queued ]; then
    # What a queued message's stored value weighs on its own (payload + acceptance time), and
    # one conversation as a worker holds it: its lease, and its held list and begun set (MEMORY
    # USAGE; the conversation's entry in the partition's lease index is not counted). Either may
    # be missing (null in the JSON): no key found, or gone before it was measured.
    local key lease value_bytes="" lease_bytes="" conv_bytes="" part bytes
    key=$(rb_first_key 'bench:{*}:m:*' || true) lease=$(rb_first_key 'bench:{*}:lease:*' || true)
    if [ -n "$key" ]; then value_bytes=$(rb_cli strlen "$key" || true); fi
    if [ -n "$lease" ]; then
      lease_bytes=$(rb_cli memory usage "$lease" || true) conv_bytes=0
      for part in lease held begun; do
        bytes=$(rb_cli memory usage "${lease/:lease:/:$part:}" || true)
        conv_bytes=$((conv_bytes + ${bytes:-0}))
      done
    fi
    [[ "$value_bytes" =~ ^[1-9][0-9]*$ ]] || value_bytes=null
    [[ "$lease_bytes" =~ ^[1-9][0-9]*$ ]] || lease_bytes=null
    [[ "$conv_bytes" =~ ^[1-9][0-9]*$ ]] || conv_bytes=null
    sample="\"stored_value_bytes\":$value_bytes,\"lease_key_bytes\":$lease_bytes,"
    sample+="\"conversation_in_progress_bytes\":$conv_bytes,"
  fi
  python3 - "$kind" "$load" "$before" "$after" $((trips_after - trips_before)) \
    $((eval_after - eval_before)) "$(rb_cli dbsize)" "{$sample\"_\":0}" <<'PY'
import json, sys
kind, load, before, after, trips, scripts, keys, sample = sys.argv[1:]
load, sample = json.loads(load), json.loads(sample)
sample.pop("_")
ok = load["ok"]
out = {"kind": kind, "messages": int(load["requests"]), "accepted": ok, "rps": load["rps"],
       "used_memory_before": int(before), "used_memory_after": int(after), "keys": int(keys),
       "bytes_per_message": round((int(after) - int(before)) / ok) if ok else None,
       "round_trips_per_message": round(int(trips) / ok, 3) if ok else None,
       "redis_scripts_per_message": round(int(scripts) / ok, 3) if ok else None}
out.update(sample)
print(json.dumps(out, separators=(",", ":")))
PY
}

# rb_stop_bridges: SIGTERM to the running bridges; each must exit 0 within 30 s (a warning on
# stderr otherwise, and SIGKILL).
rb_stop_bridges() {
  local p
  stop_processes 30 "${rb_bridge_pids[@]}"
  for p in "${rb_bridge_pids[@]}"; do
    [ "${stopped_rc[$p]}" = 0 ] ||
      echo "make bench: warning: bridge $p ended with ${stopped_rc[$p]} after SIGTERM" >&2
  done
}

rb_better() {
  awk -v a="$(json_field "$1" messages_per_s)" -v b="$(json_field "$2" messages_per_s)" \
    'BEGIN { exit !(b == "" || a > b) }'
}

# redis_rounds: every round above, into run.sh's out array.
redis_rounds() {
  [ "${BENCH_REDIS:-1}" != 0 ] || return 0
  [ -x "$redis_server_bin" ] || {
    echo "make bench: redis-server is missing (apt-get install redis-server)" >&2; exit 1; }
  local round variant r

  # ---- pipeline: spool, Redis with one replica, Redis with two (alternating; best of each).
  declare -A rb_best=() rb_all=()
  for round in $(seq 1 "$rb_rounds"); do
    for variant in spool redis_1 redis_2; do
      echo "make bench: Redis round $round/$rb_rounds: pipeline, $rb_messages messages, $variant"
      start_fakes 0
      case $variant in
        spool) rb_start_bridges 1 spool 100000 256 ;;
        redis_1) rb_start_redis && rb_start_bridges 1 redis 100000 256 ;;
        redis_2) rb_start_redis && rb_start_bridges 2 redis 100000 256 ;;
      esac
      r=$(rb_pipeline "$rb_messages" "${variant%_*}")
      stop_all
      rb_all[$variant]+=${rb_all[$variant]:+,}$r
      if rb_better "$r" "${rb_best[$variant]:-}"; then rb_best[$variant]=$r; fi
    done
  done
  out[redis_appendfsync]=$rb_fsync
  for variant in spool redis_1 redis_2; do
    out[redis_pipeline_$variant]=${rb_best[$variant]}
    out[redis_pipeline_${variant}_rounds]="[${rb_all[$variant]}]"
  done

  # ---- acceptance latency at a fixed rate, every message answered meanwhile.
  echo "make bench: Redis: $rb_rate messages/s for ${rb_rate_seconds}s, spool then Redis"
  start_fakes 0
  rb_start_bridges 1 spool 100000 256
  out[redis_rate_spool]=$(rb_rate spool)
  stop_all
  start_fakes 0
  rb_start_redis && rb_start_bridges 1 redis 100000 256
  out[redis_rate_redis]=$(rb_rate redis)
  stop_all

  # ---- memory: queued messages, then remembered wamids (appendfsync everysec, see the top).
  echo "make bench: Redis memory: $rb_memory_messages messages queued (Robofy holding answers)"
  start_fakes 600000
  rb_start_redis everysec && rb_start_bridges 1 redis $((rb_memory_messages * 2)) 256
  out[redis_memory_queued]=$(rb_memory queued)
  # Stopped as Kubernetes stops a pod, with 100,000 messages queued and Robofy holding the claimed
  # ones: the bridge hands its claims back and exits 0, or the run says so.
  rb_stop_bridges
  stop_all
  echo "make bench: Redis memory: $rb_memory_messages wamids remembered (unrouted messages)"
  start_fakes 0
  rb_start_redis everysec && rb_start_bridges 1 redis 100000 256 unrouted
  out[redis_memory_remembered]=$(rb_memory remembered)
  stop_all
}
