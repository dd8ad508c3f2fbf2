"""A project folder more than a ConfigMap carries reaches Kubernetes as layers of the image QGIS runs."""
from __future__ import annotations

import hashlib

import pytest

from pulumi_geostack.config import CONFIGMAP_BUDGET_BYTES, more_than_a_configmap_carries
from pulumi_geostack.qgis_projects import folder_digest
from offline.program_run import run_program

DYNAMIC = "pulumi-python:dynamic:Resource"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@pytest.fixture
def big_folder(tmp_path):
    (tmp_path / "sample.qgs").write_text("<qgis/>\n")
    (tmp_path / "dem.tif").write_bytes(bytes(range(256)) * 4000)  # 1 024 000 bytes, base64 in a ConfigMap
    return tmp_path


@pytest.mark.parametrize(("text_bytes", "binary_bytes", "too_big"), [
    (990_000, 0, False),           # text travels as it is: under the budget
    (CONFIGMAP_BUDGET_BYTES + 1, 0, True),
    (0, 740_000, False),           # 986 668 bytes once base64-encoded
    (0, 760_000, True),            # 1 013 336 bytes once base64-encoded, though its files are smaller
    (500_000, 380_000, True),      # 500 000 + 506 668
])
def test_the_configmap_budget_counts_binary_files_base64_encoded(tmp_path, text_bytes, binary_bytes, too_big):
    (tmp_path / "sample.qgs").write_text("x" * (text_bytes - 1) + "\n" if text_bytes else "")
    if binary_bytes:
        (tmp_path / "dem.tif").write_bytes((bytes(range(256)) * (binary_bytes // 256 + 1))[:binary_bytes])
    assert more_than_a_configmap_carries(tmp_path) is too_big


def qgis_pod(run) -> dict:
    return run.one(DEPLOYMENT, "qgis-server-deployment").inputs["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_big_folder_becomes_layers_of_the_image_the_pods_run(stack, big_folder):
    run = run_program(stack, {"geostack:qgisProjectDir": str(big_folder)})
    image = run.one(DYNAMIC, "qgis-server-project-image")
    base = image.inputs["base"]
    registry = "localhost:32000" if stack == "staging" else "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert base.startswith(f"{registry}/geostack/qgis-server@sha256:")  # the QGIS image the stack pushed
    assert {key: image.inputs[key] for key in ("registry", "repository", "content", "mount", "folder", "plainHttp")} == {
        "registry": registry, "repository": "geostack/qgis-server", "content": folder_digest(big_folder),
        "mount": "/data", "folder": str(big_folder),
        "plainHttp": stack == "staging"}  # microk8s's registry addon has no TLS, ECR has nothing else
    assert "password" in image.secret_inputs
    container = qgis_pod(run)["containers"][0]
    # The mocks give a ProjectImage the ref sha256(base + content) (offline/program_run.py).
    ref_digest = hashlib.sha256(f"{base}{folder_digest(big_folder)}".encode()).hexdigest()
    assert container["image"] == f"{registry}/geostack/qgis-server@sha256:{ref_digest}"
    assert not [m for m in container["volumeMounts"] if m["mountPath"] == "/data"]
    assert not [c for c in run.of_type("kubernetes:core/v1:ConfigMap") if c.name == "qgis-server-data-0"]


def test_a_small_folder_still_travels_as_a_configmap():
    run = run_program("staging")
    assert not [r for r in run.of_type(DYNAMIC) if "content" in r.inputs], "no project image is derived"
    assert run.one("kubernetes:core/v1:ConfigMap", "qgis-server-data-0")
    mounts = qgis_pod(run)["containers"][0]["volumeMounts"]
    assert [m for m in mounts if m["mountPath"] == "/data"] == [{"name": "data-0", "mountPath": "/data", "readOnly": True}]


def test_docker_bind_mounts_a_big_folder_as_ever(big_folder):
    run = run_program("dev", {"geostack:qgisProjectDir": str(big_folder)})
    assert not run.of_type(DYNAMIC)
    volumes = run.one("docker:index/container:Container", "qgis-server").inputs["volumes"]
    assert {"hostPath": str(big_folder), "containerPath": "/data", "readOnly": True} in volumes
