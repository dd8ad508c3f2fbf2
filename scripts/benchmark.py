"""Benchmark geostack's QGIS defaults against the seed's setup and Apache with mod_fcgid, side by side.

    venv/bin/python scripts/benchmark.py                 # writes docs/benchmark/{results.md,results.json,chart.png}
    venv/bin/python scripts/benchmark.py --duration 5 --concurrency 1,4

The setups (bench/setups.py) run one after the other on this machine with Debian's qgis-server:
the seed's recipe, Apache + mod_fcgid as the camptocamp/qgis-server image configures it (same
worker count as geostack), and geostack's image and rendered nginx config. wrk drives each with
C connections for a fixed time per request mix:
  1. distinct GetMap requests (no request repeats in any run or thread: nothing to cache; the
     run is rejected unless nginx answered every one with MISS or BYPASS),
  2. 256x256 tiles from a fixed set with zipf-like popularity,
  3. GetCapabilities.
A run that fails the sanity checks in bench/report.py is written to build/ and not published.
Needs: wrk, apache2 and libapache2-mod-fcgid besides what scripts/test.sh installs
(`apt-get install wrk apache2 libapache2-mod-fcgid`).
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

from offline.loopback import declared_dev_stack, qgis_workers  # noqa: E402
from offline.program_run import STACKS  # noqa: E402
from bench.report import MIXES, cache_evidence, chart, markdown, sanity_errors  # noqa: E402
from bench.setups import apache_setup, geostack_setup, seed_setup  # noqa: E402
from bench.sequences import UniqueRequests, getmap_path, random_getmap  # noqa: E402
from bench.wrk import run_wrk, threads_for, write_script  # noqa: E402

OUT = PROJECT_ROOT / "docs" / "benchmark"
DATA = PROJECT_ROOT / "data"
EXTENT = (1112694.9, 6445775.8, 1123713.7, 6460642.0)  # the sample's WMS extent, EPSG:3857
WORLD = 20037508.342789244
LAYERS = "parks,sites"
CAPABILITIES = "/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"
REJECTED = PROJECT_ROOT / "build" / "benchmark-rejected.json"

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
    return [getmap_path((x, y, x + size, y + size), 256, LAYERS) for x, y in picks]


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
    with RssSampler(session) as rss:
        stats = run_wrk(url, script, connections, duration)
    return {**stats, "peak_rss_mb": rss.peak / 1024}


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
    # One generator for the whole benchmark: no GetMap is sent twice, in any run or thread.
    distinct = UniqueRequests(random_getmap(EXTENT, tile=1500, size=256, layers=LAYERS))
    with tempfile.TemporaryDirectory() as work:
        def script(mix: str, connections: int) -> Path:
            path = Path(work) / f"{mix}-{connections}.lua"
            if mix == "getmap":  # enough for the fastest rate seen here, ~250 req/s per thread
                return write_script(path, distinct.run(threads_for(connections), duration * 500), False)
            paths = tile_paths() if mix == "tiles" else [CAPABILITIES]
            return write_script(path, [paths], True)

        project = DATA / "sample.qgs"
        setups = {"seed": lambda: seed_setup(project),
                  "apache": lambda: apache_setup(project, workers=len(os.sched_getaffinity(0))),
                  "geostack": lambda: geostack_setup(declared, DATA, project)}
        for name, setup in setups.items():
            results["setups"][name] = {}
            with setup() as (url, session):
                warm_up = write_script(Path(work) / "warm-up.lua", distinct.run(2, 400), False)
                run_wrk(url, warm_up, 4, 3)  # the project loaded in every worker
                results["setups"][name]["workers"] = len(qgis_workers(session))
                for mix in MIXES:
                    for connections in concurrencies:
                        print(f"{name:9s} {mix:13s} C={connections:<3d}", end=" ", flush=True)
                        stats = drive(url, script(mix, connections), connections, duration, session)
                        results["setups"][name][f"{mix}@{connections}"] = stats
                        print(f"{stats['rps']:8.1f} req/s  p95 {stats['p95_ms']:7.1f} ms  errors {stats['errors']}"
                              f"  cache {cache_evidence(stats)}")
    results["program_seconds"] = program_speed()
    return results


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
    for tool, package in (("wrk", "wrk"), ("apache2", "apache2"), ("/usr/lib/apache2/modules/mod_fcgid.so",
                                                                     "libapache2-mod-fcgid")):
        if not shutil.which(tool) and not Path(tool).exists():
            parser.error(f"{tool} is missing: apt-get install {package}")
    results = run(args.duration, [int(c) for c in args.concurrency.split(",")])
    errors = sanity_errors(results)
    if errors:
        REJECTED.parent.mkdir(parents=True, exist_ok=True)
        REJECTED.write_text(json.dumps(results, indent=1) + "\n")
        print("not published: the run fails its sanity checks (results in " f"{REJECTED}):", *errors, sep="\n  ")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    chart(results, args.out / "chart.png")
    print(markdown(results))
    return 0

if __name__ == "__main__":
    sys.exit(main())
