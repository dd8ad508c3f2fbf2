"""The credential-free review: two versions of the program, a real change to a port (stack
config), an env var (code) and a replica count (stack config), and a diff that names exactly those."""
from __future__ import annotations

import json
import subprocess

import pytest

from offline.diff import compare, data_at_risk, predicted_operations, report, snapshots
from offline.program_run import PROJECT_ROOT


def git(repo, *args) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    repo = tmp_path_factory.mktemp("review") / "repo"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(repo)], check=True)
    base = git(repo, "rev-parse", "HEAD")
    dev = repo / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text() + "  geostack:dockerHostPort: 8081\n")
    # A code change: proves the head's own components run, not this checkout's.
    code = repo / "pulumi_geostack" / "qgis_server.py"
    assert code.read_text().count('"QGIS_SERVER_LOG_STDERR": "1"') == 1
    code.write_text(code.read_text().replace('"QGIS_SERVER_LOG_STDERR": "1"', '"QGIS_SERVER_LOG_STDERR": "0"'))
    staging = repo / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("geostack:qgisReplicas: 2", "geostack:qgisReplicas: 3"))
    git(repo, "commit", "--quiet", "-am", "publish on 8081, QGIS logs off stderr, three QGIS pods")
    head = git(repo, "rev-parse", "HEAD")
    return repo, base, head


def by_name(found: dict) -> dict:
    """compare()'s URN-keyed parts, keyed by the resource's name for readable expectations."""
    return {part: ({urn.rsplit("::", 1)[-1]: value for urn, value in entries.items()} if isinstance(entries, dict)
                   and part != "outputs" else entries) for part, entries in found.items()}


def test_the_diff_names_exactly_the_changed_fields(two_versions):
    repo, base, head = two_versions
    found = {stack: by_name(compare(*pair)) for stack, pair in snapshots(base, head, ["dev", "staging", "prod"],
                                                                          repo).items()}
    assert found["dev"]["added"] == found["dev"]["removed"] == [] and found["dev"]["changed"] == {}
    # Docker cannot change a container's ports or env in place: the provider replaces it.
    assert found["dev"]["replaced"] == {"qgis-nginx": ["ports[0].external"],
                                        "qgis-server": ["envs[QGIS_SERVER_LOG_STDERR]"]}
    assert set(found["dev"]["outputs"]) == {"url", "wmsCapabilitiesUrl", "projectUrls.sample"}
    env_field = "spec.template.spec.containers[qgis-server].env[QGIS_SERVER_LOG_STDERR].value"
    changed = found["staging"]["changed"]
    # What `up` waits for names the replica count (pulumi_geostack/targets/kubernetes_pods.py), so it changes with it.
    waits = changed["qgis-server-deployment"].pop("metadata.annotations.pulumi.com/waitFor")
    assert [json.loads(w)[1:] for w in waits] == [[f"jsonpath={{.status.{field}}}={count}" for field in (
        "replicas", "updatedReplicas", "availableReplicas")] for count in (2, 3)]
    assert changed == {"qgis-server-deployment": {"spec.replicas": (2, 3), env_field: ("1", "0")}}
    assert found["staging"]["added"] == found["staging"]["removed"] == [] and not found["staging"]["outputs"]
    assert found["staging"]["replaced"] == found["staging"]["moved"] == {}
    assert found["prod"] == {"added": [], "removed": [], "outputs": {}, "replaced": {}, "moved": {},
                             "changed": {"qgis-server-deployment": {env_field: ("1", "0")}}}


def test_the_report_is_readable_markdown(two_versions):
    repo, base, head = two_versions
    text = report(base, head, ["dev", "staging", "prod"], repo)
    assert "### `staging`: 0 to add, 1 to change, 0 to replace, 0 to remove" in text
    assert "- `spec.replicas`: `2` → `3`" in text
    assert "### `prod`: 0 to add, 1 to change, 0 to replace, 0 to remove" in text
    assert "### `dev`: 0 to add, 0 to change, 2 to replace, 0 to remove" in text
    assert "```diff\n- replace geostack:" in text, "replacements come first, in red"


def test_secrets_appear_only_as_fingerprints(two_versions):
    repo, base, head = two_versions
    (_, staging), = snapshots(base, head, ["staging"], repo).values()
    text = str(staging)
    assert "generated-geonode-admin-password" not in text
    assert "<secret " in text


def _snapshot(*resources: tuple[str, str, dict, dict]) -> dict:
    """A hand-made offline.snapshot: (urn, type, inputs, options) per resource."""
    return {"outputs": {}, "resources": {urn: {"type": type_, "inputs": inputs, **options}
                                         for urn, type_, inputs, options in resources}}


PVC = "kubernetes:core/v1:PersistentVolumeClaim"
CLAIM_URN = f"urn:pulumi:staging::geostack::geostack:geonode:GeoNode${PVC}::geonode-dbdata"


def _claim(storage_class: str, urn: str = CLAIM_URN, **options) -> tuple:
    inputs = {"metadata": {"name": "geonode-dbdata", "namespace": "geostack-staging"},
              "spec": {"storageClassName": storage_class, "resources": {"requests": {"storage": "10Gi"}}}}
    return (urn, PVC, inputs, {"retainOnDelete": True, **options})


def test_a_claims_storage_class_is_a_replacement_unless_ignored():
    base = _snapshot(_claim("microk8s-hostpath"))
    assert compare(base, _snapshot(_claim("fast")))["replaced"] == {CLAIM_URN: ["spec.storageClassName"]}
    assert data_at_risk(base, _snapshot(_claim("fast"))) == [
        "replace geostack:geonode:GeoNode$kubernetes:core/v1:PersistentVolumeClaim::geonode-dbdata: stateful data, "
        "forced by spec.storageClassName (retained: the old one stays where it is)"]
    ignored = _snapshot(_claim("fast", ignoreChanges=["spec.storageClassName"]))
    assert predicted_operations(base, ignored) == {} and data_at_risk(base, ignored) == []
    bigger = _snapshot(_claim("microk8s-hostpath"))
    bigger["resources"][CLAIM_URN]["inputs"]["spec"]["resources"]["requests"]["storage"] = "20Gi"
    assert predicted_operations(base, bigger) == {CLAIM_URN: "update"}, "claims grow in place"


def test_a_moved_resource_is_the_same_object_deleted_after_its_create():
    moved_urn = CLAIM_URN.replace("geostack:geonode:GeoNode", "geostack:geonode:Site")
    base, head = _snapshot(_claim("x", protect=False)), _snapshot(_claim("x", urn=moved_urn))
    assert compare(base, head)["moved"] == {CLAIM_URN: moved_urn}
    assert predicted_operations(base, head) == {CLAIM_URN: "delete", moved_urn: "create"}
    (line,) = data_at_risk(base, head)
    assert line.startswith("move geostack:geonode:GeoNode$") and "then deleted under the old one" in line


def test_deleting_a_stateful_resource_is_flagged_and_a_stateless_one_is_not():
    deployment = ("urn:pulumi:staging::geostack::kubernetes:apps/v1:Deployment::web", "kubernetes:apps/v1:Deployment",
                  {"metadata": {"name": "web"}}, {})
    base = _snapshot(_claim("x", protect=True), deployment)
    assert data_at_risk(base, _snapshot()) == [
        "delete geostack:geonode:GeoNode$kubernetes:core/v1:PersistentVolumeClaim::geonode-dbdata: stateful data "
        "(protected: the engine refuses)"]
