"""The image builds the program declares, for tests that must build an image themselves.

The staging tests cannot let pulumi-docker build (no build of it is served here), so they build
the same context with the arguments and platform the program declares, and hand the result to
the stack as a prebuilt image. Nothing is added here: a build input the program does not declare
would test something `pulumi up` does not do.

This machine reaches PyPI through a TLS-intercepting proxy, so every stack the tests deploy sets
geostack:buildCaCertificates to the host's extra CA certificates, as a user on such a network
does; a host without any sets nothing.
"""
from __future__ import annotations

from offline.program_run import run_program
from tests.e2e.image_cache import local_ca_certs

IMAGE = "docker:index/image:Image"

# The key a user on this network sets; empty where the host trusts no CA of its own.
HOST_CA_CONFIG: dict[str, str] = {"geostack:buildCaCertificates": local_ca_certs()} if local_ca_certs() else {}


def declared_build(context: str, config: dict[str, str] | None = None) -> tuple[dict[str, str], str]:
    """(build arguments, platform) of the dev stack's build of `context` (say "docker/geonode"),
    with GeoNode on, the host's CA and `config`."""
    run = run_program("dev", {"geostack:geonodeEnabled": "true", **HOST_CA_CONFIG, **(config or {})})
    builds = [image.inputs["build"] for image in run.of_type(IMAGE) if image.inputs["build"]["context"] == context]
    assert len(builds) == 1, f"the dev stack declares {len(builds)} builds of {context}"
    return dict(builds[0].get("args") or {}), builds[0]["platform"]
