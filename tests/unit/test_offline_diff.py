"""The credential-free review: two versions of the program, a real change to a port (stack
config), an env var (code) and a replica count (stack config), and a diff that names exactly those."""
from __future__ import annotations

import subprocess

import pytest

from offline.diff import compare, report, snapshots
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
    code = repo / "components" / "qgis_server.py"
    assert code.read_text().count('"QGIS_SERVER_LOG_STDERR": "1"') == 1
    code.write_text(code.read_text().replace('"QGIS_SERVER_LOG_STDERR": "1"', '"QGIS_SERVER_LOG_STDERR": "0"'))
    staging = repo / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("geostack:qgisReplicas: 2", "geostack:qgisReplicas: 3"))
    git(repo, "commit", "--quiet", "-am", "publish on 8081, QGIS logs off stderr, three QGIS pods")
    head = git(repo, "rev-parse", "HEAD")
    return repo, base, head


def test_the_diff_names_exactly_the_changed_fields(two_versions):
    repo, base, head = two_versions
    found = {stack: compare(*pair) for stack, pair in snapshots(base, head, ["dev", "staging", "prod"], repo).items()}
    assert found["dev"]["added"] == found["dev"]["removed"] == []
    assert found["dev"]["changed"] == {
        "docker:index/container:Container::qgis-nginx": {"ports[0].external": (8080, 8081)},
        "docker:index/container:Container::qgis-server": {"envs[QGIS_SERVER_LOG_STDERR]": ("1", "0")},
    }
    assert set(found["dev"]["outputs"]) == {"url", "wmsCapabilitiesUrl"}
    env_field = "spec.template.spec.containers[qgis-server].env[QGIS_SERVER_LOG_STDERR].value"
    assert found["staging"]["changed"] == {
        "kubernetes:apps/v1:Deployment::qgis-server-deployment": {"spec.replicas": (2, 3), env_field: ("1", "0")}}
    assert found["staging"]["added"] == found["staging"]["removed"] == [] and not found["staging"]["outputs"]
    assert found["prod"] == {"added": [], "removed": [], "outputs": {}, "changed": {
        "kubernetes:apps/v1:Deployment::qgis-server-deployment": {env_field: ("1", "0")}}}


def test_the_report_is_readable_markdown(two_versions):
    repo, base, head = two_versions
    text = report(base, head, ["staging", "prod"], repo)
    assert "### `staging`: 0 to add, 1 to change, 0 to remove" in text
    assert "- `spec.replicas`: `2` → `3`" in text
    assert "### `prod`: 0 to add, 1 to change, 0 to remove" in text


def test_secrets_appear_only_as_fingerprints(two_versions):
    repo, base, head = two_versions
    (_, staging), = snapshots(base, head, ["staging"], repo).values()
    text = str(staging)
    assert "generated-geonode-admin-password" not in text
    assert "<secret " in text
