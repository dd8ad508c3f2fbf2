"""A Docker engine for the tests, and the base images no registry can give us.

`docker_engine()` uses an engine that already answers (DOCKER_HOST or the default
socket); otherwise it starts Debian's dockerd with a data root of its own, kept in
~/.cache/geostack (ENGINE_DATA) for the images, and an exec root and socket in a temp dir. One
such engine serves the whole test run; `stop_private_engine()` stops it at the end. Under
pytest-xdist the controller starts it (`start_shared_engine`) and its workers find it through
DOCKER_HOST, so the Docker and Kubernetes groups that run side by side share one data root.

The `debian:<release>-slim` images are made with debootstrap and `docker import`; each root
filesystem tarball is cached in ~/.cache/geostack so later runs on the same machine
import it in seconds instead of bootstrapping again.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Optional

import docker
from docker.errors import DockerException, ImageNotFound

from pulumi_geostack.config_keys import QGIS_DEFAULT_RELEASE, QGIS_RELEASES
from offline.program_run import PROJECT_ROOT


DEBIAN_MIRROR = os.environ.get("GEOSTACK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "geostack"
ENGINE_DATA = CACHE_DIR / "dockerd-data"
ENGINE_PIDFILE = CACHE_DIR / "dockerd.pid"
NGINX_STAND_IN = PROJECT_ROOT / "tests" / "e2e" / "images" / "nginx-debian"


def _answering_client() -> docker.DockerClient | None:
    try:
        client = docker.from_env(timeout=300)
        client.ping()
        return client
    except (DockerException, OSError):  # requests' connection errors are OSErrors
        return None


@dataclass
class _PrivateEngine:
    process: subprocess.Popen
    work: Path  # exec root, socket and log: a short temp path (a socket's path has a length limit)
    client: docker.DockerClient
    log: IO[bytes]
    lock: IO[bytes]  # held while the engine runs: two engines on one data root would corrupt it


_private: Optional[_PrivateEngine] = None


@contextlib.contextmanager
def docker_engine() -> Iterator[docker.DockerClient]:
    """A client for a working engine: the one DOCKER_HOST or the default socket names, else the
    tests' private dockerd (started on first use, stopped by `stop_private_engine`).

    The private engine keeps its images between modules and runs (ENGINE_DATA): loading them
    from tarballs into a new data root cost minutes each time. The containers, networks and
    volumes the block made through its client are removed when it ends, pass or fail, so each
    module leaves the engine as it found it; what another process made (the other test group's
    builds, under pytest-xdist) is left alone."""
    client = None if _private is not None else _answering_client()
    if client is None:
        client = _start_private_engine().client
    _track_creations(client)
    first = len(_made)
    try:
        yield client
    finally:
        _remove_made_since(client, first)


def start_shared_engine() -> None:
    """The private engine, started now unless another answers: for pytest-xdist's controller, so
    its workers, started after, share it through the DOCKER_HOST they inherit."""
    if _answering_client() is None:
        _start_private_engine()


# What this process's clients made, in order: (kind, id).
_made: list[tuple[str, str]] = []
_CREATES = (("container", "create_container", "Id"), ("network", "create_network", "Id"),
            ("volume", "create_volume", "Name"))


def _track_creations(client: docker.DockerClient) -> None:
    """Note in `_made` each container, network and volume made through `client` (the high-level
    calls such as `containers.run` go through these low-level ones). Builds' own intermediate
    containers are the engine's, not the client's, and are not noted."""
    api = client.api
    if getattr(api, "_geostack_tracked", False):
        return
    for kind, method, key in _CREATES:
        def tracking(*args, _create=getattr(api, method), _kind=kind, _key=key, **kwargs):
            made = _create(*args, **kwargs)
            _made.append((_kind, made[_key]))
            return made
        setattr(api, method, tracking)
    api._geostack_tracked = True


def _remove_made_since(client: docker.DockerClient, first: int) -> None:
    """Removes what was made since `_made[first]`: containers (with their anonymous volumes)
    first, then the networks and volumes they used. Gone already is fine."""
    made, _made[first:] = _made[first:], []
    removers = {"container": lambda ident: client.api.remove_container(ident, force=True, v=True),
                "network": client.api.remove_network,
                "volume": lambda ident: client.api.remove_volume(ident, force=True)}
    for kind in ("container", "network", "volume"):
        for made_kind, ident in reversed(made):
            if made_kind == kind:
                with contextlib.suppress(DockerException):
                    removers[kind](ident)


def _start_private_engine() -> _PrivateEngine:
    global _private
    if _private is not None and _private.process.poll() is None:
        return _private
    lock = _lock_engine_data()
    work = Path(tempfile.mkdtemp(prefix="geostack-dockerd-"))
    socket = work / "docker.sock"
    log = open(work / "dockerd.log", "wb")
    process = subprocess.Popen(
        ["dockerd", "--data-root", str(ENGINE_DATA), "--exec-root", str(work / "exec"),
         "--pidfile", str(ENGINE_PIDFILE), "-H", f"unix://{socket}", "--storage-driver=overlay2"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            # The client asks the engine for its API version as it is constructed.
            client = docker.DockerClient(base_url=f"unix://{socket}", timeout=300)
            client.ping()
            break
        except (DockerException, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                output = (work / "dockerd.log").read_text()[-3000:]
                _stop(process, work, log)
                lock.close()
                raise RuntimeError("dockerd did not start:\n" + output)
            time.sleep(0.5)
    _private = _PrivateEngine(process, work, client, log, lock)
    os.environ["DOCKER_HOST"] = f"unix://{socket}"  # for the Pulumi programs and CLIs the tests run
    _remove_all_but_images(client)  # what a run that was killed left behind
    return _private


def _lock_engine_data() -> IO[bytes]:
    """The data root for this process alone: a live test run holds the lock; a dockerd left on it
    by a run that was killed (its pid file still names it) is stopped first."""
    ENGINE_DATA.mkdir(parents=True, exist_ok=True)
    lock = open(ENGINE_DATA.with_name(ENGINE_DATA.name + ".lock"), "wb")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise RuntimeError(f"another test run's dockerd uses {ENGINE_DATA}: run one test run at a time") from None
    with contextlib.suppress(OSError, ValueError):
        left = int(ENGINE_PIDFILE.read_text())
        if b"dockerd" in Path(f"/proc/{left}/cmdline").read_bytes():
            os.kill(left, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while Path(f"/proc/{left}").exists() and time.monotonic() < deadline:
                time.sleep(0.5)
    return lock


def _remove_all_but_images(client: docker.DockerClient) -> None:
    for container in client.containers.list(all=True):
        with contextlib.suppress(DockerException):
            container.remove(force=True, v=True)
    with contextlib.suppress(DockerException):
        client.networks.prune()
        client.volumes.prune(filters={"all": "true"})


def stop_private_engine() -> None:
    """Stops the private dockerd, if one was started; its images stay in ENGINE_DATA."""
    global _private
    if _private is None:
        return
    engine, _private = _private, None
    with contextlib.suppress(Exception):
        _remove_all_but_images(engine.client)
    engine.client.close()
    os.environ.pop("DOCKER_HOST", None)
    _stop(engine.process, engine.work, engine.log)
    engine.lock.close()


def _stop(process: subprocess.Popen, work: Path, log: IO[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
    # Overlay mounts must be gone before the exec root can be removed.
    subprocess.run(["umount", "-R", str(work / "exec")], capture_output=True)
    shutil.rmtree(work, ignore_errors=True)


def has_image(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
        return True
    except ImageNotFound:
        return False


@contextlib.contextmanager
def cache_lock(name: str) -> Iterator[None]:
    """Held while one process fills an entry of CACHE_DIR (a base tarball, an image): the other
    test group, under pytest-xdist, waits for it instead of writing the same file beside it."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f".{name}.lock", "wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


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
        with cache_lock(f"debian-{release}"):
            if has_image(client, f"debian:{release}-slim"):
                continue
            if not _base_tarball(release).exists():
                _bootstrap_base_tarball(release)
            with open(_base_tarball(release), "rb") as tarball:
                client.api.import_image_from_data(tarball.read(), repository="debian", tag=f"{release}-slim")
