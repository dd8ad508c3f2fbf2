"""GeoNode's staging objects on the real API server: created by `pulumi up`, admitted under the
namespace's Pod Security level, matching the offline review, and removed by `pulumi destroy`.

Django, Celery and the init task run geostack's GeoNode image, which the test pushes to the
cluster's registry and hands over by digest (geonodeImage), as a CI that builds images does.
GeoNode does not run here: the other images (geonode/geoserver, geonode/postgis, redis, ...)
come from Docker Hub, which this machine cannot reach, and its claims use microk8s's hostpath
storage class, which this cluster does not have. So the stack deploys GeoNode alone
(qgisEnabled=false) through skip_await_main.py, which turns off the provider's readiness wait,
and the test records each pod's state as "not running" in build/figures/staging.json.

All ten GeoNode credentials are set with `pulumi config set --secret`, so nothing needs the
pulumi-random plugin, which no reachable source serves (toolchain/README.md).
"""
from __future__ import annotations

import base64
import json
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from offline.program_run import run_program
from offline.render import kubernetes_objects
from tests.cluster.local_cluster import LocalCluster
from tests.engine.workspace import Workspace
from tests.kubernetes.live_objects import destroy_and_wait_for_namespace, record, render_mismatches

pytestmark = pytest.mark.timeout(1800)
ENTRY_POINT = Path(__file__).with_name("skip_await_main.py")
CREDENTIALS = ("geonodeSecretKey", "geonodeAdminPassword", "geonodeGeoserverAdminPassword", "geonodePostgresPassword",
               "geonodeDatabasePassword", "geonodeGeodatabasePassword", "geonodeBrokerPassword",
               "geonodeOauthClientId", "geonodeOauthClientSecret", "geonodeApiKey")


@dataclass
class GeoNodeStaging:
    workspace: Workspace
    cluster: LocalCluster
    config: dict[str, str]
    credentials: dict[str, str]
    namespace: str

    def declared(self) -> list[dict]:
        """The objects the product declares for this config, as offline.render prints them."""
        return kubernetes_objects(run_program(
            "staging", {f"geostack:{k}": v for k, v in self.config.items()},
            secrets={f"geostack:{k}": v for k, v in self.credentials.items()}))

    def live(self, kind: str) -> list[dict]:
        return json.loads(self.cluster.kubectl("get", kind, "-n", self.namespace, "-o", "json").stdout)["items"]


@pytest.fixture(scope="module")
def geonode(cluster, images, tmp_path_factory):
    workspace = Workspace(tmp_path_factory.mktemp("staging-geonode"))
    (workspace.project / "__main__.py").rename(workspace.project / "geostack_main.py")
    shutil.copy(ENTRY_POINT, workspace.project / "__main__.py")
    workspace.select("staging")
    config = {
        "microk8sKubeconfig": str(cluster.kubeconfig),
        "microk8sContext": "geostack-test",
        "kubernetesWaitImage": images.wait_stand_in,
        # geostack's GeoNode image, pushed by the test: no pulumi-docker here to build it.
        "geonodeImage": images.geonode,
        "qgisEnabled": "false",
        "kubernetesNamespace": "geostack-staging-geonode",
    }
    credentials = {key: secrets.token_urlsafe(24) for key in CREDENTIALS}
    for key, value in config.items():
        workspace.ok("config", "set", f"geostack:{key}", value)
    for key, value in credentials.items():
        workspace.ok("config", "set", "--secret", f"geostack:{key}", stdin=value)  # off the command line
    try:
        workspace.ok("up", "--yes", "--skip-preview")
        yield GeoNodeStaging(workspace, cluster, config, credentials, config["kubernetesNamespace"])
    finally:
        workspace.run("destroy", "--yes", "--skip-preview")


def _owned_by(pod: dict, kind: str, names: set[str]) -> str | None:
    for owner in pod["metadata"].get("ownerReferences", []):
        if owner["kind"] == kind and owner["name"] in names:
            return owner["name"]
    return None


def _pod_state(pod: dict) -> str:
    statuses = pod["status"].get("initContainerStatuses", []) + pod["status"].get("containerStatuses", [])
    waiting = sorted({s["state"]["waiting"]["reason"] for s in statuses if "waiting" in s.get("state", {})})
    unscheduled = [c["message"] for c in pod["status"].get("conditions", [])
                   if c["type"] == "PodScheduled" and c["status"] == "False"]
    return "; ".join([pod["status"]["phase"], *waiting, *unscheduled])


