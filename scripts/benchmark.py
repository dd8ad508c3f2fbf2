"""Benchmark geostack's QGIS defaults against the seed's setup and Apache with mod_fcgid, side by side.

    venv/bin/python scripts/benchmark.py                   # heavy project: docs/benchmark/heavy/
    venv/bin/python scripts/benchmark.py --workload quick  # the small sample: docs/benchmark/quick/
    venv/bin/python scripts/benchmark.py --duration 5 --concurrency 1,4 --out /tmp/bench
    venv/bin/python scripts/benchmark.py --workload quick --variant nginxCacheMinUses=2

The setups (bench/setups.py) run one after the other on this machine with Debian's qgis-server:
the seed's recipe, Apache + mod_fcgid as the camptocamp/qgis-server image configures it (same
worker count as geostack), and geostack's image and rendered nginx config; for uncached GetMap,
also two independent seeds at once (C/2 connections each), what two workers that share nothing
but the machine get out of it. wrk drives each with
C connections for a fixed time per request mix of the workload (bench/workloads.py): distinct
mixes never repeat a request in any run or thread, and a run is rejected unless nginx answered
every one of them with MISS or BYPASS; repeated mixes (a tile pyramid with realistic
popularity, the legend, GetCapabilities) may be cached.
A run that fails the sanity checks in bench/report.py is written to build/ and not published.
Needs: wrk, apache2 and libapache2-mod-fcgid besides what scripts/test.sh installs
(`apt-get install wrk apache2 libapache2-mod-fcgid`).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from offline.loopback import declared_dev_stack, http_get, qgis_workers  # noqa: E402
from offline.program_run import STACKS  # noqa: E402
from bench.report import PAIR, cache_evidence, chart, combine_rounds, markdown, sanity_errors  # noqa: E402
from bench.link import shaped_link  # noqa: E402
from bench.sampling import WorkerSampler  # noqa: E402
from bench.setups import STATIC_PATH, STATIC_TILES, apache_setup, geostack_setup, seed_setup  # noqa: E402
from bench.sequences import UniqueRequests  # noqa: E402
from bench.workloads import Workload, heavy, quick  # noqa: E402
from bench.wrk import merge_concurrent, run_wrk, threads_for, write_script  # noqa: E402

OUT = PROJECT_ROOT / "docs" / "benchmark"
HEAVY_PROJECT = PROJECT_ROOT / "build" / "heavy-project"
REJECTED = PROJECT_ROOT / "build" / "benchmark-rejected.json"
# Distinct requests per wrk thread and second of a run: above the fastest rate seen here
# (~900 req/s from one thread for the heavy project's GetFeatureInfo), so a list never runs out.
DISTINCT_PER_THREAD_SECOND = 1500
CEILING_PAIRS, CEILING_SECONDS = 10, 2
# The mix the machine's own two-worker ceiling is measured for: two independent seeds at once.
PAIR_MIX = "getmap"


def drive(url: str, script: Path, connections: int, duration: int, session: int,
          prefix: tuple[str, ...] = ()) -> dict:
    with WorkerSampler(session) as workers:
        stats = run_wrk(url, script, connections, duration, prefix)
    return {**stats, "peak_rss_mb": workers.peak_total_kb / 1024,
            "peak_worker_rss_mb": workers.peak_worker_kb / 1024, "worker_cpu_s": workers.worker_cpu_seconds()}


def drive_concurrently(servers: list[tuple[str, int]], scripts: list[Path], connections: int,
                       duration: int, prefix: tuple[str, ...] = ()) -> dict:
    """Each server driven by its own wrk with `connections` at the same time, merged into one run."""
    with ThreadPoolExecutor(len(servers)) as pool:
        stats = list(pool.map(lambda server, script: drive(server[0], script, connections, duration, server[1],
                                                           prefix), servers, scripts))
    return {**merge_concurrent(stats), "servers": stats}


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


def proxy_ceiling(url: str, hot_tiles: list[str], work: Path, concurrencies: list[int]) -> dict:
    """Cached tiles against the proxy's own ceiling, from the same nginx: one static file as large
    as their average response (the issue's yardstick), and the same tiles' bytes as static files
    requested in the same order. One file stays hot in the CPU's caches; a hundred heavy tiles
    (~90 KB each) don't, whether nginx's cache or the file system holds them, so only the second
    compares the cache with static serving alone. Loopback throughput on this shared machine
    swings by +-15% from one 5 s run to the next, so each C is measured as CEILING_PAIRS short runs
    of each kind, one right after the other; each share is the median of those back-to-back pairs."""
    warm = write_script(work / "hot-warm.lua", [hot_tiles], repeat_on_purpose=False)
    run_wrk(url, warm, 1, 1 + len(hot_tiles) // 5)  # every hot tile rendered once, into the cache
    hot = write_script(work / "hot.lua", [hot_tiles], repeat_on_purpose=True)
    size = round(run_wrk(url, hot, 1, 1)["bytes_per_response"])
    (work / "static.png").write_bytes(os.urandom(size))  # incompressible, like a PNG
    (work / "tiles").mkdir(mode=0o755)
    for index, path in enumerate(hot_tiles):
        status, _, body = http_get(url + path)
        assert status == 200, f"hot tile {path}: HTTP {status}"
        (work / "tiles" / f"{index}.png").write_bytes(body)
    kinds = {"cached": hot,
             "static": write_script(work / "static.lua", [[STATIC_PATH]], repeat_on_purpose=True),
             "tiles": write_script(work / "tiles.lua", [[f"{STATIC_TILES}{i}.png" for i in range(len(hot_tiles))]],
                                   repeat_on_purpose=True)}
    ceiling: dict = {"bytes": size, "pair_seconds": CEILING_SECONDS}
    for connections in concurrencies:
        turns = [{kind: run_wrk(url, script, connections, CEILING_SECONDS) for kind, script in kinds.items()}
                 for _ in range(CEILING_PAIRS)]
        for kind in kinds:
            ceiling[f"{kind}@{connections}"] = combine_rounds([turn[kind] for turn in turns])
        for share, kind in (("share", "static"), ("tiles_share", "tiles")):
            ceiling[f"{share}@{connections}"] = statistics.median(
                turn["cached"]["rps"] / turn[kind]["rps"] for turn in turns)
        print(f"geostack  cached tiles C={connections:<3d} {ceiling[f'cached@{connections}']['rps']:8.1f} req/s "
              f"({cache_evidence(ceiling[f'cached@{connections}'])}); static file "
              f"{ceiling[f'static@{connections}']['rps']:8.1f} req/s, "
              f"median pair {ceiling[f'share@{connections}']:.0%}; "
              f"same tiles as files {ceiling[f'tiles@{connections}']['rps']:8.1f} req/s, "
              f"median pair {ceiling[f'tiles_share@{connections}']:.0%}")
    return ceiling


def run(workload: Workload, duration: int, concurrencies: list[int], rounds: int,
        variants: dict[str, str], link: Optional[tuple[int, int]] = None, gzip: bool = False) -> dict:
    results = {"workload": workload.name, "cores": os.cpu_count(), "duration_s": duration, "rounds": rounds,
               "mixes": [m.name for m in workload.mixes], "uncached": [m.name for m in workload.mixes if m.distinct],
               "variants": list(variants), "accept_gzip": gzip, "setups": {}}
    # What a browser or QGIS Desktop sends; without it nginx compresses nothing.
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    declared = declared_dev_stack()
    # Every setup gets the same requests per mix, C and round, so they do the same work. Distinct
    # mixes come from one generator each: no request repeats between the warm-up and any run,
    # round or thread.
    distinct = {m.name: UniqueRequests(m.draw) for m in workload.mixes if m.distinct}
    lists = {(mix, c, r): distinct[mix].run(threads_for(c), duration * DISTINCT_PER_THREAD_SECOND)
             for mix in distinct for c in concurrencies for r in range(rounds)}
    # The two independent seeds share each C: C/2 connections and a fresh list each.
    pair_lists = {(c, r): [distinct[PAIR_MIX].run(threads_for(c // 2), duration * DISTINCT_PER_THREAD_SECOND)
                           for _ in range(2)]
                  for c in concurrencies if c >= 2 for r in range(rounds)}
    warm_up_list = distinct["getmap"].run(2, 100)
    mixes = {m.name: m for m in workload.mixes}
    project, data_dir, cores = workload.project, workload.data_dir, len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as running:
        Path(work).chmod(0o755)  # nginx's workers (nobody) read the ceiling's static file from here

        def script(mix: str, connections: int, round_: int) -> Path:
            path = Path(work) / f"{mix}-{connections}-{round_}.lua"
            if mix in distinct:
                return write_script(path, lists[(mix, connections, round_)], False, headers)
            return write_script(path, [mixes[mix].paths], True, headers)

        # All setups run at once (an idle one costs nothing) and take turns, so a slow minute of
        # this shared machine hits all of them and not just whichever ran then.
        servers = {"seed": running.enter_context(seed_setup(project)),
                   "apache": running.enter_context(apache_setup(project, workers=cores)),
                   "geostack": running.enter_context(
                       geostack_setup(declared, data_dir, project, Path(work)))}
        # geostack with one config value changed, in the same turns: a trade measured side by side.
        for name, setting in variants.items():
            key, value = setting.split("=", 1)
            servers[name] = running.enter_context(geostack_setup(
                declared_dev_stack({f"geostack:{key}": value}), data_dir, project, Path(work)))
        # A second seed beside the first: the two at once show what two independent workers
        # get out of this machine, the ceiling geostack's two workers are up against.
        pair = [servers["seed"], running.enter_context(seed_setup(project))]
        prefix: tuple[str, ...] = ()
        if link:  # wrk at the far end of a shaped link, every server behind the link's relay
            shaped = running.enter_context(shaped_link(*link))
            servers = {name: (shaped.forward(url), session) for name, (url, session) in servers.items()}
            pair = [(shaped.forward(url), session) for url, session in pair]
            prefix = shaped.prefix
            results["link"] = {"rate_mbit": link[0], "rtt_ms": link[1]}
        # mod_fcgid starts and retires workers as it goes, so its count is the configured one.
        configured_workers = {"seed": 1, "apache": cores}
        warm_up = write_script(Path(work) / "warm-up.lua", warm_up_list, False, headers)
        for name, (url, session) in servers.items():
            run_wrk(url, warm_up, 4, 5, prefix)  # the project loaded in every worker
            results["setups"][name] = {"workers": configured_workers.get(name) or len(qgis_workers(session))}
        run_wrk(pair[1][0], warm_up, 4, 5, prefix)
        results["setups"][PAIR] = {"workers": len(pair)}

        def drive_pair(connections: int, round_: int) -> dict:
            scripts = [write_script(Path(work) / f"{PAIR_MIX}-{connections}-{round_}-pair{index}.lua", lists, False,
                                    headers)
                       for index, lists in enumerate(pair_lists[(connections, round_)])]
            return drive_concurrently(pair, scripts, connections // 2, duration, prefix)
        for mix in results["mixes"]:
            for connections in concurrencies:
                names = [*servers, *([PAIR] if mix == PAIR_MIX and connections >= 2 else [])]
                measured: dict[str, list[dict]] = {name: [] for name in names}
                # Distinct mixes are measured `rounds` times, the order of setups turning each round;
                # a repeated mix once, since a cache is warmer every time it is asked again.
                for round_ in range(rounds if mix in distinct else 1):
                    for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                        if name == PAIR:
                            measured[name].append(drive_pair(connections, round_))
                            continue
                        url, session = servers[name]
                        measured[name].append(drive(url, script(mix, connections, round_), connections, duration,
                                                    session, prefix))
                for name, stats in measured.items():
                    results["setups"][name][f"{mix}@{connections}"] = combined = combine_rounds(stats)
                    print(f"{name:9s} {mix:13s} C={connections:<3d} {combined['rps']:8.1f} req/s"
                          f"  p95 {combined['p95_ms']:7.1f} ms  errors {combined['errors']}"
                          f"  cache {cache_evidence(combined)}"
                          + (f"  rounds {[round(s['rps'], 1) for s in stats]}" if len(stats) > 1 else ""))
        if not link:  # the proxy's own ceiling is a loopback figure
            url, _ = servers["geostack"]
            results["ceiling"] = proxy_ceiling(url, workload.hot_tiles, Path(work), concurrencies)
    results["program_seconds"] = program_speed()
    return results


def rewrite_reports(out: Path) -> None:
    """Regenerate results.md and chart.png from results.json (no new measurements)."""
    results = json.loads((out / "results.json").read_text())
    (out / "results.md").write_text(markdown(results))
    chart(results, out / "chart.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("heavy", "quick"), default="heavy")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated connection counts")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each distinct mix; the median is reported (default 3)")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                        help="also run geostack with this config value (e.g. nginxCacheMinUses=2), in the same "
                             "turns; repeatable")
    parser.add_argument("--link", metavar="MBIT,RTT_MS",
                        help="drive the setups across a shaped link (bench/link.py), e.g. 50,20: 50 Mbit/s each "
                             "way and 20 ms of round-trip time; default: loopback")
    parser.add_argument("--gzip", action="store_true",
                        help="send Accept-Encoding: gzip with every request, as browsers and QGIS Desktop do "
                             "(geostack's nginx then compresses XML and JSON; the seed's has gzip off)")
    parser.add_argument("--out", type=Path,
                        help="default: docs/benchmark/<workload>[-gzip][-link]/")
    args = parser.parse_args()
    for tool, package in (("wrk", "wrk"), ("apache2", "apache2"),
                          ("/usr/lib/apache2/modules/mod_fcgid.so", "libapache2-mod-fcgid")):
        if not shutil.which(tool) and not Path(tool).exists():
            parser.error(f"{tool} is missing: apt-get install {package}")
    if args.workload == "heavy" and not (HEAVY_PROJECT / "heavy.json").exists():
        parser.error(f"{HEAVY_PROJECT} is missing: /usr/bin/python3 scripts/make_heavy_project.py")
    workload = heavy(HEAVY_PROJECT) if args.workload == "heavy" else quick()
    out = args.out or OUT / (workload.name + ("-gzip" if args.gzip else "") + ("-link" if args.link else ""))
    variants = {}
    for setting in args.variant:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*=\S+", setting):
            parser.error(f"--variant takes KEY=VALUE (a geostack config key without its prefix), got {setting!r}")
        variants[f"geostack {setting}"] = setting
    link = None
    if args.link:
        if not re.fullmatch(r"[1-9][0-9]*,[1-9][0-9]*", args.link):
            parser.error(f"--link takes MBIT,RTT_MS (two positive whole numbers), got {args.link!r}")
        link = tuple(int(v) for v in args.link.split(","))
    results = run(workload, args.duration, [int(c) for c in args.concurrency.split(",")], args.rounds, variants, link,
                  args.gzip)
    errors = sanity_errors(results)
    if errors:
        REJECTED.parent.mkdir(parents=True, exist_ok=True)
        REJECTED.write_text(json.dumps(results, indent=1) + "\n")
        print(f"not published: the run fails its sanity checks (results in {REJECTED}):", *errors, sep="\n  ")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    rewrite_reports(out)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
