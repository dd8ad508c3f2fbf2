"""A Docker engine for the tests, and the base images no registry can give us.

`docker_engine()` uses an engine that already answers (DOCKER_HOST or the default
socket); otherwise it starts Debian's dockerd with a private data root, exec root and
socket in a temp dir, and stops it and deletes its data at the end.

The `debian:<release>-slim` images are made with debootstrap and `docker import`; each root
filesystem tarball is cached in ~/.cache/geostack so later runs on the same machine
import it in seconds instead of bootstrapping again.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import docker
from docker.errors import DockerException, ImageNotFound

from components.config_keys import QGIS_DEFAULT_RELEASE, QGIS_RELEASES
from offline.program_run import PROJECT_ROOT


DEBIAN_MIRROR = os.environ.get("GEOSTACK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "geostack"
NGINX_STAND_IN = PROJECT_ROOT / "tests" / "e2e" / "images" / "nginx-debian"


def _answering_client() -> docker.DockerClient | None:
    try:
        client = docker.from_env(timeout=300)
        client.ping()
        return client
    except (DockerException, OSError):  # requests' connection errors are OSErrors
        return None


@contextlib.contextmanager
def docker_engine() -> Iterator[docker.DockerClient]:
    """A client for a working engine; a private dockerd when none answers."""
    client = _answering_client()
    if client is not None:
        yield client
        return
    root = Path(tempfile.mkdtemp(prefix="geostack-dockerd-"))
    socket = root / "docker.sock"
    log = open(root / "dockerd.log", "wb")
    process = subprocess.Popen(
        ["dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
         "--pidfile", str(root / "dockerd.pid"), "-H", f"unix://{socket}", "--storage-driver=overlay2"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # The client asks the engine for its API version as it is constructed.
                client = docker.DockerClient(base_url=f"unix://{socket}", timeout=300)
                client.ping()
                break
            except (DockerException, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dockerd did not start:\n" + (root / "dockerd.log").read_text()[-3000:])
                time.sleep(0.5)
        previous = os.environ.get("DOCKER_HOST")
        os.environ["DOCKER_HOST"] = f"unix://{socket}"
        try:
            yield client
        finally:
            if previous is None:
                os.environ.pop("DOCKER_HOST", None)
            else:
                os.environ["DOCKER_HOST"] = previous
            client.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        # Overlay mounts must be gone before the data can be removed.
        subprocess.run(["umount", "-R", str(root / "exec")], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def has_image(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
        return True
    except ImageNotFound:
        return False


def _base_tarball(release: str) -> Path:
    return CACHE_DIR / f"debian-{release}-minbase.tar"


def _bootstrap_base_tarball(release: str) -> None:
    """debootstrap a minimal `release`, trimmed like the official slim image, into the cache."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    # A debootstrap older than the release has no script for it; the testing ones share sid's.
    script = Path("/usr/share/debootstrap/scripts") / release
    extra = [] if script.exists() else [str(script.with_name("sid"))]
    with tempfile.TemporaryDirectory(prefix="geostack-rootfs-") as work:
        rootfs = Path(work) / "rootfs"
        subprocess.run(["debootstrap", "--variant=minbase", release, str(rootfs), DEBIAN_MIRROR, *extra],
                       check=True, capture_output=True)
        if extra:
            # Testing and unstable sign their Release files for a week only (Valid-Until). The mirror
            # this workplace reaches is a frozen copy, so apt in a build would refuse it as expired,
            # where Docker Hub's image of the same name, on the live mirror, would not. The stand-in
            # says so in a file of its own; nothing the program declares changes.
            conf = rootfs / "etc" / "apt" / "apt.conf.d" / "99-geostack-test-frozen-mirror"
            conf.write_text('Acquire::Check-Valid-Until "false";\n')
        for trimmed in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"):
            shutil.rmtree(rootfs / trimmed, ignore_errors=True)
            (rootfs / trimmed).mkdir(parents=True, exist_ok=True)
        partial = _base_tarball(release).with_suffix(".partial")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        partial.rename(_base_tarball(release))


def ensure_base_image(client: docker.DockerClient, *releases: str) -> None:
    """`debian:<release>-slim` in the engine for each release (by default bookworm, the stand-ins'
    base, and the QGIS image's default release): already there, from the cache, or bootstrapped.
    No registry is reachable here; these stand in for Docker Hub's images of the same name."""
    for release in releases or ("bookworm", QGIS_RELEASES[QGIS_DEFAULT_RELEASE]["DEBIAN_RELEASE"]):
        if has_image(client, f"debian:{release}-slim"):
            continue
        if not _base_tarball(release).exists():
            _bootstrap_base_tarball(release)
        with open(_base_tarball(release), "rb") as tarball:
            client.api.import_image_from_data(tarball.read(), repository="debian", tag=f"{release}-slim")
