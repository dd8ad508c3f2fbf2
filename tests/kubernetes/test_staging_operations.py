"""Day-two operations on the deployed staging stack: a rolling update under load, a lost pod,
scaling, the autoscaler object, the offline review against the live objects, and destroy.

Runs after test_staging_deploy.py (pytest orders files by name) on the same deployment.
"""
from __future__ import annotations

import json
import time

import pytest

from tests.e2e.wms_checks import capabilities_answer
from tests.kubernetes.live_objects import destroy_and_wait_for_namespace, record, render_mismatches
from tests.kubernetes.steady_load import SteadyLoad, uncached_maps

pytestmark = pytest.mark.timeout(3000)


def test_rolling_update_under_steady_load_fails_no_request(staging):
    pods_before = {p["metadata"]["name"] for p in staging.pods("qgis-server")}
    with SteadyLoad(uncached_maps(staging.url), pause_s=0.05) as load:
        time.sleep(2)
        staging.set_and_up(qgisLogLevel="2")  # a new env value: every QGIS pod is replaced
        time.sleep(2)
    record(rolling_update_requests=load.total, rolling_update_failed=len(load.failed))
    pods_after = {p["metadata"]["name"] for p in staging.ready_pods("qgis-server")}
    assert len(pods_after) == 2 and not pods_after & pods_before, "every QGIS pod should have been replaced"
    assert load.ok > 20, f"too little load to judge the rollout: {load.ok} requests"
    assert load.failed == [], f"{len(load.failed)} of {load.total} requests failed: {load.failed[:5]}"


def test_a_deleted_qgis_pod_is_replaced_and_the_service_answers_within_30_s(staging):
    victim = staging.pods("qgis-server")[0]["metadata"]["name"]
    started = time.monotonic()
    staging.cluster.kubectl("delete", "pod", "-n", staging.namespace, victim, "--wait=false")
    while not capabilities_answer(staging.url):
        assert time.monotonic() - started < 30, "the service did not answer within 30 s of losing a pod"
        time.sleep(0.5)
    answered = time.monotonic() - started
    while len(staging.ready_pods("qgis-server")) < 2:
        assert time.monotonic() - started < 120, "no replacement pod became Ready within 120 s"
        time.sleep(1)
    record(pod_loss_answered_s=round(answered, 1), pod_loss_replaced_s=round(time.monotonic() - started, 1))
    assert victim not in {p["metadata"]["name"] for p in staging.pods("qgis-server")}


@pytest.mark.parametrize("replicas", [3, 1])
def test_scaling_the_qgis_replicas(staging, replicas):
    staging.set_and_up(qgisReplicas=str(replicas))
    assert len(staging.ready_pods("qgis-server")) == replicas
    assert capabilities_answer(staging.url)


def test_the_horizontal_pod_autoscaler_is_declared_as_configured(staging):
    """The object as the keys set it (test_staging_hpa_under_load.py shows one scaling), left in
    place for the next test to compare with the offline render."""
    staging.set_and_up(qgisReplicas="2", qgisAutoscaleMin="2", qgisAutoscaleMax="4")
    listed = json.loads(staging.cluster.kubectl("get", "hpa", "-n", staging.namespace, "-o", "json").stdout)
    [hpa] = listed["items"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "qgis-server"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)


def test_offline_render_matches_what_the_api_server_stored(staging):
    mismatches = render_mismatches(staging.cluster, staging.config)
    assert mismatches == [], "\n".join(mismatches)


def test_destroy_removes_the_namespace_and_everything_in_it(staging):
    destroy_and_wait_for_namespace(staging.workspace, staging.cluster, staging.namespace)
    leftovers = staging.cluster.kubectl("get", "pods,services,configmaps,secrets", "-A", "-l",
                                        "app.kubernetes.io/part-of=geostack", "-o", "name").stdout.split()
    assert leftovers == []

