"""A wrong config value stops the program with one line naming the key, before anything is declared."""
from __future__ import annotations

import pytest

from components.config import ConfigError
from offline.program_run import run_program


def run_expecting_error(stack: str, overrides: dict[str, str]) -> str:
    """Run the program with bad config; return the error text after checking nothing was declared."""
    run = run_program(stack, overrides, raise_errors=False)
    assert isinstance(run.error, ConfigError), f"expected a ConfigError, got {run.error!r}"
    assert run.resources == [], "resources were declared despite invalid config"
    return str(run.error)


@pytest.mark.parametrize("key, value, expected", [
    ("target", "kubernetes", "geostack:target must be one of docker, microk8s, eks, got 'kubernetes'"),
    ("qgis.fcgiPort", "70000", "geostack:qgis.fcgiPort must be an integer from 1 to 65535, got '70000'"),
    ("qgis.fcgiPort", "0", "geostack:qgis.fcgiPort must be an integer from 1 to 65535, got '0'"),
    ("qgis.replicas", "abc", "geostack:qgis.replicas must be an integer from 1 to 100, got 'abc'"),
    ("qgis.processes", "-2", "geostack:qgis.processes must be an integer from 0 to 64, got '-2'"),
    ("qgis.parallelRendering", "yes", "geostack:qgis.parallelRendering must be true or false, got 'yes'"),
    ("qgis.imageTag", "latest", "geostack:qgis.imageTag must be a Docker tag other than 'latest' (or empty), got 'latest'"),
    ("nginx.image", "nginx:latest", "geostack:nginx.image must be a pinned image reference"),
    ("nginx.image", "nginx", "geostack:nginx.image must be a pinned image reference"),
    ("nginx.path", "qgis", "geostack:nginx.path must be a URL path such as /qgis-server, got 'qgis'"),
    ("qgis.memoryLimit", "lots", "geostack:qgis.memoryLimit must be a memory quantity such as 512Mi or 2Gi"),
    ("kubernetes.namespace", "Geo_Stack", "geostack:kubernetes.namespace must be a DNS label"),
])
def test_bad_value_names_key_value_and_allowed(key, value, expected):
    message = run_expecting_error("dev", {f"geostack:{key}": value})
    assert expected in message
    assert "\n" not in message, "one mistake gives one line"


def test_missing_data_directory():
    message = run_expecting_error("dev", {"geostack:qgis.projectDir": "no/such/dir"})
    assert message == "geostack:qgis.projectDir must be an existing directory, got 'no/such/dir'"


def test_missing_project_file():
    message = run_expecting_error("dev", {"geostack:qgis.projectFile": "missing.qgs"})
    assert message.startswith("geostack:qgis.projectFile must name a file inside ")
    assert message.endswith("got 'missing.qgs'")


def test_unknown_key_suggests_the_right_one():
    message = run_expecting_error("dev", {"geostack:qgis.replica": "2"})
    assert message == "geostack:qgis.replica is not a geostack setting (did you mean geostack:qgis.replicas?)"


def test_eks_needs_a_cluster_name():
    message = run_expecting_error("prod", {"geostack:eks.clusterName": ""})
    assert message == "geostack:eks.clusterName must be set when geostack:target is eks, got ''"


def test_claim_is_refused_on_docker():
    message = run_expecting_error("dev", {"geostack:qgis.dataClaim": "qgis-projects"})
    assert message.startswith("geostack:qgis.dataClaim is for Kubernetes targets only")


def test_limit_below_request():
    message = run_expecting_error("staging", {"geostack:qgis.cpuRequest": "2", "geostack:qgis.cpuLimit": "500m"})
    assert message == "geostack:qgis.cpuLimit must be at least geostack:qgis.cpuRequest (2), got '500m'"


def test_project_too_large_for_a_configmap(tmp_path):
    (tmp_path / "big.qgs").write_bytes(b"x" * 1_100_000)
    message = run_expecting_error("staging", {
        "geostack:qgis.projectDir": str(tmp_path), "geostack:qgis.projectFile": "big.qgs"})
    assert message.startswith("geostack:qgis.projectDir holds 1100000 bytes")
    assert "geostack:qgis.dataClaim" in message


def test_every_mistake_is_reported_at_once():
    message = run_expecting_error("dev", {"geostack:qgis.replicas": "0", "geostack:nginx.port": "80"})
    assert message.splitlines() == [
        "geostack:qgis.replicas must be an integer from 1 to 100, got '0'",
        "geostack:nginx.port must be an integer from 1024 to 65535, got '80'",
    ]


def test_config_error_prints_without_traceback():
    # Pulumi prints a RunError's message alone, with no stack trace.
    import pulumi

    assert issubclass(ConfigError, pulumi.RunError)
