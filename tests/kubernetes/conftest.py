"""The staging stack deployed for real: the two-node cluster of tests/cluster, images pushed to
its registry, and `pulumi up` of `staging` through the real CLI and kubernetes provider.

Config given on top of Pulumi.staging.yaml, with `pulumi config set` as a user would:
the cluster's kubeconfig and context; the QGIS image by digest (`qgisImage`, see images.py);
stand-ins for the nginx and wait images; GeoNode off (test_staging_geonode.py deploys it in its own stack);
a project folder of two projects, a font and a server plugin (tests/e2e/project_folders.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from offline.loopback import wait_until
from tests.cluster.local_cluster import LocalCluster, local_cluster
from tests.e2e.docker_engine import docker_engine
from tests.e2e.project_folders import add_font, add_stamp_plugin, make_two_project_folder
from tests.e2e.wms_checks import capabilities_answer
from tests.engine.workspace import Workspace
from tests.kubernetes.images import PushedImages, push_images
from tests.kubernetes.live_objects import record_new_node_pulls
from tests.kubernetes.rollouts import assert_rollouts_done


@dataclass
class Staging:
    workspace: Workspace
    cluster: LocalCluster
    images: PushedImages
    config: dict[str, str]
    namespace: str
    url: str  # the nginx NodePort URL of QGIS Server, e.g. http://localhost:30080/qgis-server

    @property
    def base(self) -> str:
        """The NodePort's root, e.g. http://localhost:30080: the landing page and /ogc/<name>."""
        return self.url.rsplit("/", 1)[0]

    def set_and_up(self, **values: str) -> str:
        for key, value in values.items():
            self.workspace.ok("config", "set", f"geostack:{key}", value)
            self.config[key] = value
        return self.up()

    def up(self) -> str:
        """`pulumi up`, and at once a check that it waited for every rollout it began."""
        output = self.workspace.ok("up", "--yes", "--skip-preview")
        assert_rollouts_done(self.cluster, self.namespace)
        return output

    def all_pods(self, app: str) -> list[dict]:
        """Every pod of `app`, terminating ones too."""
        listed = self.cluster.kubectl("get", "pods", "-n", self.namespace, "-l", f"app.kubernetes.io/name={app}",
                                      "-o", "json")
        return json.loads(listed.stdout)["items"]

    def pods(self, app: str) -> list[dict]:
        return [p for p in self.all_pods(app) if not p["metadata"].get("deletionTimestamp")]

    def wait_for_old_pods_to_go(self, app: str, timeout: float = 90) -> None:
        """Until every pod of `app` is of one ReplicaSet and none is terminating: `up` returns once
        the rollout is complete, while the old pods are still in their preStop wait."""
        def settled() -> bool:
            pods = self.all_pods(app)
            return (not [p for p in pods if p["metadata"].get("deletionTimestamp")]
                    and len({p["metadata"]["labels"].get("pod-template-hash") for p in pods}) == 1)
        wait_until(settled, timeout, f"the old {app} pods to go")

    def settle(self) -> None:
        """Until the QGIS server and proxy have no old pod left, as after a first `up`: a test
        that changes the stack leaves it so for the next one."""
        for app in ("qgis-server", "qgis-nginx"):
            self.wait_for_old_pods_to_go(app)
        wait_until(lambda: capabilities_answer(self.url), 60, "WMS through the NodePort")

    def ready_pods(self, app: str) -> list[dict]:
        return [p for p in self.pods(app) if any(c["type"] == "Ready" and c["status"] == "True"
                                                 for c in p["status"].get("conditions", []))]


@pytest.fixture(scope="package")
def cluster():
    with local_cluster() as running:
        yield running


@pytest.fixture(scope="package")
def engine(cluster):
    """The Docker engine that builds and pushes to the cluster's registry."""
    with docker_engine() as client:
        yield client


@pytest.fixture(scope="package")
def images(engine):
    return push_images(engine)


@pytest.fixture(scope="package")
def staging(cluster, images, tmp_path_factory):
    workspace = Workspace(tmp_path_factory.mktemp("staging"))
    workspace.select("staging")
    folder = make_two_project_folder(tmp_path_factory.mktemp("projects"))
    add_font(folder)
    add_stamp_plugin(folder)
    config = {
        "qgisProjectDir": str(folder),
        "microk8sKubeconfig": str(cluster.kubeconfig),
        "microk8sContext": "geostack-test",
        "qgisImage": images.qgis,
        "nginxImage": images.nginx_stand_in,
        "kubernetesWaitImage": images.wait_stand_in,
        "geonodeEnabled": "false",
    }
    # kubernetesNamespace is left to its default, geostack-<stack name>.
    deployed = Staging(workspace, cluster, images, config, namespace="geostack-staging", url="")
    try:
        deployed.set_and_up(**config)
        outputs = json.loads(workspace.ok("stack", "output", "--json"))
        deployed.url = outputs["wmsCapabilitiesUrl"].split("?")[0]
        wait_until(lambda: capabilities_answer(deployed.url), 60, "WMS through the NodePort")
        record_new_node_pulls(cluster, deployed.namespace, "qgis-server")
        yield deployed
    finally:
        workspace.run("destroy", "--yes", "--skip-preview")


GEONODE_TESTS = "tests/kubernetes/test_staging_geonode.py"


def what_staging_runs(staging: Staging) -> str:
    """The namespace's pods and the proxy's and QGIS's latest log lines, prefixed by pod: which
    pod answered a failed request, and whether an old one still was."""
    run = staging.cluster.kubectl
    parts = [run("get", "pods", "-n", staging.namespace, "-o", "wide", check=False).stdout]
    for app in ("qgis-nginx", "qgis-server"):
        parts.append(run("logs", "-n", staging.namespace, "-l", f"app.kubernetes.io/name={app}", "--prefix",
                         "--timestamps", "--tail=40", "--all-containers", check=False).stdout)
    return "\n".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    staging = getattr(item, "funcargs", {}).get("staging")
    if report.failed and isinstance(staging, Staging):
        report.sections.append(("what staging runs", what_staging_runs(staging)))


def pytest_collection_modifyitems(items):
    """GeoNode's stack runs last in this package, after test_staging_operations.py has destroyed
    the QGIS staging stack: the two nodes schedule 4 CPU, but they share this machine's 2 cores,
    and GeoNode's start beside a QGIS stack under load would slow both."""
    geonode = [item for item in items if item.nodeid.startswith(GEONODE_TESTS)]
    if not geonode:
        return
    rest = [item for item in items if not item.nodeid.startswith(GEONODE_TESTS)]
    last = max((index for index, item in enumerate(rest) if item.nodeid.startswith("tests/kubernetes/")), default=-1)
    items[:] = rest[:last + 1] + geonode + rest[last + 1:]
