"""What a benchmark run reports: ratios, targets, sanity checks, the markdown table and chart.

The sanity checks reject a run rather than publish a figure that cannot be true: an uncached
mix that nginx answered from its cache, a distinct-request list that ran out and repeated, a
speed-up above the physical limit (N workers on N cores give at most N times one worker), or a
proxy ceiling measured on failed or short responses.
"""
from __future__ import annotations

from pathlib import Path

MIXES = ("getmap", "tiles", "capabilities")
BASELINES = ("seed", "apache")  # what geostack is compared with, in the order reported
UNCACHED = ("getmap",)  # mixes whose every request must reach QGIS
# Two independent seed servers driven at once with C/2 connections each: what two workers that
# share nothing but the machine get out of it, the ceiling geostack's two workers are up against.
PAIR = "two seeds"
# Run-to-run noise on a shared 2-core machine; a ratio beyond limit x this is a measurement bug.
NOISE = 1.05


def runs(setup: dict) -> dict[str, dict]:
    return {key: stats for key, stats in setup.items() if "@" in key}


def combine_rounds(rounds: list[dict]) -> dict:
    """The round with the median throughput, with every round kept as evidence."""
    median = sorted(rounds, key=lambda stats: stats["rps"])[(len(rounds) - 1) // 2]
    return {**median, "rounds": rounds} if len(rounds) > 1 else median


def each_round(stats: dict) -> list[dict]:
    return stats.get("rounds") or [stats]


def baselines(results: dict) -> list[str]:
    return [name for name in BASELINES if name in results["setups"]]


def _ratio(ours: dict, base: dict) -> float:
    return ours["rps"] / base["rps"] if base["rps"] else float("inf")


def ratios(results: dict, baseline: str = "seed") -> dict[str, float]:
    base, ours = results["setups"][baseline], results["setups"]["geostack"]
    return {key: _ratio(ours[key], base[key]) for key in runs(base)}


def cpu_ms_per_request(stats: dict) -> float:
    """QGIS CPU time per completed request, from the workers' /proc counters."""
    return 1000 * sum(stats.get("worker_cpu_s") or [0]) / max(stats["requests"], 1)


def physical_limit(results: dict, key: str, baseline: str = "seed", round_: int | None = None,
                   ours: str = "geostack") -> float:
    """The most a setup (geostack unless named) can gain over a baseline on an uncached mix, the
    lower of two bounds. Workers: each of ours is at most as fast as one of the baseline's (faster
    only by needing less CPU per request, as measured), and at most C of them are busy. Cores:
    ours cannot spend more CPU than the machine has. (With workers <= cores and a CPU-bound
    baseline, this is "N workers on N cores do at most N times one worker's work"; QGIS 3.40's
    workers also idle ~10 ms per request, which more workers than cores can fill.) With `round_`,
    the limit for that round's pair of runs."""
    connections = int(key.split("@")[1])
    base, ours = results["setups"][baseline], results["setups"][ours]
    base_run, our_run = (base[key], ours[key]) if round_ is None else (
        each_round(base[key])[round_], each_round(ours[key])[round_])
    our_cpu = cpu_ms_per_request(our_run)
    # Needing more CPU than the baseline does not make a worker that mostly waits any slower.
    cheaper = max(1.0, cpu_ms_per_request(base_run) / our_cpu) if our_cpu else 1
    workers = min(connections, ours["workers"]) / min(connections, base["workers"]) * cheaper
    cores = results["cores"] * 1000 / (our_cpu * base_run["rps"]) if our_cpu and base_run["rps"] else workers
    return min(workers, cores)


def sanity_errors(results: dict) -> list[str]:
    errors = []
    for name, setup in results["setups"].items():
        for key, combined in runs(setup).items():
            for stats in each_round(combined):
                errors += _run_errors(f"{name} {key}", stats, key.split("@")[0] in results.get("uncached", UNCACHED))
    ceiling = results.get("ceiling", {})
    for key, stats in ((key, stats) for key, combined in ceiling.items() if isinstance(combined, dict)
                       for stats in each_round(combined)):
        if key.startswith("cached@") and stats["cache"]["HIT"] < stats["requests"]:
            errors.append(f"geostack {key}: only {stats['cache']['HIT']} of {stats['requests']} hot tiles were HIT")
        # The ceiling is only a ceiling if it served the file: an error page is smaller and faster.
        if stats["errors"] or not stats["requests"]:
            errors.append(f"geostack {key}: {stats['errors']} of {stats['requests']} requests failed")
        elif key.startswith(("static@", "tiles@")) and stats["bytes_per_response"] < ceiling["bytes"]:
            errors.append(f"geostack {key}: {stats['bytes_per_response']:.0f} bytes per response, "
                          f"not the {ceiling['bytes']} bytes of the static files")
    # The limit holds against the seed: its one worker is busy whenever a request waits, so
    # geostack's N workers can at most do N times its work. (Apache's workers sit idle while
    # mod_fcgid respawns them, so geostack may beat it by more than the worker ratio.)
    # Checked for every round's pair of runs as well as for the medians, and for the two
    # independent seeds as well as for geostack.
    seed = results["setups"]["seed"]
    for name in (n for n in ("geostack", PAIR, *results.get("variants", ())) if n in results["setups"]):
        ours = results["setups"][name]
        for key in (k for k in runs(ours) if k in seed and k.split("@")[0] in results.get("uncached", UNCACHED)):
            pairs = [(None, _ratio(ours[key], seed[key]))] + [
                (index, _ratio(mine, theirs))
                for index, (theirs, mine) in enumerate(zip(each_round(seed[key]), each_round(ours[key])))]
            for index, ratio in pairs:
                limit = physical_limit(results, key, "seed", index, ours=name)
                if ratio > limit * NOISE:
                    where = key if index is None else f"{key} round {index + 1}"
                    errors.append(f"{name} {where}: {ratio:.2f}x the seed's is above the physical limit of "
                                  f"{limit:.2f}x ({results['cores']} cores, workers and CPU per request): "
                                  "a measurement bug")
    # No setup's workers can use more CPU than the machine has.
    for name, setup in results["setups"].items():
        for key, stats in ((key, stats) for key, combined in runs(setup).items() for stats in each_round(combined)):
            used = sum(stats.get("worker_cpu_s") or [0])
            if used > results["cores"] * results["duration_s"] * NOISE:
                errors.append(f"{name} {key}: workers used {used:.1f} CPU s in {results['duration_s']} s "
                              f"on {results['cores']} cores: a measurement bug")
    return errors


def _run_errors(where: str, stats: dict, uncached: bool) -> list[str]:
    errors = []
    if not stats["requests"]:
        errors.append(f"{where}: no request completed; run longer (--duration)")
    if uncached:
        cache = stats["cache"]
        if cache["HIT"] or cache["other"]:
            errors.append(f"{where}: nginx answered {cache['HIT']} requests with HIT and {cache['other']} "
                          "with another cached status in a mix that must be uncached")
        if stats["exhausted"]:
            errors.append(f"{where}: the distinct requests ran out and {stats['exhausted']} repeated")
    return errors


def starved_workers(stats: dict) -> int:
    """Workers that got less than half an even share of the CPU the workers used in a run."""
    seconds = stats.get("worker_cpu_s") or []
    fair = sum(seconds) / len(seconds) if seconds else 0
    return sum(1 for s in seconds if s < fair / 2)


def targets(results: dict) -> list[tuple[str, bool, str]]:
    setups = results["setups"]
    seed, ours = setups["seed"], setups["geostack"]
    r = ratios(results)
    checks = []
    if "getmap@4" in r:
        p95 = (ours["getmap@4"]["p95_ms"], seed["getmap@4"]["p95_ms"])
        checks.append(("uncached GetMap at C=4: >= 1.9x the seed's throughput, p95 no worse",
                       r["getmap@4"] >= 1.9 and p95[0] <= p95[1],
                       f"{r['getmap@4']:.2f}x (physical limit {physical_limit(results, 'getmap@4'):.2f}x"
                       + _pair_detail(results, "getmap@4") + f"); p95 {p95[0]:.0f} vs {p95[1]:.0f} ms"))
    if "getmap@16" in ours:
        errors = sum(stats["errors"] for key, stats in runs(ours).items() if key.endswith("@16"))
        starved = starved_workers(ours["getmap@16"])
        checks.append(("C=16: no errors, no QGIS worker starved (uncached GetMap)", errors == 0 and starved == 0,
                       f"{errors} errors; worker CPU seconds {ours['getmap@16'].get('worker_cpu_s')}"))
    ceiling = results.get("ceiling", {})
    # The median of back-to-back pairs where measured so, else the ratio of the two runs.
    shares = {key.split("@")[1]: ceiling.get(f"share@{key.split('@')[1]}",
                                             stats["rps"] / ceiling[f"static@{key.split('@')[1]}"]["rps"])
              for key, stats in ceiling.items() if key.startswith("cached@")}
    if shares:
        same_tiles = {c: ceiling[f"tiles_share@{c}"] for c in shares if f"tiles_share@{c}" in ceiling}
        checks.append((f"cached tiles >= 90% of a {ceiling['bytes']}-byte static file from the same nginx",
                       min(shares.values()) >= 0.9,
                       ", ".join(f"C={c}: {share:.0%}" for c, share in shares.items())
                       + (f" (median of {len(each_round(ceiling['cached@' + next(iter(shares))]))} back-to-back "
                          f"pairs of {ceiling['pair_seconds']} s runs)" if "pair_seconds" in ceiling else "")
                       + ("; of the same tiles as static files: "
                          + ", ".join(f"C={c}: {share:.0%}" for c, share in same_tiles.items())
                          if same_tiles else "")))
    errors = sum(s[k]["errors"] for s in setups.values() for k in runs(s))
    checks.append(("zero errors in every run", errors == 0, f"{errors} errors"))
    # "Well under 2 s": a fresh interpreter, SDK imports included, in at most 1.5 s.
    checks.append(("program under mocks well under 2 s per stack (cold, at most 1.5 s)",
                   max(results["program_seconds"].values()) <= 1.5,
                   ", ".join(f"{s} {t:.2f} s" for s, t in results["program_seconds"].items())))
    return checks


def _pair_detail(results: dict, key: str) -> str:
    pair = results["setups"].get(PAIR, {}).get(key)
    if not pair:
        return ""
    seed, ours = results["setups"]["seed"][key], results["setups"]["geostack"][key]
    return (f"; two independent seeds at once: {_ratio(pair, seed):.2f}x one seed, "
            f"geostack {_ratio(ours, pair):.0%} of them")


def cache_evidence(stats: dict) -> str:
    counts = {k: v for k, v in stats["cache"].items() if v}
    return " ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def markdown(results: dict) -> str:
    names = [*baselines(results), "geostack"]
    setups = results["setups"]
    workers = ", ".join(f"{name} {setups[name]['workers']}" for name in names)
    rounds = results.get("rounds", 1)
    link = results.get("link")
    across = (f"Across a shaped link ({link['rate_mbit']} Mbit/s each way, {link['rtt_ms']} ms round trip: "
              "bench/link.py), not loopback. " if link else "")
    across += ("Every request says Accept-Encoding: gzip (geostack's nginx compresses XML and JSON; the "
               "seed's has gzip off). " if results.get("accept_gzip") else
               "wrk sends no Accept-Encoding, so nothing is compressed. ")
    lines = [across + f"Measured on {results['cores']} cores, {results['duration_s']} s per run, with every setup running "
             f"and taking turns; QGIS workers: {workers} (geostack adds its nginx map cache). Requests of the "
             f"distinct mixes ({', '.join(results.get('uncached', UNCACHED))}) never repeat in any run, round or "
             f"thread; each was run {rounds} time(s), the setups' order turning every round, and the table shows "
             "each setup's median round. The cache column counts nginx's X-Cache-Status answers to geostack.", "",
             "| mix | C | " + " | ".join(f"{n} req/s" for n in names) + " | "
             + " | ".join(f"geostack / {b}" for b in baselines(results)) + " | p95 ms (" + " / ".join(names)
             + ") | QGIS CPU ms/request (" + " / ".join(names) + ") | errors | cache answers (geostack) "
             "| peak RSS MB of one QGIS worker (" + " / ".join(names) + ") |",
             "|" + "---|" * (2 + len(names) + len(baselines(results)) + 5)]
    for key in runs(setups["geostack"]):
        mix, connections = key.split("@")
        stats = [setups[n][key] for n in names]
        lines.append(f"| {mix} | {connections} | " + " | ".join(f"{s['rps']:.1f}" for s in stats) + " | "
                     + " | ".join(f"{ratios(results, b)[key]:.2f}x" for b in baselines(results)) + " | "
                     + " / ".join(f"{s['p95_ms']:.0f}" for s in stats) + " | "
                     + " / ".join(f"{cpu_ms_per_request(s):.1f}" for s in stats) + " | "
                     + " / ".join(str(s["errors"]) for s in stats) + f" | {cache_evidence(stats[-1])} | "
                     + " / ".join(f"{s.get('peak_worker_rss_mb', 0):.0f}" for s in stats) + " |")
    lines += _rounds_table(results, names)
    lines += _pair_table(results)
    lines += _variant_table(results)
    lines += _ceiling_table(results.get("ceiling", {}))
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if met else '**no**'} | {detail} |" for name, met, detail in targets(results)]
    return "\n".join(lines) + "\n"


