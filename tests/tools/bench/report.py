#!/usr/bin/env python3
"""Turns the raw figures of tests/tools/bench/run.sh into a table (stdout) and bench.json."""
import json
import sys

raw_path, out_path, cores, cpu_model = sys.argv[1:5]
with open(raw_path) as f:
    raw = json.load(f)


def ratio(a, b):
    return round(a / b, 3) if b else None


result = {"machine": {"cores": int(cores), "cpu": cpu_model}}
rows = []


# ---- issue 15: a round whose client used more than this share of its core measured the client.
client_limit = 0.9


def client_flags(key):
    """' ⚠ ...' naming every round (bridge and nginx) whose client was over client_limit."""
    over = []
    for side in ("bridge", "nginx"):
        for i, r in enumerate(raw.get(f"{key}_{side}_rounds") or []):
            if r.get("client_cpu_share", 0) > client_limit:
                over.append(f"{side} round {i + 1}: {r['client_cpu_share']}")
    return f" ⚠ client-bound: {', '.join(over)}" if over else " (no round over the limit)"
# ---- end of issue 15's client check


def compare(key, label):
    """The bridge against nginx from raw[key_bridge] / raw[key_nginx]: a result entry and rows."""
    b, n = raw[f"{key}_bridge"], raw[f"{key}_nginx"]
    entry = {
        "bridge": b,
        "nginx": n,
        "rps_ratio_bridge_to_nginx": ratio(b["rps"], n["rps"]),
        "cpu_us_per_request_ratio_bridge_to_nginx": ratio(
            b["server_cpu_us_per_request"], n["server_cpu_us_per_request"]),
        "bridge_rounds": raw.get(f"{key}_bridge_rounds"),
        "nginx_rounds": raw.get(f"{key}_nginx_rounds"),
    }
    table = [
        (f"{label}req/s (bridge | nginx | ratio)",
         f'{b["rps"]:.0f} | {n["rps"]:.0f} | {entry["rps_ratio_bridge_to_nginx"]}'),
        (f"{label}p50 µs (bridge | nginx)", f'{b["p50_us"]} | {n["p50_us"]}'),
        (f"{label}p99 µs (bridge | nginx)", f'{b["p99_us"]} | {n["p99_us"]}'),
        (f"{label}server CPU µs/request (bridge | nginx | ratio)",
         f'{b["server_cpu_us_per_request"]} | {n["server_cpu_us_per_request"]} | '
         f'{entry["cpu_us_per_request_ratio_bridge_to_nginx"]}'),
        (f"{label}client ({b.get('client', 'robofy-wa-loadgen')}) share of its core "
         f"(bridge | nginx run; over {client_limit} = the client was the limit)",
         f'{b["client_cpu_share"]} | {n["client_cpu_share"]}{client_flags(key)}'),
        (f"{label}non-200 + errors (bridge | nginx)",
         f'{b["other_status"] + b["errors"]} | {n["other_status"] + n["errors"]}'),
    ]
    return entry, table


result["ingress"], table = compare("ingress", "ingress ")
rows += table
if "tls_ingress_bridge" in raw:
    t, table = compare("tls_ingress", "TLS ingress ")
    plain = result["ingress"]
    # What TLS adds to each server's CPU per request, over its own plain-HTTP figure.
    t["tls_cpu_us_per_request_added"] = {
        side: round(t[side]["server_cpu_us_per_request"] - plain[side]["server_cpu_us_per_request"], 2)
        for side in ("bridge", "nginx")}
    t["note"] = ("one handshake per keep-alive connection, before the load generator's clock; "
                 "the server certificate (self-signed P-256) is verified by the load generator")
    result["ingress_tls"] = t
    rows += table + [
        ("TLS adds server CPU µs/request over plain (bridge | nginx)",
         f'{t["tls_cpu_us_per_request_added"]["bridge"]} | '
         f'{t["tls_cpu_us_per_request_added"]["nginx"]}'),
        ("TLS negotiated (bridge | nginx)", f'{t["bridge"].get("tls")} | {t["nginx"].get("tls")}'),
    ]

