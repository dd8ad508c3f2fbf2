"""Benchmark geostack's QGIS defaults against the seed's setup, side by side on this machine.

    venv/bin/python scripts/benchmark.py                 # writes docs/benchmark/{results.md,results.json,chart.png}
    venv/bin/python scripts/benchmark.py --duration 5 --concurrency 1,4

(a) the seed: one FastCGI process (`spawn-fcgi -n`) behind the seed's nginx block, no cache;
(b) geostack: the image's cmd.sh with the env the dev stack declares (one worker per CPU)
behind the nginx config the program renders (with its map cache).
Both serve data/sample.qgs with Debian's qgis-server and nginx on loopback. wrk drives
each with C connections for a fixed time per request mix:
  1. distinct GetMap requests (every bbox different: nothing to cache),
  2. 256x256 tiles from a fixed set with zipf-like popularity,
  3. GetCapabilities.
Needs: wrk, qgis-server, spawn-fcgi, multiwatch, xvfb, nginx (scripts/test.sh installs all but wrk:
`apt-get install wrk`).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from offline.loopback import (declared_dev_stack, free_port, loopback_nginx_conf, nginx, qgis_server, qgis_workers,  # noqa: E402
                              scratch_dir, stop_group, wait_until)
from offline.program_run import STACKS  # noqa: E402

OUT = PROJECT_ROOT / "docs" / "benchmark"
DATA = PROJECT_ROOT / "data"
EXTENT = (1112694.9, 6445775.8, 1123713.7, 6460642.0)  # the sample's WMS extent, EPSG:3857
WORLD = 20037508.342789244
MIXES = ("getmap", "tiles", "capabilities")

SEED_NGINX = """pid {scratch}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {scratch}/body; fastcgi_temp_path {scratch}/fastcgi;
  proxy_temp_path {scratch}/proxy; uwsgi_temp_path {scratch}/uwsgi; scgi_temp_path {scratch}/scgi;
  # The seed's block, verbatim but for the listen address and upstream.
  server {{
    listen 127.0.0.1:{port};
    server_name _;
    location = /healthz {{ return 200; }}
    location /qgis-server {{
      proxy_buffers 16 16k;
      proxy_buffer_size 16k;
      gzip off;
      include fastcgi_params;
      fastcgi_pass 127.0.0.1:{qgis_port};
    }}
  }}
}}
"""

WRK_SCRIPT = """
local paths = {paths}
local random_bbox = {random_bbox}
local counter = 0
local threads = 0

-- Each wrk thread gets its own seed and starting point; otherwise threads would repeat
-- each other's "distinct" requests and hit the cache.
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

init = function(args)
  math.randomseed({seed} + tid * 7919)
  counter = tid * 1000
end

request = function()
  counter = counter + 1
  if random_bbox then
    local x = {x0} + math.random() * {span_x}
    local y = {y0} + math.random() * {span_y}
    local size = {tile}
    return wrk.format("GET", string.format(
      "/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=parks,sites&STYLES=&CRS=EPSG:3857"
      .. "&WIDTH=256&HEIGHT=256&FORMAT=image/png&BBOX=%.3f,%.3f,%.3f,%.3f", x, y, x + size, y + size))
  end
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{{"requests": %d, "duration_us": %d, "errors": %d, "p50": %d, "p95": %d, "p99": %d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def tile_paths(count: int = 4000, zoom: int = 14, seed: int = 7) -> list[str]:
    """A fixed set of 256x256 tiles over the sample, requested with zipf-like popularity."""
    size = 2 * WORLD / 2**zoom
    tiles = []
    x = EXTENT[0] - EXTENT[0] % size
    while x < EXTENT[2]:
        y = EXTENT[1] - EXTENT[1] % size
        while y < EXTENT[3]:
            tiles.append((x, y))
            y += size
        x += size
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(tiles))]
    picks = rng.choices(tiles, weights=weights, k=count)
    return [("/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=parks,sites&STYLES=&CRS=EPSG:3857"
             f"&WIDTH=256&HEIGHT=256&FORMAT=image/png&BBOX={x:.3f},{y:.3f},{x + size:.3f},{y + size:.3f}")
            for x, y in picks]


def wrk_script(mix: str, directory: Path) -> Path:
    if mix == "tiles":
        paths = tile_paths()
    else:
        paths = ["/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"]
    lua = "{" + ",".join(json.dumps(p) for p in paths) + "}"
    script = WRK_SCRIPT.format(paths=lua, random_bbox="true" if mix == "getmap" else "false",
                               seed=random.randrange(1 << 30), x0=EXTENT[0], y0=EXTENT[1],
                               span_x=EXTENT[2] - EXTENT[0] - 1500, span_y=EXTENT[3] - EXTENT[1] - 1500, tile=1500)
    path = directory / f"{mix}.lua"
    path.write_text(script)
    return path


