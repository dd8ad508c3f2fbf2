"""The tests' Docker engine is shared by the two groups scripts/test.sh runs side by side: a
`docker_engine()` block removes what it made, and only that, when it ends."""
from __future__ import annotations

import docker
import pytest
from docker.errors import NotFound

from tests.e2e.docker_engine import docker_engine, ensure_base_image


def _exists(collection, ident: str) -> bool:
    try:
        collection.get(ident)
        return True
    except NotFound:
        return False


def test_a_block_removes_what_it_made_and_leaves_another_clients_objects():
    with docker_engine() as client:
        ensure_base_image(client, "bookworm")
        # Another process's client, as the other group's worker has: what it makes is not ours.
        other = docker.from_env(timeout=60)
        theirs = other.containers.create("debian:bookworm-slim", ["sleep", "60"])
        their_volume = other.volumes.create()
        try:
            with docker_engine() as ours:
                network = ours.networks.create("geostack-sharing-check")
                volume = ours.volumes.create()
                container = ours.containers.run("debian:bookworm-slim", ["sleep", "60"], detach=True,
                                                network=network.name, volumes={volume.name: {"bind": "/data"}})
            assert not _exists(client.containers, container.id)
            assert not _exists(client.networks, network.id)
            assert not _exists(client.volumes, volume.name)
            assert _exists(client.containers, theirs.id)
            assert _exists(client.volumes, their_volume.name)
        finally:
            theirs.remove(force=True)
            their_volume.remove(force=True)
            other.close()


def test_a_block_that_fails_still_removes_what_it_made():
    with pytest.raises(RuntimeError, match="the test failed"):
        with docker_engine() as client:
            ensure_base_image(client, "bookworm")
            made = client.containers.create("debian:bookworm-slim", ["true"])
            raise RuntimeError("the test failed")
    with docker_engine() as client:
        assert not _exists(client.containers, made.id)
