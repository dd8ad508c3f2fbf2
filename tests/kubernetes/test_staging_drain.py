"""A node drained under load: `kubectl drain` of the second node, which holds half of the QGIS
and nginx pods, completes within their PodDisruptionBudgets while maps are requested through
NodePort 30080, no request fails, and the stack then serves from the first node alone.

With two nginx pods (nginxReplicas=2) the proxy has a disruption budget and spread constraints
of its own; with one, a drain takes the only proxy down, as any single replica would.
"""
from __future__ import annotations

import time

import pytest

from offline.loopback import wait_until
from tests.cluster.configs import FIRST_NODE, SECOND_NODE
from tests.e2e.wms_checks import capabilities_answer
from tests.kubernetes.live_objects import record
from tests.kubernetes.steady_load import SteadyLoad, uncached_maps

pytestmark = pytest.mark.timeout(900)

APPS = ("qgis-server", "qgis-nginx")


def nodes_of(staging, app: str) -> list[str]:
    return sorted(pod["spec"].get("nodeName", "") for pod in staging.ready_pods(app))


@pytest.fixture(scope="module")
def two_proxies(staging):
    try:
        staging.set_and_up(nginxReplicas="2")
        staging.settle()
        yield staging
    finally:
        staging.cluster.kubectl("uncordon", SECOND_NODE.name, check=False)
        staging.workspace.ok("config", "rm", "geostack:nginxReplicas")
        staging.config.pop("nginxReplicas", None)
        staging.up()
        staging.settle()


def test_draining_a_node_under_load_fails_no_request_and_the_other_node_serves(two_proxies):
    staging = two_proxies
    for app in APPS:
        assert nodes_of(staging, app) == sorted((FIRST_NODE.name, SECOND_NODE.name)), app
    with SteadyLoad(uncached_maps(staging.url), pause_s=0.05) as load:
        time.sleep(2)
        started = time.monotonic()
        drained = staging.cluster.kubectl("drain", SECOND_NODE.name, "--ignore-daemonsets", "--delete-emptydir-data",
                                          "--timeout=300s", timeout=330, check=False)
        drain_s = time.monotonic() - started
        for app in APPS:
            staging.wait_for_old_pods_to_go(app, timeout=120)
            wait_until(lambda: nodes_of(staging, app) == [FIRST_NODE.name] * 2, 120,
                       f"both {app} pods to serve from {FIRST_NODE.name}")
        time.sleep(2)
    record(drain_s=round(drain_s, 1), drain_requests=load.total, drain_failed=len(load.failed))
    assert drained.returncode == 0, drained.stderr
    for app in APPS:
        assert nodes_of(staging, app) == [FIRST_NODE.name] * 2, app
    assert capabilities_answer(staging.url)
    assert load.ok > 20, f"too little load to judge the drain: {load.ok} requests"
    assert load.failed == [], f"{len(load.failed)} of {load.total} requests failed: {load.failed[:5]}"
