"""A new environment needs only a target and a host name: the defaults in Pulumi.yaml do the rest."""
from __future__ import annotations

from offline.checks import schema_problems
from offline.program_run import run_program
from offline.render import kubernetes_objects

NEW_STACK = {  # e.g. `pulumi stack init lab && pulumi config set geostack:target microk8s && ...`
    "geostack:target": "microk8s",
    "geostack:microk8sHost": "lab.example.org",
}


def test_a_two_key_stack_is_a_complete_valid_deployment():
    run = run_program("lab", config=NEW_STACK)
    kinds = {r.type.split(":")[-1] for r in run.resources if r.type.startswith("kubernetes:")}
    assert {"Namespace", "NetworkPolicy", "ConfigMap", "Deployment", "Service"} <= kinds
    assert run.outputs["wmsCapabilitiesUrl"] == (
        "http://lab.example.org:30080/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities")
    assert run.outputs["imageRef"].startswith("localhost:32000/geostack/qgis-server@sha256:")
    manifests = kubernetes_objects(run)
    assert len(manifests) >= 8
    assert schema_problems(manifests, "1.33") == []
