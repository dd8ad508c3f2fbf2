"""The benchmark's uncached mix: no request is ever sent twice, so nginx cannot answer it from cache."""
from __future__ import annotations

import math
import random

import pytest

from bench.report import PAIR, combine_rounds, markdown, sanity_errors
from bench.sequences import UniqueRequests, random_getmap
from bench.wrk import merge_concurrent

EXTENT = (1112694.9, 6445775.8, 1123713.7, 6460642.0)


def sequences(seed=None) -> UniqueRequests:
    return UniqueRequests(random_getmap(EXTENT, tile=1500, size=256, layers="parks,sites"), seed=seed)


def test_two_runs_never_share_a_request_and_neither_do_threads_within_a_run():
    distinct = sequences(seed=1)
    first, second = distinct.run(threads=2, per_thread=3000), distinct.run(threads=2, per_thread=3000)
    for run in (first, second):
        assert len(run) == 2 and all(len(paths) == 3000 for paths in run)
        assert not set(run[0]) & set(run[1]), "two threads of a run share a request"
    assert not {p for paths in first for p in paths} & {p for paths in second for p in paths}


def test_a_generator_that_can_only_repeat_is_refused_not_recycled():
    few = UniqueRequests(lambda rng: f"/tile/{rng.randrange(10)}", seed=1)
    few.run(threads=1, per_thread=10)
    with pytest.raises(RuntimeError, match="exhausted"):
        few.run(threads=1, per_thread=1)


def test_every_request_stays_inside_the_extent():
    draw = random_getmap(EXTENT, tile=1500, size=256, layers="parks")
    rng = random.Random(3)
    for _ in range(500):
        bbox = [float(v) for v in draw(rng).rsplit("BBOX=", 1)[1].split(",")]
        assert EXTENT[0] <= bbox[0] < bbox[2] <= EXTENT[2] and EXTENT[1] <= bbox[1] < bbox[3] <= EXTENT[3]
        assert bbox[2] - bbox[0] == pytest.approx(1500, abs=0.002)


def results(ratio_at_4: float, hits: int = 0, exhausted: int = 0, cpu_ms: float = 9.0,
            pair_ratio: float | None = None) -> dict:
    """A 10 s run at C=4 on 2 cores; every setup spends `cpu_ms` of QGIS CPU per request. With
    `pair_ratio`, two independent seeds at once ran too."""
    def run(rps, workers):
        requests = int(rps * 10)
        return {"rps": rps, "requests": requests, "exhausted": exhausted, "errors": 0, "p95_ms": 50.0,
                "cache": {"HIT": hits, "MISS": requests - hits, "BYPASS": 0, "other": 0, "none": 0},
                "worker_cpu_s": [requests * cpu_ms / 1000 / workers] * workers}
    measured = {"cores": 2, "duration_s": 10,
                "setups": {"seed": {"workers": 1, "getmap@4": run(100.0, 1)},
                           "geostack": {"workers": 2, "getmap@4": run(100.0 * ratio_at_4, 2)}}}
    if pair_ratio is not None:
        measured["setups"][PAIR] = {"workers": 2, "getmap@4": run(100.0 * pair_ratio, 2)}
    return measured


@pytest.mark.parametrize("ratio, hits, exhausted, complaint", [
    (1.8, 0, 0, None),
    (2.9, 0, 0, "above the physical limit of 2.00x"),
    (1.8, 5, 0, "5 requests with HIT"),
    (1.8, 0, 7, "7 repeated"),
])
def test_the_sanity_check_rejects_impossible_or_cached_figures(ratio, hits, exhausted, complaint):
    errors = sanity_errors(results(ratio, hits, exhausted))
    if complaint is None:
        assert errors == []
    else:
        assert any(complaint in e for e in errors), errors


def test_a_run_that_completed_nothing_is_rejected():
    stalled = results(1.0)
    stalled["setups"]["seed"]["getmap@4"].update(rps=0.0, requests=0, worker_cpu_s=[0.0])
    assert any("no request completed" in e for e in sanity_errors(stalled))