def _rounds_table(results: dict, names: list[str]) -> list[str]:
    """Every round of the distinct mixes, so the spread behind each median shows."""
    setups = results["setups"]
    keys = [k for k in runs(setups["geostack"]) if len(each_round(setups["geostack"][k])) > 1]
    if not keys:
        return []
    lines = ["", "| mix | C | round | " + " | ".join(f"{n} req/s" for n in names) + " | geostack / seed |",
             "|" + "---|" * (4 + len(names))]
    for key in keys:
        mix, connections = key.split("@")
        for index, row in enumerate(zip(*(each_round(setups[n][key]) for n in names))):
            lines.append(f"| {mix} | {connections} | {index + 1} | " + " | ".join(f"{s['rps']:.1f}" for s in row)
                         + (f" | {row[-1]['rps'] / row[0]['rps']:.2f}x |" if row[0]["rps"] else " | - |"))
    return lines


def _pair_table(results: dict) -> list[str]:
    """Two independent seeds at once in the same rounds: the machine's own two-worker ceiling."""
    setups = results["setups"]
    if not runs(setups.get(PAIR, {})):
        return []
    lines = ["", "| mix | C | round | seed req/s | two seeds at once req/s | geostack req/s | two seeds / seed "
             "| geostack / two seeds | QGIS CPU ms/request (seed / two seeds / geostack) |", "|" + "---|" * 9]
    names = ("seed", PAIR, "geostack")
    for key in runs(setups[PAIR]):
        mix, connections = key.split("@")
        rounds = zip(*(each_round(setups[n][key]) for n in names))
        for label, (seed, pair, ours) in [*enumerate(rounds, 1), ("median", [setups[n][key] for n in names])]:
            lines.append(f"| {mix} | {connections} | {label} | {seed['rps']:.1f} | {pair['rps']:.1f} | "
                         f"{ours['rps']:.1f} | {_ratio(pair, seed):.2f}x | {_ratio(ours, pair):.0%} | "
                         + " / ".join(f"{cpu_ms_per_request(s):.1f}" for s in (seed, pair, ours)) + " |")
    return lines