class RssSampler:
    """Peak resident memory summed over a server's QGIS worker processes."""

    def __init__(self, session: int):
        self.session, self.peak, self._stop = session, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            total = 0
            for pid in qgis_workers(self.session):
                with contextlib.suppress(OSError):
                    status = Path(f"/proc/{pid}/status").read_text()
                    total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def drive(url: str, script: Path, connections: int, duration: int, session: int) -> dict:
    command = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{duration}s",
               "--timeout", "30s", "-s", str(script), url]
    with RssSampler(session) as rss:
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = stats["duration_us"] / 1e6
    return {"rps": stats["requests"] / seconds, "p50_ms": stats["p50"] / 1000, "p95_ms": stats["p95"] / 1000,
            "p99_ms": stats["p99"] / 1000, "errors": stats["errors"], "requests": stats["requests"],
            "peak_rss_mb": rss.peak / 1024}


@contextlib.contextmanager
def seed_setup(declared_env: dict[str, str]):
    """The seed's recipe: one spawn-fcgi process, the seed's nginx block, no cache."""
    qgis_port, port = free_port(), free_port()
    with scratch_dir("bench-seed-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QGIS_")}
        env.update({"QGIS_PROJECT_FILE": str(DATA / "sample.qgs"), "QGIS_SERVER_LOG_STDERR": "1",
                    "QGIS_SERVER_LOG_LEVEL": "2", "HOME": str(scratch)})
        log = open(scratch / "qgis.log", "wb")
        process = subprocess.Popen(
            ["xvfb-run", "--auto-servernum", "spawn-fcgi", "-p", str(qgis_port), "-a", "127.0.0.1", "-n", "-d",
             str(scratch), "--", "/usr/lib/cgi-bin/qgis_mapserv.fcgi"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: _port_open(qgis_port), 60, "seed QGIS")
            conf = SEED_NGINX.format(scratch=scratch, port=port, qgis_port=qgis_port)
            with nginx(conf, port, scratch) as url:
                yield url, process.pid
        finally:
            stop_group(process)
            log.close()


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def geostack_setup(declared: dict):
    qgis_port, port = free_port(), free_port()
    with qgis_server(declared["env"], Path(declared["data_dir"]), qgis_port) as qgis, \
            scratch_dir("bench-geostack-") as scratch:
        conf = loopback_nginx_conf(declared["nginx_conf"], port, declared["upstream"], qgis_port, scratch)
        with nginx(conf, port, scratch) as url:
            yield url, qgis["process"].pid


def program_speed() -> dict[str, float]:
    """Seconds to run the whole program under mocks per stack, in a fresh interpreter (imports included)."""
    timings = {}
    for stack in STACKS:
        code = ("import time; start = time.monotonic(); from offline.program_run import run_program; "
                f"run_program({stack!r}); print(time.monotonic() - start)")
        result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                                check=True)
        timings[stack] = float(result.stdout.strip().splitlines()[-1])
    return timings


def run(duration: int, concurrencies: list[int]) -> dict:
    results = {"cores": os.cpu_count(), "duration_s": duration, "setups": {}}
    declared = declared_dev_stack()
    with tempfile.TemporaryDirectory() as work:
        scripts = {mix: wrk_script(mix, Path(work)) for mix in MIXES}
        for name, setup in (("seed", lambda: seed_setup(declared["env"])), ("geostack", lambda: geostack_setup(declared))):
            results["setups"][name] = {}
            with setup() as (url, session):
                results["setups"][name]["workers"] = len(qgis_workers(session))
                subprocess.run(["wrk", "-t", "1", "-c", "2", "-d", "2s", "-s", str(scripts["getmap"]), url],
                               capture_output=True, check=True)  # warm-up: project loaded in every worker
                for mix in MIXES:
                    for connections in concurrencies:
                        print(f"{name:9s} {mix:13s} C={connections:<3d}", end=" ", flush=True)
                        stats = drive(url, scripts[mix], connections, duration, session)
                        results["setups"][name][f"{mix}@{connections}"] = stats
                        print(f"{stats['rps']:8.1f} req/s  p95 {stats['p95_ms']:7.1f} ms  errors {stats['errors']}")
    results["program_seconds"] = program_speed()
    return results


