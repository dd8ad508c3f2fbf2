"""What staging and prod render passes the Kubernetes schema (strict) and checkov, with only
the skips listed in policy/checkov-skips.yaml; and both gates do catch broken objects."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from pulumi_geostack.config_keys import SETTINGS
from offline.checks import (DOCKER_CONTEXT, checkov_failures, load_skips, schema_problems, unlisted, unused)
from offline.program_run import run_program, stack_config
from offline.render import kubernetes_objects, write_manifests

VARIANTS = {  # stack files as committed, plus the shapes they don't cover
    "staging": ("staging", {}),
    "prod": ("prod", {}),
    "staging-qgis-only": ("staging", {"geostack:geonodeEnabled": "false"}),
    "staging-autoscaled": ("staging", {"geostack:qgisAutoscaleMax": "6", "geostack:nginxReplicas": "3",
                                       "geostack:nginxAutoscaleMax": "4", "geostack:qgisDataClaim": "projects"}),
}


def version(stack: str) -> str:
    default = next(s.default for s in SETTINGS if s.key == "kubernetesVersion")
    return stack_config(stack).get("geostack:kubernetesVersion", default)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[list[dict], Path, str]]:
    out = {}
    for variant, (stack, overrides) in VARIANTS.items():
        manifests = kubernetes_objects(run_program(stack, overrides))
        directory = tmp_path_factory.mktemp(variant)
        write_manifests(manifests, directory)
        out[variant] = (manifests, directory, version(stack))
    return out


@pytest.fixture(scope="module")
def failures(rendered):
    return {variant: checkov_failures(directory, "kubernetes") for variant, (_, directory, _) in rendered.items()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_object_passes_the_strict_schema(rendered, variant):
    manifests, _, kube_version = rendered[variant]
    assert kube_version == "1.33"
    assert len(manifests) > 10
    assert schema_problems(manifests, kube_version) == []


def test_schema_failures_name_the_object_and_field(rendered):
    manifests, _, kube_version = rendered["staging"]
    broken = copy.deepcopy(next(m for m in manifests if m["kind"] == "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    name = broken["metadata"]["name"]
    assert schema_problems([broken], kube_version) == [
        f"Deployment/{name}: spec.template.spec.containers[0]: "
        "Additional properties are not allowed ('imagePullPolicyy' was unexpected)"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_checkov_finds_nothing_beyond_the_listed_skips(failures, variant):
    problems = [f.describe() for f in unlisted(failures[variant], load_skips())]
    assert problems == []


def test_every_listed_skip_is_still_needed(failures):
    everything = [f for found in failures.values() for f in found]
    assert [s.check for s in unused(load_skips(), everything)] == []


def test_every_skip_has_a_reason():
    skips = load_skips()
    assert skips and all(len(s.reason) > 40 for s in skips)


def test_checkov_failures_name_the_object_and_field(rendered, tmp_path):
    manifests, _, _ = rendered["staging-qgis-only"]
    broken = copy.deepcopy(next(m for m in manifests if m["kind"] == "Deployment"
                                and m["metadata"]["name"] == "qgis-server"))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    write_manifests([broken], tmp_path)
    problems = [f.describe() for f in unlisted(checkov_failures(tmp_path, "kubernetes"), load_skips())]
    privileged = [p for p in problems if p.startswith("CKV_K8S_16 ")]
    assert privileged, problems
    assert "Deployment.geostack-staging.qgis-server" in privileged[0]
    assert privileged[0].endswith("spec/template/spec/containers/[0]/securityContext/privileged")


def test_the_dockerfile_passes_checkov():
    assert [f.describe() for f in checkov_failures(DOCKER_CONTEXT, "dockerfile")] == []
