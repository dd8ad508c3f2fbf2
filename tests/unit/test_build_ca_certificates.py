"""geostack:buildCaCertificates reaches every image geostack builds, on every target, as the
EXTRA_CA_CERTS build argument its Dockerfiles take; a bad value is refused before anything is
declared."""
from __future__ import annotations

from pathlib import Path

import pytest

from offline.program_run import PROJECT_ROOT, run_program
from tests.unit.test_config_errors import run_expecting_error

IMAGE = "docker:index/image:Image"
KEY = "geostack:buildCaCertificates"
# Certificate-shaped text (not a real certificate): the program passes it on and never parses it.
CA = """-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIUKcmvU7v9RkV4M4bW3c0dPyOvNgMwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJdGVzdC1wcm94eTAeFw0yNjEyMDYwMDAwMDBaFw0zNjEyMDQw
MDAwMDBaMBQxEjAQBgNVBAMMCXRlc3QtcHJveHkwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ1w0r7Q1m8r2Q5xv2v9s8XJ6p0n3kqVbQb8H0y9f3n2m4pYc1t6u7e
o5yXr0o9oXv1r9M2c8s3x6m2n1k0q7Ywo1MwUTAdBgNVHQ4EFgQU3o7xv2m9s1n0
q3kqVbQb8H0y9f0wHwYDVR0jBBgwFoAU3o7xv2m9s1n0q3kqVbQb8H0y9f0wDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA0n3kqVbQb8H0y9f3n2m4
pYc1t6u7eo5yXr0o9oXv1r8CIH2m4pYc1t6u7eo5yXr0o9oXv1r9M2c8s3x6m2n1
-----END CERTIFICATE-----
"""
# Every stack builds geostack's QGIS image; these also build its GeoNode and backup images.
GEONODE_ON = {"dev": {"geostack:geonodeEnabled": "true"}, "staging": {}, "prod": {}}


def builds(stack: str, overrides: dict[str, str]) -> dict[str, dict]:
    run = run_program(stack, {**GEONODE_ON[stack], **overrides})
    return {image.name: image.inputs for image in run.of_type(IMAGE)}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_build_on_every_target_gets_the_certificates(stack):
    plain, trusting = builds(stack, {}), builds(stack, {KEY: CA})
    assert len(trusting) == 3, f"{stack}: expected the QGIS, GeoNode and backup image builds, got {sorted(trusting)}"
    for name, inputs in trusting.items():
        args = inputs["build"]["args"]
        assert args["EXTRA_CA_CERTS"] == CA, name
        assert "EXTRA_CA_CERTS" not in (plain[name]["build"].get("args") or {}), name
        # Another build (its history records the argument), so another tag: ECR's tags are
        # immutable, and a rebuild pushed under the old tag would be refused.
        assert inputs["imageName"] != plain[name]["imageName"], name


def test_every_dockerfile_geostack_builds_takes_the_argument():
    for dockerfile in (PROJECT_ROOT / "docker").glob("*/Dockerfile"):
        assert 'ARG EXTRA_CA_CERTS=""' in dockerfile.read_text(), dockerfile


@pytest.mark.parametrize("relative", [True, False], ids=["relative-path", "absolute-path"])
def test_a_file_path_gives_the_files_certificates(tmp_path, relative):
    bundle = tmp_path / "proxy-ca.pem"
    bundle.write_text(CA)
    value = str(bundle)
    if relative:  # relative to the project root, as the CLI runs the program there
        value = str(Path(*[".."] * len(PROJECT_ROOT.parts[1:])) / bundle.relative_to("/"))
    (qgis_build,) = [inputs for inputs in builds("dev", {KEY: value, "geostack:geonodeEnabled": "false"}).values()]
    assert qgis_build["build"]["args"]["EXTRA_CA_CERTS"] == CA


@pytest.mark.parametrize("content, expected", [
    (None, "geostack:buildCaCertificates must be PEM certificates or the path of a readable file of them, "
           "got 'no/such/ca.pem' (No such file or directory)"),
    ("just text\n", "geostack:buildCaCertificates must be PEM certificates (-----BEGIN CERTIFICATE----- ... "
                    "-----END CERTIFICATE-----) or the path of a file of them, got"),
    (CA + "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n",
     "geostack:buildCaCertificates must hold certificates only"),
])
def test_a_bad_value_is_refused_naming_the_key(tmp_path, content, expected):
    value = "no/such/ca.pem"
    if content is not None:
        value = str(tmp_path / "ca.pem")
        (tmp_path / "ca.pem").write_text(content)
    message = run_expecting_error("dev", {KEY: value})
    assert message.startswith(expected)
    assert "\n" not in message


def test_pem_text_without_a_certificate_is_refused():
    message = run_expecting_error("staging", {KEY: "-----BEGIN CERTIFICATE-----\nnot base64!\n"})
    assert "geostack:buildCaCertificates must be PEM certificates" in message and "got text that holds none" in message