def test_the_tile_pyramid_is_grid_aligned_with_each_zooms_share_and_a_popular_centre():
    from collections import Counter

    from bench.workloads import WORLD, tile_pyramid

    extent = (1103200.0, 6436300.0, 1123200.0, 6456300.0)
    paths = tile_pyramid(extent, {13: 0.25, 15: 0.75}, "a,b", 4000)
    sizes = Counter()
    for path in paths:
        x0, y0, x1, y1 = (float(v) for v in path.rsplit("BBOX=", 1)[1].split(","))
        zoom = round(math.log2(2 * WORLD / (x1 - x0)))
        size = 2 * WORLD / 2**zoom
        assert (x0 + WORLD) / size == pytest.approx(round((x0 + WORLD) / size), abs=1e-6), "off the tile grid"
        assert x1 > extent[0] and x0 < extent[2] and y1 > extent[1] and y0 < extent[3]
        sizes[zoom] += 1
    assert sizes == {13: 1000, 15: 3000}
    top, count = Counter(paths).most_common(1)[0]
    assert count > 4000 / len(set(paths)) * 5, "popular tiles should be requested far more than average"


def test_a_lead_explained_by_cheaper_requests_passes_but_more_cpu_than_the_cores_have_does_not():
    cheaper = results(2.2)
    cheaper["setups"]["geostack"]["getmap@4"]["worker_cpu_s"] = [9.0, 9.0]  # 8.2 ms a request, not 9
    assert sanity_errors(cheaper) == []
    assert any("CPU s in 10 s on 2 cores" in e for e in sanity_errors(results(1.9, cpu_ms=12.0)))


@pytest.mark.parametrize("ratio, complaint", [(2.4, None), (2.9, "above the physical limit of 2.50x")])
def test_more_workers_than_cores_may_fill_the_seeds_idle_time_but_not_exceed_the_cores(ratio, complaint):
    """QGIS 3.40's worker idles ~10 ms a request: 4 workers on 2 cores may beat twice a seed
    that is busy 80% of the time, up to what the cores can do at their CPU per request."""
    four = results(ratio, cpu_ms=8.0)
    four["setups"]["geostack"]["workers"] = 4
    errors = [e for e in sanity_errors(four) if "physical limit" in e]
    assert errors == [] if complaint is None else any(complaint in e for e in errors), errors


def ceiling(static_errors: int = 0, static_bytes: float = 90000.0, kind: str = "static") -> dict:
    def run(rps, size, errors=0, hits=0):
        requests = int(rps * 10)
        return {"rps": rps, "requests": requests, "errors": errors, "bytes_per_response": size,
                "cache": {"HIT": hits, "MISS": 0, "BYPASS": 0, "other": 0, "none": requests - hits}}
    measured = {"static": run(10000.0, 90000.0), "tiles": run(9500.0, 90200.0)}
    if static_errors or static_bytes != 90000.0:
        measured[kind] = run(10000.0, static_bytes, errors=static_errors)
    return {"bytes": 90000, "cached@4": run(9000.0, 90000.0, hits=90000), "static@4": measured["static"],
            "tiles@4": measured["tiles"], "share@4": 0.9, "tiles_share@4": 9000.0 / 9500.0}


@pytest.mark.parametrize("kind", ["static", "tiles"])
@pytest.mark.parametrize("static_errors, static_bytes, complaint", [
    (0, 90000.0, None),
    (100000, 294.0, "100000 of 100000 requests failed"),  # nginx's 403 page, as a first run measured
    (0, 294.0, "294 bytes per response, not the 90000 bytes of the static files"),
])
def test_a_proxy_ceiling_measured_on_error_pages_is_rejected(static_errors, static_bytes, complaint, kind):
    run = results(1.8)
    run["ceiling"] = ceiling(static_errors, static_bytes, kind)
    errors = sanity_errors(run)
    if complaint is None:
        assert errors == []
        report = markdown({**run, "program_seconds": {"dev": 0.3}})
        assert "| 4 | 9000 | 10000 | 90% | 9500 | 95% |" in report
        assert "C=4: 90% (median of 1 back-to-back pairs of" not in report  # no pair_seconds: ratio of two runs
        assert "; of the same tiles as static files: C=4: 95% |" in report
    else:
        assert any(e.startswith(f"geostack {kind}@4: ") and complaint in e for e in errors), errors


def in_rounds(*round_results: dict) -> dict:
    """Rounds of `results(...)` merged the way the benchmark stores them: the median plus every round."""
    merged = round_results[0]
    for name in ("seed", "geostack"):
        merged["setups"][name]["getmap@4"] = combine_rounds([r["setups"][name]["getmap@4"] for r in round_results])
    return merged