def _variant_table(results: dict) -> list[str]:
    """geostack with one config value changed, measured in the same turns as the others."""
    setups, lines = results["setups"], []
    for variant in results.get("variants", ()):
        setting = variant.removeprefix("geostack ")
        lines += ["", f"| mix | C | seed req/s | geostack req/s | {setting} req/s | geostack / seed | "
                      f"{setting} / seed | {setting} / geostack | rounds req/s (geostack; {setting}) | "
                      f"cache answers (geostack; {setting}) |", "|" + "---|" * 10]
        for key in runs(setups[variant]):
            mix, connections = key.split("@")
            seed, ours, theirs = (setups[n][key] for n in ("seed", "geostack", variant))
            spread = "; ".join(", ".join(f"{s['rps']:.1f}" for s in each_round(stats)) for stats in (ours, theirs))
            lines.append(f"| {mix} | {connections} | {seed['rps']:.1f} | {ours['rps']:.1f} | {theirs['rps']:.1f} | "
                         f"{_ratio(ours, seed):.2f}x | {_ratio(theirs, seed):.2f}x | {_ratio(theirs, ours):.2f}x | "
                         f"{spread} | {cache_evidence(ours)}; {cache_evidence(theirs)} |")
    return lines


def _ceiling_table(ceiling: dict) -> list[str]:
    """The proxy's ceiling: the hottest cached tiles against a static file of their size and, where
    measured, against the same tiles served as static files."""
    counts = [key.split("@")[1] for key in ceiling if key.startswith("cached@")]
    if not counts:
        return []
    same = all(f"tiles@{c}" in ceiling for c in counts)
    lines = ["", f"| C | cached tiles req/s (geostack) | {ceiling['bytes']}-byte static file req/s | "
             "cached / static |" + (" same tiles as static files req/s | cached / same tiles |" if same else ""),
             "|---|---|---|---|" + ("---|---|" if same else "")]
    for c in counts:
        cached, static = ceiling[f"cached@{c}"], ceiling[f"static@{c}"]
        share = ceiling.get(f"share@{c}", cached["rps"] / static["rps"] if static["rps"] else 0)
        lines.append(f"| {c} | {cached['rps']:.0f} | {static['rps']:.0f} | {share:.0%} |"
                     + (f" {ceiling[f'tiles@{c}']['rps']:.0f} | {ceiling[f'tiles_share@{c}']:.0%} |" if same else ""))
    return lines


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*baselines(results), "geostack"]
    setups = results["setups"]
    keys = list(runs(setups["geostack"]))
    width = 0.8 / len(names)
    mixes = results.get("mixes", MIXES)
    figure, axes = plt.subplots(1, len(mixes), figsize=(4 * len(mixes), 4))
    for axis, mix in zip(axes, mixes):
        mine = [k for k in keys if k.startswith(mix + "@")]
        for index, name in enumerate(names):
            offset = (index - (len(names) - 1) / 2) * width
            axis.bar([p + offset for p in range(len(mine))], [setups[name][k]["rps"] for k in mine], width,
                     label=name)
        axis.set_xticks(list(range(len(mine))), [f"C={k.split('@')[1]}" for k in mine])
        axis.set_title(mix)
        axis.set_ylabel("requests/s")
        axis.set_yscale("log")
    axes[0].legend()
    figure.suptitle(f"QGIS Server on {results['cores']} cores: " + " vs ".join(names))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
