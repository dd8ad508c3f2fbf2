"""Driving a server with wrk: one Lua script per run, with per-thread request lists and a count
of nginx's X-Cache-Status answers, so every figure carries its evidence of what was cached."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Optional

LUA = """
local lists = {lists}
local repeat_on_purpose = {repeat_on_purpose}
local headers = {headers}
local threads = {{}}

setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

init = function(args)
  mine = lists[((tid - 1) % #lists) + 1]
  index, laps = 0, 0
  hit, miss, bypass, other, none, exhausted = 0, 0, 0, 0, 0, 0
end

request = function()
  index = index + 1
  if index > #mine then
    index, laps = 1, laps + 1
  end
  -- A distinct-request list that ran out repeats itself: each repeat is counted and spoils the run.
  if laps > 0 and not repeat_on_purpose then exhausted = exhausted + 1 end
  return wrk.format("GET", mine[index], headers)
end

response = function(status, headers, body)
  local cache = headers["X-Cache-Status"]
  if cache == nil then none = none + 1
  elseif cache == "HIT" then hit = hit + 1
  elseif cache == "MISS" then miss = miss + 1
  elseif cache == "BYPASS" then bypass = bypass + 1
  else other = other + 1 end
end

done = function(summary, latency, requests)
  local counts = {{hit = 0, miss = 0, bypass = 0, other = 0, none = 0, exhausted = 0}}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(counts) do counts[key] = counts[key] + thread:get(key) end
  end
  local e = summary.errors
  io.write(string.format('{{"requests": %d, "bytes": %d, "duration_us": %d, "errors": %d, "p50": %d, "p95": %d, '
    .. '"p99": %d, "cache": {{"HIT": %d, "MISS": %d, "BYPASS": %d, "other": %d, "none": %d}}, "exhausted": %d}}\\n',
    summary.requests, summary.bytes, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    counts.hit, counts.miss, counts.bypass, counts.other, counts.none, counts.exhausted))
end
"""


def threads_for(connections: int) -> int:
    """wrk threads per run: one per core at most, and never more than connections."""
    return min(connections, 2)


def write_script(path: Path, lists: list[list[str]], repeat_on_purpose: bool,
                 headers: Optional[dict[str, str]] = None) -> Path:
    """A wrk script where thread i sends lists[i] in order (a single list is shared by all threads),
    each request with `headers` (wrk sends none of its own but Host)."""
    lua_lists = "{" + ",".join("{" + ",".join(json.dumps(p) for p in paths) + "}" for paths in lists) + "}"
    lua_headers = "{" + ",".join(f"[{json.dumps(k)}]={json.dumps(v)}" for k, v in (headers or {}).items()) + "}"
    path.write_text(LUA.format(lists=lua_lists, repeat_on_purpose="true" if repeat_on_purpose else "false",
                               headers=lua_headers))
    return path


def run_wrk(url: str, script: Path, connections: int, duration: int, prefix: tuple[str, ...] = ()) -> dict:
    """wrk's figures for one run; `prefix` runs wrk through another command (bench/link.py's namespace)."""
    command = [*prefix, "wrk", "-t", str(threads_for(connections)), "-c", str(connections), "-d", f"{duration}s",
               "--timeout", "30s", "-s", str(script), url]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = stats["duration_us"] / 1e6
    return {"rps": stats["requests"] / seconds, "p50_ms": stats["p50"] / 1000, "p95_ms": stats["p95"] / 1000,
            "p99_ms": stats["p99"] / 1000, "errors": stats["errors"], "requests": stats["requests"],
            "bytes_per_response": stats["bytes"] / max(stats["requests"], 1),
            "cache": stats["cache"], "exhausted": stats["exhausted"]}


def merge_concurrent(runs: list[dict]) -> dict:
    """Runs that drove different servers at the same time, as one: throughput, requests, errors
    and cache answers add up; a percentile cannot be merged, so each is the worse of the runs'."""
    requests = sum(r["requests"] for r in runs)
    return {"rps": sum(r["rps"] for r in runs), "requests": requests,
            "errors": sum(r["errors"] for r in runs), "exhausted": sum(r["exhausted"] for r in runs),
            "bytes_per_response": sum(r["bytes_per_response"] * r["requests"] for r in runs) / max(requests, 1),
            "cache": {key: sum(r["cache"][key] for r in runs) for key in runs[0]["cache"]},
            **{key: max(r[key] for r in runs) for key in ("p50_ms", "p95_ms", "p99_ms")},
            "worker_cpu_s": sorted(s for r in runs for s in r["worker_cpu_s"]),
            "peak_rss_mb": sum(r["peak_rss_mb"] for r in runs),
            "peak_worker_rss_mb": max(r["peak_worker_rss_mb"] for r in runs)}