def test_the_median_round_is_reported_and_every_round_kept():
    rounds = in_rounds(results(1.8), results(1.7), results(1.9))
    ours = rounds["setups"]["geostack"]["getmap@4"]
    assert ours["rps"] == pytest.approx(180.0) and [r["rps"] for r in ours["rounds"]] == pytest.approx([180, 170, 190])
    assert sanity_errors(rounds) == []
    table = markdown({**rounds, "program_seconds": {"dev": 0.3}})
    assert "| getmap | 4 | 2 | 100.0 | 170.0 | 1.70x |" in table


@pytest.mark.parametrize("bad_round, complaint", [
    (results(2.9), "getmap@4 round 3: 2.90x the seed's is above the physical limit"),
    (results(1.8, hits=4), "geostack getmap@4: nginx answered 4 requests with HIT"),
    (results(1.8, exhausted=2), "2 repeated"),
])
def test_a_bad_round_is_rejected_even_when_the_median_is_fine(bad_round, complaint):
    rounds = in_rounds(results(1.8), results(1.7), bad_round)
    assert rounds["setups"]["geostack"]["getmap@4"]["rps"] == pytest.approx(180.0)
    assert any(complaint in e for e in sanity_errors(rounds)), sanity_errors(rounds)


@pytest.mark.parametrize("pair_ratio, complaint", [
    (1.95, None),
    (2.6, "two seeds getmap@4: 2.60x the seed's is above the physical limit of 2.00x"),
])
def test_two_seeds_at_once_are_held_to_the_same_limit_and_reported_as_the_machines_ceiling(pair_ratio, complaint):
    run = results(1.8, pair_ratio=pair_ratio)
    errors = sanity_errors(run)
    if complaint:
        assert any(complaint in e for e in errors), errors
        return
    assert errors == []
    report = markdown({**run, "program_seconds": {"dev": 0.3}})
    assert "| getmap | 4 | median | 100.0 | 195.0 | 180.0 | 1.95x | 92% | 9.0 / 9.0 / 9.0 |" in report
    assert "two independent seeds at once: 1.95x one seed, geostack 92% of them); p95" in report


def test_runs_at_the_same_time_add_up_and_keep_the_worse_percentile():
    def run(rps, p95, hits, bytes_per_response, cpu):
        return {"rps": rps, "requests": int(rps * 10), "errors": 1, "exhausted": 0, "p50_ms": p95 / 2,
                "p95_ms": p95, "p99_ms": p95 * 2, "bytes_per_response": bytes_per_response,
                "cache": {"HIT": hits, "MISS": 0}, "worker_cpu_s": [cpu], "peak_rss_mb": 300.0,
                "peak_worker_rss_mb": 280.0 + cpu}
    merged = merge_concurrent([run(30.0, 90.0, 0, 1000.0, 9.5), run(10.0, 120.0, 2, 2000.0, 9.0)])
    assert merged["rps"] == 40.0 and merged["requests"] == 400 and merged["errors"] == 2
    assert (merged["p50_ms"], merged["p95_ms"], merged["p99_ms"]) == (60.0, 120.0, 240.0)
    assert merged["bytes_per_response"] == pytest.approx(1250.0)
    assert merged["cache"] == {"HIT": 2, "MISS": 0}
    assert merged["worker_cpu_s"] == [9.0, 9.5] and merged["peak_rss_mb"] == 600.0
    assert merged["peak_worker_rss_mb"] == 289.5


def test_a_variant_is_held_to_the_physical_limit_and_tabled_beside_geostack():
    """A --variant setup is a geostack too: the same limit applies to it, and the report compares it."""
    from bench.report import markdown

    measured = results(1.8)
    variant = "geostack nginxCacheMinUses=2"
    measured["variants"] = [variant]
    measured["setups"][variant] = results(2.9)["setups"]["geostack"]
    assert any(e.startswith(f"{variant} getmap@4") and "physical limit" in e for e in sanity_errors(measured))
    measured["setups"][variant] = results(1.9)["setups"]["geostack"]
    measured["program_seconds"] = {"dev": 0.3}
    assert sanity_errors(measured) == []
    assert "| getmap | 4 | 100.0 | 180.0 | 190.0 | 1.80x | 1.90x | 1.06x |" in markdown(measured)
