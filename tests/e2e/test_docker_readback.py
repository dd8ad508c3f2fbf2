"""The test realizer reads each container back from a real engine as pulumi-docker does, so a
declared value the engine hands back in another form fails the run: the 60s healthcheck
interval that made every preview of a GeoNode stack propose a change."""
from __future__ import annotations

import pytest

from tests.e2e.docker_engine import docker_engine, ensure_base_image
from tests.e2e.docker_realizer import CONTAINER, NETWORK, DockerRealizer, PerpetualDiff

BASE = "debian:bookworm-slim"


@pytest.fixture(scope="module")
def realizer():
    with docker_engine() as engine:
        ensure_base_image(engine)
        realizer = DockerRealizer(engine)
        realizer.apply(NETWORK, "readback-network", {"name": "geostack-readback-test", "driver": "bridge"})
        try:
            yield realizer
        finally:
            realizer.destroy()


def container(name: str, interval: str) -> dict:
    """A container declared as the program declares its long-running ones."""
    return {
        "name": f"geostack-readback-{name}", "image": BASE, "entrypoints": ["sleep"], "command": ["600"],
        "networksAdvanced": [{"name": "geostack-readback-test", "aliases": [name]}],
        "restart": "unless-stopped", "readOnly": True, "capabilities": {"drops": ["ALL"]},
        "securityOpts": ["no-new-privileges:true"], "tmpfs": {"/tmp": "rw,nosuid,nodev,size=16m"},
        "healthcheck": {"tests": ["CMD", "true"], "interval": interval, "timeout": "10s", "startPeriod": "0s",
                        "retries": 3},
    }


def test_a_value_in_the_form_the_engine_hands_back_passes(realizer):
    realizer.apply(CONTAINER, "stored-form", container("stored-form", "1m0s"))
    assert "stored-form" in realizer.containers


def test_a_duration_the_provider_would_reprint_fails_the_run(realizer):
    with pytest.raises(PerpetualDiff, match=r"healthcheck.*'interval': '1m0s'.*'interval': '60s'"):
        realizer.apply(CONTAINER, "seconds-form", container("seconds-form", "60s"))
