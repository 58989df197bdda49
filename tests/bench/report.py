#!/usr/bin/env python3
"""Turns the raw figures of tests/bench/run.sh into a table (stdout) and bench.json."""
import json
import sys

raw_path, out_path, cores, cpu_model = sys.argv[1:5]
with open(raw_path) as f:
    raw = json.load(f)


def ratio(a, b):
    return round(a / b, 3) if b else None


result = {"machine": {"cores": int(cores), "cpu": cpu_model}}
rows = []

b, n = raw["ingress_bridge"], raw["ingress_nginx"]
result["ingress"] = {
    "bridge": b,
    "nginx": n,
    "rps_ratio_bridge_to_nginx": ratio(b["rps"], n["rps"]),
    "cpu_us_per_request_ratio_bridge_to_nginx": ratio(
        b["server_cpu_us_per_request"], n["server_cpu_us_per_request"]),
    "bridge_rounds": raw.get("ingress_bridge_rounds"),
    "nginx_rounds": raw.get("ingress_nginx_rounds"),
}
rows += [
    ("ingress req/s (bridge | nginx | ratio)",
     f'{b["rps"]:.0f} | {n["rps"]:.0f} | {result["ingress"]["rps_ratio_bridge_to_nginx"]}'),
    ("ingress p50 µs (bridge | nginx)", f'{b["p50_us"]} | {n["p50_us"]}'),
    ("ingress p99 µs (bridge | nginx)", f'{b["p99_us"]} | {n["p99_us"]}'),
    ("server CPU µs/request (bridge | nginx | ratio)",
     f'{b["server_cpu_us_per_request"]} | {n["server_cpu_us_per_request"]} | '
     f'{result["ingress"]["cpu_us_per_request_ratio_bridge_to_nginx"]}'),
    ("load generator busy share of its core (bridge | nginx run; 1.0 = it was the limit)",
     f'{b["client_cpu_share"]} | {n["client_cpu_share"]}'),
    ("ingress non-200 + errors (bridge | nginx)",
     f'{b["other_status"] + b["errors"]} | {n["other_status"] + n["errors"]}'),
]

pm, ps, pl = raw["pipeline_memory"], raw["pipeline_spool"], raw["pipeline_light"]
result["pipeline"] = {"memory_only": pm, "spool": ps, "light_load": pl,
                      "spool_to_memory_ratio": ratio(ps["messages_per_s"], pm["messages_per_s"])}
rows += [
    ("pipeline messages/s, webhook in -> Graph reply out (memory only)",
     f'{pm["messages_per_s"]:.0f} ({pm["replies"]}/{pm["messages"]} in {pm["seconds"]} s)'),
    ("pipeline mean accept->reply ms (1 connection | saturated)",
     f'{pl["mean_accept_to_reply_ms"]} | {pm["mean_accept_to_reply_ms"]}'),
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

if "instructions_per_webhook" in raw:
    result["instructions_per_accepted_webhook"] = int(raw["instructions_per_webhook"])
    rows.append(("instructions per accepted webhook (callgrind)", raw["instructions_per_webhook"]))

if "slow_10k" in raw:
    result["conversations_10k_robofy_2s"] = {
        "load": raw["slow_10k"], "replies": int(raw["slow_10k_replies"]),
        "drain_s_after_last_post": float(raw["slow_10k_drain_s"]),
        "peak_rss_kb": raw["slow_10k_peak_rss_kb"]}
    s = raw["slow_10k"]
    rows.append(("10k conversations, Robofy 2 s: replies | drain after last POST | peak RSS",
                 f'{raw["slow_10k_replies"]}/10000 | {raw["slow_10k_drain_s"]} s | '
                 f'{raw["slow_10k_peak_rss_kb"] / 1024:.1f} MiB (ingress {s["rps"]:.0f} req/s)'))

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
