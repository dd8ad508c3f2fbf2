"""The autoscaler at work on the staging deployment: maps requested through NodePort 30080 push
QGIS's CPU over the target, the HorizontalPodAutoscaler adds QGIS pods, and once the load has
gone it removes them again, while no request fails.

The test cluster's metrics-server (tests/cluster/metrics_server.py) feeds the autoscaler, and its
controller waits 30 s, not upstream's 5 minutes, before it scales down
(configs.SCALE_DOWN_STABILIZATION). QGIS runs one worker per pod here, as a stack that scales by
pods would, so every new pod adds a worker.

Figures go to build/figures/staging.json: the time from the start of the load to the first new
pod serving, the throughput at each replica count, and the request counts.
"""
from __future__ import annotations

import json
import time

import pytest

from offline.loopback import wait_until
from tests.kubernetes.live_objects import record
from tests.kubernetes.steady_load import SteadyLoad, uncached_maps

pytestmark = pytest.mark.timeout(900)

CONFIG = {"qgisProcesses": "1", "qgisCpuLimit": "1", "qgisCpuRequest": "250m",
          "qgisAutoscaleMin": "2", "qgisAutoscaleMax": "4", "qgisAutoscaleCpuPercent": "50"}
LOAD_THREADS = 4  # two per core of this machine: enough to keep every worker busy
WINDOW_S = 20  # how long throughput is counted at a replica count


class Loads:
    """Several request loops at once, counted together; each asks for its own extents, so no
    request is answered from nginx's cache, nor from another loop's."""

    def __init__(self, request, threads: int, pause_s: float):
        self.loads = [SteadyLoad(lambda count, index=index: request(count * threads + index), pause_s)
                      for index in range(threads)]

    def __enter__(self) -> "Loads":
        for load in self.loads:
            load.start()
        return self

    def __exit__(self, *exc) -> None:
        for load in self.loads:
            load.stop.set()
        for load in self.loads:
            load.join()

    @property
    def ok(self) -> int:
        return sum(load.ok for load in self.loads)

    @property
    def failed(self) -> list[str]:
        return [failure for load in self.loads for failure in load.failed]

    def rate(self, seconds: float) -> float:
        """Successful requests per second over the next `seconds`."""
        before = self.ok
        time.sleep(seconds)
        return (self.ok - before) / seconds


def autoscaler(staging) -> dict:
    return json.loads(staging.cluster.kubectl("get", "hpa", "qgis-server", "-n", staging.namespace,
                                              "-o", "json").stdout)


def has_cpu_metrics(staging) -> bool:
    metrics = autoscaler(staging)["status"].get("currentMetrics") or []
    return any(m.get("resource", {}).get("current", {}).get("averageUtilization") is not None for m in metrics)


def serving_pod_names(staging) -> set[str]:
    """The QGIS pods the Service sends requests to: ready endpoints of its EndpointSlices."""
    slices = json.loads(staging.cluster.kubectl(
        "get", "endpointslices", "-n", staging.namespace, "-l", "kubernetes.io/service-name=qgis-server",
        "-o", "json").stdout)["items"]
    return {endpoint["targetRef"]["name"] for piece in slices for endpoint in piece.get("endpoints") or []
            if endpoint.get("conditions", {}).get("ready") and endpoint.get("targetRef")}


@pytest.fixture(scope="module")
def autoscaled(staging):
    try:
        staging.set_and_up(**CONFIG)
        staging.settle()
        wait_until(lambda: has_cpu_metrics(staging), 120, "the autoscaler to read the QGIS pods' CPU")
        yield staging
    finally:
        for key in CONFIG:
            staging.workspace.ok("config", "rm", f"geostack:{key}")
            staging.config.pop(key, None)
        staging.up()
        staging.settle()


def test_load_adds_qgis_pods_and_its_end_removes_them_with_no_failed_request(autoscaled):
    staging = autoscaled
    first_pods = serving_pod_names(staging)
    assert len(first_pods) == 2
    with Loads(uncached_maps(staging.url), LOAD_THREADS, pause_s=0) as heavy:
        started = time.monotonic()
        rate_before = heavy.rate(WINDOW_S)
        wait_until(lambda: serving_pod_names(staging) - first_pods, 240, "a new QGIS pod to serve")
        first_new_serving_s = time.monotonic() - started
        wait_until(lambda: len(serving_pod_names(staging)) == 4, 240, "the autoscaler's maximum, 4 pods, to serve")
        rate_after = heavy.rate(WINDOW_S)
    scaled_up = serving_pod_names(staging)
    # Light requests only, which keep CPU far under the target: the autoscaler goes back to 2
    # while they run, and none may fail as the pods it removes drain.
    with SteadyLoad(uncached_maps(staging.url), pause_s=0.5) as light:
        wait_until(lambda: len(staging.pods("qgis-server")) == 2 and len(serving_pod_names(staging)) == 2, 300,
                   "the autoscaler to go back to 2 pods")
        staging.wait_for_old_pods_to_go("qgis-server", timeout=120)
        time.sleep(2)
    record(autoscale_first_new_pod_serving_s=round(first_new_serving_s, 1),
           autoscale_rate_2_pods=round(rate_before, 2), autoscale_rate_4_pods=round(rate_after, 2),
           autoscale_heavy_requests=heavy.ok + len(heavy.failed), autoscale_heavy_failed=len(heavy.failed),
           autoscale_light_requests=light.total, autoscale_light_failed=len(light.failed))
    assert len(scaled_up) == 4 and first_pods < scaled_up
    assert heavy.ok > 50 and light.ok > 20, f"too little load to judge: {heavy.ok} heavy, {light.ok} light"
    assert heavy.failed == [], f"{len(heavy.failed)} requests failed while scaling up: {heavy.failed[:5]}"
    assert light.failed == [], f"{len(light.failed)} requests failed while scaling down: {light.failed[:5]}"
