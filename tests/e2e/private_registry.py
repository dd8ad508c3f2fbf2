"""Debian's docker-registry (the distribution server microk8s's registry addon runs) on a free
loopback port, with its storage in a scratch dir; stopped and deleted afterwards, pass or fail."""
from __future__ import annotations

import contextlib
import subprocess
import uuid
from typing import Iterator

import docker

from offline.loopback import answers, free_port, scratch_dir, stop_group, wait_until
from tests.cluster.configs import registry_config


@contextlib.contextmanager
def private_registry() -> Iterator[str]:
    """Yields the registry's host:port (localhost, so clients speak plain HTTP to it)."""
    host = f"localhost:{free_port()}"
    with scratch_dir("geostack-registry-") as root:
        config = root / "registry.yaml"
        config.write_text(registry_config(root / "registry", host))
        with open(root / "registry.log", "wb") as log:
            process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: answers(f"http://{host}/v2/"), 30, "the private registry")
            yield host
        finally:
            stop_group(process)


def push_image(client: docker.DockerClient, name: str, tag: str) -> str:
    """Push `name:tag` (name starting with a registry) from the engine; its reference by digest."""
    for line in client.api.push(name, tag=tag, stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(f"push of {name}:{tag} failed: {line['error']}")
    digests = [d for d in client.api.inspect_image(f"{name}:{tag}")["RepoDigests"] if d.startswith(name + "@")]
    assert digests, f"{name}:{tag} has no digest after its push"
    return digests[0]


def push_a_new_build(client: docker.DockerClient, name: str, tag: str) -> str:
    """What an upstream re-push of a mutable tag does: another image (the same one with a label
    of its own) pushed under `name:tag`; its reference by digest."""
    container = client.api.create_container(f"{name}:{tag}")
    try:
        client.api.commit(container["Id"], repository=name, tag=tag,
                          changes=[f"LABEL org.geostack.rebuild={uuid.uuid4().hex}"])
    finally:
        client.api.remove_container(container["Id"], force=True)
    return push_image(client, name, tag)
