"""What a benchmark run reports: ratios, targets, sanity checks, the markdown table and chart.

The sanity checks reject a run rather than publish a figure that cannot be true: an uncached
mix that nginx answered from its cache, a distinct-request list that ran out and repeated, or
a speed-up above the physical limit (N workers on N cores give at most N times one worker).
"""
from __future__ import annotations

from pathlib import Path

MIXES = ("getmap", "tiles", "capabilities")
BASELINES = ("seed", "apache")  # what geostack is compared with, in the order reported
UNCACHED = ("getmap",)  # mixes whose every request must reach QGIS
# Run-to-run noise on a shared 2-core machine; a ratio beyond limit x this is a measurement bug.
NOISE = 1.05


def runs(setup: dict) -> dict[str, dict]:
    return {key: stats for key, stats in setup.items() if "@" in key}


def baselines(results: dict) -> list[str]:
    return [name for name in BASELINES if name in results["setups"]]


def ratios(results: dict, baseline: str = "seed") -> dict[str, float]:
    base, ours = results["setups"][baseline], results["setups"]["geostack"]
    return {key: ours[key]["rps"] / base[key]["rps"] if base[key]["rps"] else float("inf") for key in runs(base)}


def physical_limit(results: dict, connections: int, baseline: str = "seed") -> float:
    """The most geostack's workers can gain over a baseline's on uncached requests at C connections."""
    base, ours = results["setups"][baseline]["workers"], results["setups"]["geostack"]["workers"]
    return min(results["cores"], connections, ours) / min(results["cores"], connections, base)


def sanity_errors(results: dict) -> list[str]:
    errors = []
    for name, setup in results["setups"].items():
        for key, stats in runs(setup).items():
            if not stats["requests"]:
                errors.append(f"{name} {key}: no request completed; run longer (--duration)")
            if key.split("@")[0] not in UNCACHED:
                continue
            cache = stats["cache"]
            if cache["HIT"] or cache["other"]:
                errors.append(f"{name} {key}: nginx answered {cache['HIT']} requests with HIT and {cache['other']} "
                              "with another cached status in a mix that must be uncached")
            if stats["exhausted"]:
                errors.append(f"{name} {key}: the distinct requests ran out and {stats['exhausted']} repeated")
    for baseline in baselines(results):
        for key, ratio in ratios(results, baseline).items():
            mix, connections = key.split("@")
            limit = physical_limit(results, int(connections), baseline)
            if mix in UNCACHED and ratio > limit * NOISE:
                errors.append(f"{key}: {ratio:.2f}x the {baseline}'s is above the physical limit of {limit:.2f}x "
                              f"({results['cores']} cores, {connections} connections): a measurement bug")
    return errors


def targets(results: dict) -> list[tuple[str, bool, str]]:
    r = ratios(results)
    seed, ours = results["setups"]["seed"], results["setups"]["geostack"]
    errors = sum(s[k]["errors"] for s in (seed, ours) for k in runs(s))
    checks = []
    if "getmap@4" in r:
        checks.append(("uncached GetMap throughput >= 1.8x the seed's at C=4", r["getmap@4"] >= 1.8,
                       f"{r['getmap@4']:.2f}x (physical limit {physical_limit(results, 4):.2f}x)"))
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


def cache_evidence(stats: dict) -> str:
    counts = {k: v for k, v in stats["cache"].items() if v}
    return " ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def markdown(results: dict) -> str:
    names = [*baselines(results), "geostack"]
    setups = results["setups"]
    workers = ", ".join(f"{name} {setups[name]['workers']}" for name in names)
    lines = [f"Measured on {results['cores']} cores, {results['duration_s']} s per run, one setup after the "
             f"other; QGIS workers: {workers} (geostack adds its nginx map cache). Uncached GetMap requests are "
             "distinct across every run and thread; the cache column counts nginx's X-Cache-Status answers "
             "to geostack.", "",
             "| mix | C | " + " | ".join(f"{n} req/s" for n in names) + " | "
             + " | ".join(f"geostack / {b}" for b in baselines(results)) + " | p95 ms (" + " / ".join(names)
             + ") | errors | cache answers (geostack) | peak QGIS RSS MB (" + " / ".join(names) + ") |",
             "|" + "---|" * (2 + len(names) + len(baselines(results)) + 4)]
    for key in runs(setups["geostack"]):
        mix, connections = key.split("@")
        stats = [setups[n][key] for n in names]
        lines.append(f"| {mix} | {connections} | " + " | ".join(f"{s['rps']:.1f}" for s in stats) + " | "
                     + " | ".join(f"{ratios(results, b)[key]:.2f}x" for b in baselines(results)) + " | "
                     + " / ".join(f"{s['p95_ms']:.0f}" for s in stats) + " | "
                     + " / ".join(str(s["errors"]) for s in stats) + f" | {cache_evidence(stats[-1])} | "
                     + " / ".join(f"{s['peak_rss_mb']:.0f}" for s in stats) + " |")
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if met else '**no**'} | {detail} |" for name, met, detail in targets(results)]
    return "\n".join(lines) + "\n"


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*baselines(results), "geostack"]
    setups = results["setups"]
    keys = list(runs(setups["geostack"]))
    width = 0.8 / len(names)
    figure, axes = plt.subplots(1, len(MIXES), figsize=(12, 4))
    for axis, mix in zip(axes, MIXES):
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