pm, ps, pl = raw["pipeline_memory"], raw["pipeline_spool"], raw["pipeline_light"]
result["pipeline"] = {
    "memory_only": pm, "spool": ps, "light_load": pl,
    "spool_to_memory_ratio": ratio(ps["messages_per_s"], pm["messages_per_s"]),
    "latency_note": "latency_us: per message, the loadgen's send time (a CLOCK_MONOTONIC stamp in "
                    "the text) to the reply's arrival at the fake Graph: the webhook POST, "
                    "queueing, the Robofy call and the Graph call, all loopback hops to fakes that "
                    "answer at once; mean_accept_to_reply_ms is the bridge's own histogram "
                    "(acceptance to Graph 200)"}


def ms(us):
    return f"{us / 1000:.2f}"


def e2e(run):
    lat = run.get("latency_us") or {}
    return f'{ms(lat.get("p50_us", 0))} / {ms(lat.get("p99_us", 0))}'


rows += [
    ("pipeline messages/s, webhook in -> Graph reply out (memory only)",
     f'{pm["messages_per_s"]:.0f} ({pm["replies"]}/{pm["messages"]} in {pm["seconds"]} s)'),
    ("pipeline mean accept->reply ms, bridge histogram (1 connection | saturated)",
     f'{pl["mean_accept_to_reply_ms"]} | {pm["mean_accept_to_reply_ms"]}'),
    ("pipeline send->reply at fake Graph p50 / p99 ms, per message (1 connection | saturated)",
     f'{e2e(pl)} | {e2e(pm)}'),
    ("pipeline CPU s (bridge | fakes), saturated run", f'{pm["bridge_cpu_s"]} | {pm["fakes_cpu_s"]}'),
    ("pipeline messages/s with spool.dir (ratio to memory only)",
     f'{ps["messages_per_s"]:.0f} ({result["pipeline"]["spool_to_memory_ratio"]})'),
]

result["footprint"] = {k: raw[k] for k in
                       ("idle_rss_kb", "peak_rss_kb", "pipeline_peak_rss_kb", "startup_s",
                        "binary_bytes") if k in raw}
rows += [
    ("idle RSS", f'{raw["idle_rss_kb"] / 1024:.1f} MiB'),
    ("peak RSS (ingress run, queue growing | pipeline run)",
     f'{raw["peak_rss_kb"] / 1024:.1f} MiB | {raw["pipeline_peak_rss_kb"] / 1024:.1f} MiB'),
    ("start-up to /readyz 200", f'{float(raw["startup_s"]) * 1000:.0f} ms'),
    ("binary size", f'{int(raw["binary_bytes"]) / 1048576:.1f} MiB'),
]

# ---- issue 15: half-load ack latency and memory per remembered wamid.
if "half_load" in raw:
    h = raw["half_load"]
    result["ingress"]["half_load"] = h
    rows.append(("ack latency at half of peak (open loop, rate | p50 / p99 µs | client share)",
                 f'{h["rate"]:.0f} req/s (got {h["rps"]:.0f}) | {h["p50_us"]} / {h["p99_us"]} | '
                 f'{h["client_cpu_share"]}'))
if "half_load_nginx" in raw:
    n = raw["half_load_nginx"]
    result["ingress"]["half_load_nginx"] = n
    rows.append(("nginx at the same rate, p50 / p99 µs | client share (the machine's own tail)",
                 f'{n["p50_us"]} / {n["p99_us"]} | {n["client_cpu_share"]}'))
if "equal_rate_bridge" in raw:
    eb, en = raw["equal_rate_bridge"], raw["equal_rate_nginx"]
    # Over both rounds together: the sums of CPU and of requests.
    def cpu_us(runs):
        return sum(r["server_cpu_us_per_request"] * r["requests"] for r in runs) / max(
            1, sum(r["requests"] for r in runs))
    b_us, n_us = cpu_us(eb), cpu_us(en)
    equal_ratio = b_us / n_us if n_us else 0  # not "ratio": that is the helper below
    result["ingress"]["equal_rate"] = {"bridge": eb, "nginx": en,
                                       "cpu_ratio": round(equal_ratio, 3)}
    rows.append(("ingress server CPU µs/request at one open-loop rate (rate | bridge | nginx | "
                 "ratio | client share)",
                 f'{eb[0]["rate"]:.0f} req/s | {b_us:.2f} | {n_us:.2f} | {equal_ratio:.3f} | '
                 f'{max(r["client_cpu_share"] for r in eb + en)}'))