def ratios(results: dict) -> dict[str, float]:
    seed, ours = results["setups"]["seed"], results["setups"]["geostack"]
    return {key: ours[key]["rps"] / seed[key]["rps"] for key in seed if "@" in key}


def targets(results: dict) -> list[tuple[str, bool, str]]:
    r = ratios(results)
    seed, ours = results["setups"]["seed"], results["setups"]["geostack"]
    errors = sum(s[k]["errors"] for s in (seed, ours) for k in s if "@" in k)
    checks = []
    if "getmap@4" in r:
        checks.append(("uncached GetMap throughput >= 1.8x the seed's at C=4", r["getmap@4"] >= 1.8,
                       f"{r['getmap@4']:.2f}x"))
    if "tiles@16" in r:
        checks.append(("repeated-tile throughput >= 20x the seed's at C=16", r["tiles@16"] >= 20,
                       f"{r['tiles@16']:.1f}x"))
        worse = {m: ours[f"{m}@16"]["p95_ms"] <= seed[f"{m}@16"]["p95_ms"] for m in MIXES}
        checks.append(("p95 latency at C=16 no worse than the seed's", all(worse.values()),
                       ", ".join(f"{m}: {ours[f'{m}@16']['p95_ms']:.0f} vs {seed[f'{m}@16']['p95_ms']:.0f} ms"
                                 for m in MIXES)))
    checks.append(("zero errors in every run", errors == 0, f"{errors} errors"))
    # "Well under 2 s": a fresh interpreter, SDK imports included, in at most 1.5 s.
    checks.append(("program under mocks well under 2 s per stack (cold, at most 1.5 s)",
                   max(results["program_seconds"].values()) <= 1.5,
                   ", ".join(f"{s} {t:.2f} s" for s, t in results["program_seconds"].items())))
    return checks


def markdown(results: dict) -> str:
    seed, ours = results["setups"]["seed"], results["setups"]["geostack"]
    r = ratios(results)
    lines = [f"Measured on {results['cores']} cores, {results['duration_s']} s per run; seed: "
             f"{seed['workers']} QGIS process, geostack: {ours['workers']} processes + nginx cache.", "",
             "| mix | C | seed req/s | geostack req/s | ratio | seed p50/p95/p99 ms | geostack p50/p95/p99 ms "
             "| errors (seed/geostack) | peak QGIS RSS MB (seed/geostack) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key in (k for k in seed if "@" in k):
        mix, connections = key.split("@")
        s, o = seed[key], ours[key]
        lines.append(f"| {mix} | {connections} | {s['rps']:.1f} | {o['rps']:.1f} | {r[key]:.2f}x | "
                     f"{s['p50_ms']:.0f} / {s['p95_ms']:.0f} / {s['p99_ms']:.0f} | "
                     f"{o['p50_ms']:.0f} / {o['p95_ms']:.0f} / {o['p99_ms']:.0f} | {s['errors']} / {o['errors']} | "
                     f"{s['peak_rss_mb']:.0f} / {o['peak_rss_mb']:.0f} |")
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if met else '**no**'} | {detail} |" for name, met, detail in targets(results)]
    return "\n".join(lines) + "\n"


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seed, ours = results["setups"]["seed"], results["setups"]["geostack"]
    keys = [k for k in seed if "@" in k]
    figure, axes = plt.subplots(1, len(MIXES), figsize=(12, 4))
    for axis, mix in zip(axes, MIXES):
        mine = [k for k in keys if k.startswith(mix + "@")]
        labels = [k.split("@")[1] for k in mine]
        positions = range(len(mine))
        axis.bar([p - 0.2 for p in positions], [seed[k]["rps"] for k in mine], 0.4, label="seed setup")
        axis.bar([p + 0.2 for p in positions], [ours[k]["rps"] for k in mine], 0.4, label="geostack")
        axis.set_xticks(list(positions), [f"C={c}" for c in labels])
        axis.set_title(mix)
        axis.set_ylabel("requests/s")
        axis.set_yscale("log")
    axes[0].legend()
    figure.suptitle(f"QGIS Server through nginx on {results['cores']} cores: seed setup vs geostack defaults")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def rewrite_reports(out: Path) -> None:
    """Regenerate results.md and chart.png from results.json (no new measurements)."""
    results = json.loads((out / "results.json").read_text())
    (out / "results.md").write_text(markdown(results))
    chart(results, out / "chart.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated connection counts")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        parser.error("wrk is missing: apt-get install wrk")
    results = run(args.duration, [int(c) for c in args.concurrency.split(",")])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    chart(results, args.out / "chart.png")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
