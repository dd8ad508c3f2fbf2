"""examples/two-folders, the components composed differently from geostack's own program, run
with the installed package under the offline mocks: a QGIS server per folder, each serving only
its folder's projects, one nginx routing /ogc/<name> to the server that has it, in a namespace the
stack reads but never declares. tests/kubernetes/test_example_on_the_cluster.py deploys it."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import pulumi_geostack
from offline.program_run import PROJECT_ROOT
from tests.package.wheel import run_program_in

EXAMPLE = PROJECT_ROOT / "examples" / "two-folders"
NAMESPACE = "maps-team"


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """The example as a user copies it: its own directory, nothing else of this repository."""
    project = tmp_path_factory.mktemp("example") / "two-folders"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    (project / "Pulumi.maps.yaml").write_text(f"config:\n  geostack:kubernetesNamespace: {NAMESPACE}\n")
    return project


@pytest.fixture(scope="module")
def found(installed, example) -> dict:
    found = run_program_in(installed, example, "maps")
    assert found["error"] is None, found["error"]
    assert Path(found["package"]).is_relative_to(installed.parent.parent), "the installed package is imported"
    return found


def declared(found: dict, type_: str) -> dict[str, dict]:
    return {name: inputs for kind, name, inputs in found["resources"] if kind == type_}


def test_each_folder_is_on_a_server_of_its_own(found):
    deployments = declared(found, "kubernetes:apps/v1:Deployment")
    assert sorted(deployments) == ["maps-nginx-deployment", "qgis-parks-deployment", "qgis-planning-deployment"]
    files = declared(found, "kubernetes:core/v1:ConfigMap")
    for team, other in (("planning", "parks"), ("parks", "planning")):
        data = files[f"qgis-{team}-data-0"]
        keys = {**data.get("data", {}), **data.get("binaryData", {})}
        assert f"{team}.qgs" in keys and f"{other}.qgs" not in keys, sorted(keys)
        env = {e["name"]: e.get("value") for e in
               deployments[f"qgis-{team}-deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["QGIS_HEALTHCHECK_PROJECT"] == f"/data/{team}.qgs"


def test_nginx_routes_each_project_to_the_server_that_has_it(found):
    conf = declared(found, "kubernetes:core/v1:ConfigMap")["maps-nginx-files"]["data"]["nginx.conf"]
    upstreams = dict(re.findall(r"upstream (\w+) \{\s*server ([^;]+);", conf))
    assert upstreams == {"qgis_server_0": "qgis-planning:5555",
                         "qgis_server_1": "qgis-parks:5555"}
    server_map = re.search(r"map \$qgis_project_name \$qgis_project_server \{(.*?)\}", conf, re.S).group(1)
    assert dict(re.findall(r"(\S+) (\S+);", server_map)) == {"default": "qgis_server_0", "parks": "qgis_server_1"}
    file_map = re.search(r"map \$qgis_project_name \$qgis_project_file \{(.*?)\}", conf, re.S).group(1)
    assert dict(re.findall(r"(\w+) \"([^\"]+)\";", file_map)) == {"planning": "/data/planning.qgs",
                                                                "parks": "/data/parks.qgs"}
    assert "fastcgi_pass $qgis_project_server;" in conf


def test_only_the_proxy_reaches_either_server(found):
    policies = declared(found, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    for team in ("planning", "parks"):
        (rule,) = policies[f"qgis-{team}-ingress-policy"]["spec"]["ingress"]
        assert [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in rule["from"]] == ["maps-nginx"]


def test_the_namespace_is_read_not_declared(found):
    assert not declared(found, "kubernetes:core/v1:Namespace")
    assert found["reads"] == [["kubernetes:core/v1:Namespace", "microk8s-target-namespace", NAMESPACE]]
    namespaces = {inputs["metadata"]["namespace"] for _, _, inputs in found["resources"]
                  if isinstance(inputs.get("metadata"), dict) and "namespace" in inputs["metadata"]}
    assert namespaces == {NAMESPACE}


def test_outputs_give_each_project_its_address(found):
    assert found["outputs"] == {
        "url": "http://localhost:30080",
        "projectUrls": {"planning": "http://localhost:30080/ogc/planning", "parks": "http://localhost:30080/ogc/parks"},
        "geostackVersion": pulumi_geostack.__version__}


def test_without_a_namespace_the_example_stops_before_declaring_anything(installed, example):
    (example / "Pulumi.nameless.yaml").write_text("config: {}\n")
    found = run_program_in(installed, example, "nameless")
    assert found["error"] == ("geostack:kubernetesNamespace must name the namespace when "
                              "geostack:kubernetesNamespaceExists is true (its default, geostack-<stack name>, is "
                              "one the stack creates itself)")
    assert found["resources"] == []
