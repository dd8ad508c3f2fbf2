"""Debian's docker-registry (the distribution server microk8s's registry addon runs) on a free
loopback port, with its storage in a scratch dir; stopped and deleted afterwards, pass or fail."""
from __future__ import annotations

import contextlib
import subprocess
from typing import Iterator

from offline.loopback import free_port, http_get, scratch_dir, stop_group, wait_until
from tests.cluster.configs import registry_config


@contextlib.contextmanager
def private_registry() -> Iterator[str]:
    """Yields the registry's host:port (localhost, so clients speak plain HTTP to it)."""
    host = f"localhost:{free_port()}"
    with scratch_dir("geostack-registry-") as root:
        config = root / "registry.yaml"
        config.write_text(registry_config(root, host))
        with open(root / "registry.log", "wb") as log:
            process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: _answers(host), 30, "the private registry")
            yield host
        finally:
            stop_group(process)


def _answers(host: str) -> bool:
    try:
        return http_get(f"http://{host}/v2/", timeout=2)[0] == 200
    except OSError:
        return False
