"""What a benchmark run reports: ratios, targets, sanity checks, the markdown table and chart.

The sanity checks reject a run rather than publish a figure that cannot be true: an uncached
mix that nginx answered from its cache, a distinct-request list that ran out and repeated, or
a speed-up above the physical limit (N workers on N cores give at most N times one worker).
"""
from __future__ import annotations

from pathlib import Path

MIXES = ("getmap", "tiles", "capabilities")
UNCACHED = ("getmap",)  # mixes whose every request must reach QGIS
# Run-to-run noise on a shared 2-core machine; a ratio beyond limit x this is a measurement bug.
NOISE = 1.05


def runs(setup: dict) -> dict[str, dict]:
    return {key: stats for key, stats in setup.items() if "@" in key}


def ratios(results: dict) -> dict[str, float]:
    seed, ours = results["setups"]["seed"], results["setups"]["geostack"]
    return {key: ours[key]["rps"] / seed[key]["rps"] for key in runs(seed)}


def physical_limit(results: dict, connections: int) -> float:
    """The most geostack's workers can gain over the seed's on uncached requests at C connections."""
    seed, ours = results["setups"]["seed"]["workers"], results["setups"]["geostack"]["workers"]
    return min(results["cores"], connections, ours) / min(results["cores"], connections, seed)


def sanity_errors(results: dict) -> list[str]:
    errors = []
    for name, setup in results["setups"].items():
        for key, stats in runs(setup).items():
            if key.split("@")[0] not in UNCACHED:
                continue
            cache = stats["cache"]
            if cache["HIT"] or cache["other"]:
                errors.append(f"{name} {key}: nginx answered {cache['HIT']} requests with HIT and {cache['other']} "
                              "with another cached status in a mix that must be uncached")
            if stats["exhausted"]:
                errors.append(f"{name} {key}: the distinct requests ran out and {stats['exhausted']} repeated")
    for key, ratio in ratios(results).items():
        mix, connections = key.split("@")
        limit = physical_limit(results, int(connections))
        if mix in UNCACHED and ratio > limit * NOISE:
            errors.append(f"{key}: {ratio:.2f}x is above the physical limit of {limit:.2f}x "
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
    seed, ours = results["setups"]["seed"], results["setups"]["geostack"]
    r = ratios(results)
    lines = [f"Measured on {results['cores']} cores, {results['duration_s']} s per run; seed: "
             f"{seed['workers']} QGIS process, geostack: {ours['workers']} processes + nginx cache. "
             "Uncached GetMap requests are distinct across every run and thread; the cache columns count "
             "nginx's X-Cache-Status answers (`none`: no cache in front).", "",
             "| mix | C | seed req/s | geostack req/s | ratio | seed p50/p95/p99 ms | geostack p50/p95/p99 ms "
             "| errors (seed/geostack) | cache answers (geostack) | peak QGIS RSS MB (seed/geostack) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key in runs(seed):
        mix, connections = key.split("@")
        s, o = seed[key], ours[key]
        lines.append(f"| {mix} | {connections} | {s['rps']:.1f} | {o['rps']:.1f} | {r[key]:.2f}x | "
                     f"{s['p50_ms']:.0f} / {s['p95_ms']:.0f} / {s['p99_ms']:.0f} | "
                     f"{o['p50_ms']:.0f} / {o['p95_ms']:.0f} / {o['p99_ms']:.0f} | {s['errors']} / {o['errors']} | "
                     f"{cache_evidence(o)} | {s['peak_rss_mb']:.0f} / {o['peak_rss_mb']:.0f} |")
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if met else '**no**'} | {detail} |" for name, met, detail in targets(results)]
    return "\n".join(lines) + "\n"


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seed, ours = results["setups"]["seed"], results["setups"]["geostack"]
    keys = list(runs(seed))
    figure, axes = plt.subplots(1, len(MIXES), figsize=(12, 4))
    for axis, mix in zip(axes, MIXES):
        mine = [k for k in keys if k.startswith(mix + "@")]
        positions = range(len(mine))
        axis.bar([p - 0.2 for p in positions], [seed[k]["rps"] for k in mine], 0.4, label="seed setup")
        axis.bar([p + 0.2 for p in positions], [ours[k]["rps"] for k in mine], 0.4, label="geostack")
        axis.set_xticks(list(positions), [f"C={k.split('@')[1]}" for k in mine])
        axis.set_title(mix)
        axis.set_ylabel("requests/s")
        axis.set_yscale("log")
    axes[0].legend()
    figure.suptitle(f"QGIS Server through nginx on {results['cores']} cores: seed setup vs geostack defaults")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
