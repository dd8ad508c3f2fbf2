"""examples/two-folders deployed on the test cluster by the real CLI and kubernetes provider, with
the components installed from the wheel this repository builds into the example's own virtualenv
(nothing else of this repository on its path), into a namespace that exists before the stack and
holds a pod of someone else's.

A user checks: each folder's projects answer at /ogc/<name> (title, map, feature info, OGC API),
each from the server of its folder (the other server has not got the file); the other tenant's pod
is left alone by the stack's default deny; no drift; `destroy` leaves the namespace and the pod.
The QGIS image is given prebuilt: the docker provider cannot be built here (toolchain/README.md).
"""
from __future__ import annotations

import json
import shutil

import pytest

from offline.loopback import http_get
from offline.program_run import PROJECT_ROOT
from tests.e2e.project_checks import assert_project_answers
from tests.engine.workspace import Workspace
from tests.kubernetes.cluster_config import point_at_the_cluster
from tests.kubernetes.network_probe import connects, listener_manifest
from tests.package.wheel import build_wheel, install_wheel

EXAMPLE = PROJECT_ROOT / "examples" / "two-folders"
NAMESPACE = "geostack-test-maps-team"
NODE_PORT = 30091
BASE = f"http://localhost:{NODE_PORT}"
TITLES = {"planning": "Planning department", "parks": "Parks department"}
SOMEONE_ELSE = {"app.kubernetes.io/name": "some-other-app"}
NGINX = {"app.kubernetes.io/name": "maps-nginx", "app.kubernetes.io/instance": "maps"}


@pytest.fixture(scope="module")
def example(cluster, images, tmp_path_factory):
    root = tmp_path_factory.mktemp("example")
    wheel = build_wheel(root / "package")
    (root / "workspace").mkdir()
    workspace = Workspace(root / "workspace", copy_project=False)
    shutil.copytree(EXAMPLE, workspace.project, dirs_exist_ok=True, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    install_wheel(wheel, workspace.project / "venv")
    cluster.kubectl("create", "namespace", NAMESPACE)
    try:
        cluster.kubectl("apply", "-f", "-", input=json.dumps(listener_manifest(NAMESPACE, images.wait_stand_in)))
        workspace.select("maps")
        point_at_the_cluster(workspace, cluster, images, NAMESPACE, NODE_PORT)
        workspace.ok("up", "--yes", "--skip-preview", timeout=900)
        yield workspace
    finally:
        workspace.run("destroy", "--yes", "--skip-preview", timeout=600)
        cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)


def test_it_ran_the_installed_package(example):
    outputs = json.loads(example.ok("stack", "output", "--json"))
    assert outputs["projectUrls"] == {name: f"{BASE}/ogc/{name}" for name in TITLES}
    imported = example.project / "venv" / "lib"
    assert list(imported.glob("python3*/site-packages/pulumi_geostack/nginx_proxy.py")), "the wheel is installed"


@pytest.mark.parametrize("name", TITLES)
def test_each_project_answers_from_the_server_of_its_folder(example, name):
    assert_project_answers(BASE, name, TITLES[name])


def test_each_server_has_only_its_own_folder(example, cluster):
    for name, other in (("planning", "parks"), ("parks", "planning")):
        files = cluster.kubectl("exec", "-n", NAMESPACE, f"deployment/qgis-{name}", "--", "ls", "/data").stdout.split()
        assert f"{name}.qgs" in files and f"{other}.qgs" not in files, files


def test_a_name_neither_folder_has_is_not_found(example):
    assert http_get(f"{BASE}/ogc/harbour?SERVICE=WMS&REQUEST=GetCapabilities")[0] == 404


def test_the_default_deny_covers_the_stacks_pods_and_leaves_the_other_tenants(example, cluster, images):
    listener = cluster.kubectl("get", "pod", "-n", NAMESPACE, "unnamed-listener", "-o",
                               "jsonpath={.status.podIP}").stdout
    assert connects(cluster, NAMESPACE, SOMEONE_ELSE, images.wait_stand_in, listener, 8000).connected
    refused = connects(cluster, NAMESPACE, SOMEONE_ELSE, images.wait_stand_in, "qgis-parks", 5555)
    assert not refused.connected, refused.log
    allowed = connects(cluster, NAMESPACE, NGINX, images.wait_stand_in, "qgis-parks", 5555)
    assert allowed.connected, allowed.log


def test_preview_right_after_up_shows_no_changes(example):
    example.ok("preview", "--expect-no-changes", "--diff")


def test_destroy_leaves_the_namespace_and_the_other_tenants_pod(example, cluster):
    example.ok("destroy", "--yes", "--skip-preview", timeout=600)
    namespace = json.loads(cluster.kubectl("get", "namespace", NAMESPACE, "-o", "json").stdout)
    assert namespace["status"]["phase"] == "Active"
    left = cluster.kubectl("get", "deployments,services,configmaps,networkpolicies", "-n", NAMESPACE,
                           "-l", "app.kubernetes.io/part-of=geostack", "-o", "name").stdout.split()
    assert left == []
    phase = cluster.kubectl("get", "pod", "-n", NAMESPACE, "unnamed-listener", "-o", "jsonpath={.status.phase}").stdout
    assert phase == "Running"