def test_every_geonode_workload_has_its_pods_admitted(geonode):
    declared = geonode.declared()
    namespace = next(m for m in declared if m["kind"] == "Namespace")
    level = namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    live_namespace = json.loads(geonode.cluster.kubectl("get", "namespace", geonode.namespace, "-o", "json").stdout)
    assert live_namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == level

    deployments = {m["metadata"]["name"]: m["spec"].get("replicas", 1) for m in declared if m["kind"] == "Deployment"}
    jobs = {m["metadata"]["name"] for m in declared if m["kind"] == "Job"}
    assert {"geonode-db", "geonode-django", "geonode-celery", "geonode-geoserver", "geonode"} <= set(deployments)
    assert jobs, "GeoNode's init task is a Job"
    replica_sets = {rs["metadata"]["name"]: rs["metadata"]["ownerReferences"][0]["name"]
                    for rs in geonode.live("replicasets")}
    pods_of: dict[str, list[dict]] = {}
    deadline = time.monotonic() + 120
    while True:
        pods_of = {name: [] for name in [*deployments, *jobs]}
        for pod in geonode.live("pods"):
            owner = _owned_by(pod, "Job", jobs) or replica_sets.get(_owned_by(pod, "ReplicaSet", set(replica_sets)))
            if owner in pods_of:
                pods_of[owner].append(pod)
        missing = {name: len(pods) for name, pods in pods_of.items()
                   if len(pods) < deployments.get(name, 1)}
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(2)
        replica_sets = {rs["metadata"]["name"]: rs["metadata"]["ownerReferences"][0]["name"]
                        for rs in geonode.live("replicasets")}
    refused = [e["message"] for e in geonode.live("events") if e["reason"] == "FailedCreate"]
    assert refused == [], refused
    assert missing == {}, f"workloads without their pods after 120 s: {missing}"
    record(geonode_pod_security_enforce=level,
           geonode_not_running={pod["metadata"]["name"]: _pod_state(pod)
                                for pods in pods_of.values() for pod in pods})


def test_geonode_credentials_live_only_in_secrets_and_encrypted_state(geonode):
    outside = json.dumps([geonode.live(kind) for kind in ("deployments", "jobs", "pods", "configmaps", "services")])
    inside = " ".join(base64.b64decode(value).decode() for secret in geonode.live("secrets")
                      for value in (secret.get("data") or {}).values())
    state = geonode.workspace.ok("stack", "export")
    assert [key for key, value in geonode.credentials.items() if value in outside] == []
    assert [key for key, value in geonode.credentials.items() if value in state] == []
    assert [key for key, value in geonode.credentials.items() if value not in inside] == [], \
        "every configured credential reaches a Secret"


def test_changing_a_credential_rolls_exactly_the_pods_that_read_it(geonode):
    def secret_versions() -> dict[str, str]:
        return {f"{w['kind']}/{w['metadata']['labels']['app.kubernetes.io/name']}":
                w["spec"]["template"]["metadata"].get("annotations", {}).get("geostack/secret-version")
                for kind in ("deployments", "jobs") for w in geonode.live(kind)}

    before = secret_versions()
    new_key = secrets.token_urlsafe(40)
    geonode.workspace.ok("config", "set", "--secret", "geostack:geonodeSecretKey", stdin=new_key)
    geonode.credentials["geonodeSecretKey"] = new_key
    geonode.workspace.ok("up", "--yes", "--skip-preview")
    after = secret_versions()
    rolled = {name for name in before if before[name] != after.get(name)}
    # Django's SECRET_KEY is read by Django, the three Celery processes and the init task, and nothing else.
    assert rolled == {"Deployment/geonode-django", "Deployment/geonode-celery", "Deployment/geonode-celery-harvester",
                      "Deployment/geonode-celery-beat", "Job/geonode-django-init"}, rolled


def test_preview_right_after_up_shows_no_changes(geonode):
    geonode.workspace.ok("preview", "--expect-no-changes")


def test_offline_render_matches_what_the_api_server_stored(geonode):
    mismatches = render_mismatches(geonode.cluster, geonode.config, geonode.credentials)
    assert mismatches == [], "\n".join(mismatches)


def test_destroy_removes_the_geonode_namespace(geonode):
    destroy_and_wait_for_namespace(geonode.workspace, geonode.cluster, geonode.namespace)