if "dedupe_footprint" in raw:
    f7, f10 = raw["dedupe_footprint"], raw.get("dedupe_footprint_full", {})
    result["dedupe_memory"] = {"700k_ids": f7, "1m_ids": f10}
    rows.append(("memory per remembered wamid, resident (700,000 | 1,000,000 ids)",
                 f'{f7["rss_bytes_per_id"]} B | {f10.get("rss_bytes_per_id")} B '
                 f'({f7["id_bytes"]}-character ids)'))
# ---- end of issue 15's rows

if "instructions_per_webhook" in raw:
    result["instructions_per_accepted_webhook"] = int(raw["instructions_per_webhook"])
    rows.append(("instructions per accepted webhook (callgrind)", raw["instructions_per_webhook"]))

if "slow_10k" in raw:
    result["conversations_10k_robofy_2s"] = {
        "load": raw["slow_10k"], "replies": int(raw["slow_10k_replies"]),
        "drain_s_after_last_post": float(raw["slow_10k_drain_s"]),
        "peak_rss_kb": raw["slow_10k_peak_rss_kb"],
        "bridge_cpu_s": float(raw["slow_10k_bridge_cpu_s"]),
        "latency_us": raw.get("slow_10k_latency_us")}
    s = raw["slow_10k"]
    rows.append(("10k conversations, Robofy 2 s: replies | drain after last POST | peak RSS",
                 f'{raw["slow_10k_replies"]}/10000 | {raw["slow_10k_drain_s"]} s | '
                 f'{raw["slow_10k_peak_rss_kb"] / 1024:.1f} MiB (ingress {s["rps"]:.0f} req/s)'))
    rows.append(("10k conversations: bridge CPU s (POSTs to last reply) | send->reply p50 / p99 s",
                 f'{float(raw["slow_10k_bridge_cpu_s"]):.2f} | '
                 f'{(raw.get("slow_10k_latency_us") or {}).get("p50_us", 0) / 1e6:.2f} / '
                 f'{(raw.get("slow_10k_latency_us") or {}).get("p99_us", 0) / 1e6:.2f}'))

def redis_section(raw):
    """The Redis rounds of tests/tools/bench/redis.sh (issue 12): a result entry and rows."""
    sp, r1, r2 = (raw[f"redis_pipeline_{v}"] for v in ("spool", "redis_1", "redis_2"))
    rate_spool, rate_redis = raw["redis_rate_spool"], raw["redis_rate_redis"]
    queued, remembered = raw["redis_memory_queued"], raw["redis_memory_remembered"]
    one_to_spool = ratio(r1["messages_per_s"], sp["messages_per_s"])
    two_to_one = ratio(r2["messages_per_s"], r1["messages_per_s"])
    entry = {
        "pipeline": {"spool": sp, "redis_1_replica": r1, "redis_2_replicas": r2,
                     "redis_1_to_spool_ratio": one_to_spool, "redis_2_to_1_ratio": two_to_one,
                     "redis_2_to_spool_ratio": ratio(r2["messages_per_s"], sp["messages_per_s"]),
                     "rounds": {v: raw.get(f"redis_pipeline_{v}_rounds")
                                for v in ("spool", "redis_1", "redis_2")}},
        "acceptance_at_rate": {"spool": rate_spool, "redis": rate_redis},
        "memory": {"queued": queued, "remembered": remembered,
                   "bytes_per_queued_message": queued["bytes_per_message"],
                   "bytes_per_remembered_wamid": remembered["bytes_per_message"],
                   "bytes_per_answered_message": r1.get("redis_bytes_per_answered_message"),
                   "bytes_per_conversation_in_progress":
                       queued.get("conversation_in_progress_bytes")},
        "round_trips_per_accepted_message": queued["round_trips_per_message"],
        "targets": {
            "redis_1_to_spool_ge_0_5": one_to_spool is not None and one_to_spool >= 0.5,
            "redis_2_to_1_ge_0_9": two_to_one is not None and two_to_one >= 0.9,
            "accept_p99_lt_5ms_at_rate": rate_redis["p99_us"] < 5000,
            "round_trips_le_2": queued["round_trips_per_message"] <= 2},
        "appendfsync": raw.get("redis_appendfsync", "always"),
        "note": "every round on a fresh redis-server (loopback, appendonly yes, appendfsync as "
                "above, noeviction) and fresh bridges; the memory rounds with appendfsync "
                "everysec (fsync changes no memory figure); wamids 64 characters like Meta's",
    }

    def cpu(run):
        c = run["cpu_s"]
        bridges = " + ".join(f"{b:.2f}" for b in c["bridges"])
        return (f'bridge {bridges} | redis {c["redis_server"]:.2f} | fakes {c["fakes"]:.2f} | '
                f'loadgen {c["loadgen"]:.2f} | harness {c["harness"]:.2f} | other tenants '
                f'{c["other_tenants"]:.2f} | of {c["capacity"]:.2f} core-s')

    def mark(ok):
        return "✓" if ok else "✗"

    t = entry["targets"]
    table = [
        (f'Redis pipeline messages/s, appendfsync {entry["appendfsync"]}: spool | Redis 1 '
         'replica (ratio, target >= 0.5)',
         f'{sp["messages_per_s"]:.0f} | {r1["messages_per_s"]:.0f} ({one_to_spool}) '
         f'{mark(t["redis_1_to_spool_ge_0_5"])}'),
        ("Redis pipeline messages/s: 2 replicas (ratio to 1 replica, target >= 0.9 | to spool)",
         f'{r2["messages_per_s"]:.0f} ({two_to_one} {mark(t["redis_2_to_1_ge_0_9"])} | '
         f'{ratio(r2["messages_per_s"], sp["messages_per_s"])})'),
        ("Redis pipeline send->reply p50 / p99 ms (spool | 1 replica | 2 replicas)",
         f'{e2e(sp)} | {e2e(r1)} | {e2e(r2)}'),
        ("Redis reads/s | input bytes per read | per message (1 replica | 2 replicas)",
         f'{r1.get("redis_reads_per_s")} | {r1.get("redis_input_bytes_per_read")} | '
         f'{r1.get("redis_input_bytes_per_message")} B | {r2.get("redis_reads_per_s")} | '
         f'{r2.get("redis_input_bytes_per_read")} | {r2.get("redis_input_bytes_per_message")} B'),
        ("Redis pipeline CPU s, spool run", cpu(sp)),
        ("Redis pipeline CPU s, 1 replica", cpu(r1)),
        ("Redis pipeline CPU s, 2 replicas", cpu(r2)),
        (f'acceptance at {rate_redis["rate"]}/s p50 / p99 ms (spool | Redis, target p99 < 5)',
         f'{ms(rate_spool["p50_us"])} / {ms(rate_spool["p99_us"])} | '
         f'{ms(rate_redis["p50_us"])} / {ms(rate_redis["p99_us"])} '
         f'{mark(t["accept_p99_lt_5ms_at_rate"])}'),
        ("Redis round trips per message: acceptance (target <= 2) | whole pipeline",
         f'{queued["round_trips_per_message"]} {mark(t["round_trips_le_2"])} | '
         f'{rate_redis.get("round_trips_per_message")} '
         f'({rate_redis.get("redis_scripts_per_message")} scripts)'),
        ("Redis memory per queued message (its stored value alone)",
         f'{queued["bytes_per_message"]} B ({queued.get("stored_value_bytes")} B)'),
        ("Redis memory per remembered wamid | per answered message (kept 7 days)",
         f'{remembered["bytes_per_message"]} B | '
         f'{r1.get("redis_bytes_per_answered_message")} B'),
        ("Redis memory per conversation being answered (lease + held + begun keys)",
         f'{queued.get("conversation_in_progress_bytes")} B '
         f'(lease {queued.get("lease_key_bytes")} B)'),
    ]
    return entry, table


if "redis_pipeline_redis_1" in raw:
    result["redis"], table = redis_section(raw)
    rows += table

with open(out_path, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")

width = max(len(r[0]) for r in rows)
print(f"\nmake bench on {cores} cores ({cpu_model})\n")
print(f'| {"figure".ljust(width)} | value |')
print(f'| {"-" * width} | ----- |')
for name, value in rows:
    print(f"| {name.ljust(width)} | {value} |")
print(f"\nJSON: {out_path}")
