"""geostack's GeoNode image (docker/geonode) by itself on a real Docker engine: its user, its
read-only root and writable mounts, the libraries GeoNode loads at run time, and its settings
module. Every container runs as the deployment runs it: UID 10002, read-only root, tmpfs /tmp
and volumes for the statics and /data, next to a PostGIS and a Redis built from Debian's
packages.

What the image does in the stack (migrations, collectstatic, uWSGI through nginx, Celery
through Redis) is checked by test_docker_geonode_stack.py, which deploys it as `pulumi up` does.
"""
from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field

import docker
import pytest

from offline.loopback import free_port, wait_until
from offline.program_run import PROJECT_ROOT
from tests.e2e.declared_builds import declared_build
from tests.e2e.docker_engine import docker_engine, ensure_base_image
from tests.e2e.image_cache import cached_image

# A cold build compiles GDAL, uWSGI and psycopg2; the cache makes later runs quick.
pytestmark = pytest.mark.timeout(3000)

IMAGES = PROJECT_ROOT / "tests" / "e2e" / "images"
GEONODE_CONTEXT = PROJECT_ROOT / "docker" / "geonode"
GEONODE_IMAGE = "geostack/geonode:e2e"
UID = "10002"
STATICS = "/mnt/volumes/statics"


@dataclass
class Stack:
    client: docker.DockerClient
    network: str
    statics: str
    data: str
    env: dict[str, str]
    port: int
    db: object
    containers: list = field(default_factory=list)

    def mounts(self) -> dict:
        return {self.statics: {"bind": STATICS, "mode": "rw"}, self.data: {"bind": "/data", "mode": "rw"}}

    def geonode(self, command, environment=None, **kwargs):
        """A GeoNode container, restricted the way the deployment runs it."""
        container = self.client.containers.run(
            GEONODE_IMAGE, command, detach=True, network=self.network, environment=environment or self.env,
            read_only=True, tmpfs={"/tmp": "rw,nosuid,nodev,size=256m"}, volumes=self.mounts(),
            cap_drop=["ALL"], security_opt=["no-new-privileges"], **kwargs)
        self.containers.append(container)
        return container

    def task(self, command, timeout: float = 600) -> str:
        """Run a GeoNode container to completion; its logs, or a failure with them."""
        container = self.geonode(command)
        status = container.wait(timeout=timeout)["StatusCode"]
        logs = container.logs().decode(errors="replace")
        assert status == 0, f"{command} exited {status}:\n{logs[-4000:]}"
        return logs


def _remove(stack: Stack | None, standins: list) -> None:
    for container in (stack.containers if stack else []) + standins:
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass


def _wait_for_database(db) -> None:
    def ready() -> bool:
        db.reload()
        assert db.status == "running", db.logs().decode(errors="replace")[-3000:]
        return db.exec_run(["pg_isready", "-q", "-h", "127.0.0.1", "-U", "postgres"]).exit_code == 0
    wait_until(ready, timeout=120, what="PostGIS")


@pytest.fixture(scope="module")
def stack():
    with docker_engine() as client:
        ensure_base_image(client)
        started = time.monotonic()
        # Built as the program declares it (the dev stack's realizer builds it the same), so both
        # find the same cached image.
        args, platform = declared_build("docker/geonode")
        cached_image(client, GEONODE_CONTEXT, "geonode", GEONODE_IMAGE, buildargs=args, platform=platform)
        print(f"\nGeoNode image ready in {time.monotonic() - started:.0f}s")
        cached_image(client, IMAGES / "postgis-debian", "postgis-debian", "geostack-test/postgis:e2e")
        cached_image(client, IMAGES / "redis-debian", "redis-debian", "geostack-test/redis:e2e")

        suffix = uuid.uuid4().hex[:8]
        passwords = {name: secrets.token_urlsafe(12) for name in ("postgres", "geonode", "geonode_data")}
        network = client.networks.create(f"geonode-e2e-{suffix}", driver="bridge")
        volumes = [client.volumes.create(f"geonode-e2e-{suffix}-{v}") for v in ("statics", "data")]
        standins: list = []
        stack = None
        try:
            db = client.containers.run(
                "geostack-test/postgis:e2e", name=f"geonode-e2e-db-{suffix}", detach=True,
                network=network.name, environment={
                    "POSTGRES_PASSWORD": passwords["postgres"],
                    "GEONODE_DATABASE": "geonode", "GEONODE_DATABASE_PASSWORD": passwords["geonode"],
                    "GEONODE_GEODATABASE": "geonode_data",
                    "GEONODE_GEODATABASE_PASSWORD": passwords["geonode_data"]})
            standins.append(db)
            broker = client.containers.run("geostack-test/redis:e2e", name=f"geonode-e2e-broker-{suffix}",
                                           detach=True, network=network.name)
            standins.append(broker)
            port = free_port()
            # Container names resolve on the user-defined network.
            env = {
                # A throwaway key for this run: the image carries none.
                "SECRET_KEY": secrets.token_urlsafe(40),
                "DEBUG": "False",
                "SITEURL": f"http://localhost:{port}/",
                "ALLOWED_HOSTS": "['localhost', '127.0.0.1']",
                "DATABASE_URL": f"postgis://geonode:{passwords['geonode']}@{db.name}:5432/geonode",
                "GEODATABASE_URL": f"postgis://geonode_data:{passwords['geonode_data']}@{db.name}:5432/geonode_data",
                "DEFAULT_BACKEND_DATASTORE": "datastore",
                "ASYNC_SIGNALS": "True",
                "BROKER_URL": f"redis://{broker.name}:6379/0",
                "CELERY_RESULT_BACKEND": f"redis://{broker.name}:6379/1",
                "SESSION_COOKIE_SECURE": "False",
                "CSRF_COOKIE_SECURE": "False",
            }
            _wait_for_database(db)
            stack = Stack(client, network.name, volumes[0].name, volumes[1].name, env, port, db)
            yield stack
        finally:
            _remove(stack, standins)
            network.remove()
            for volume in volumes:
                volume.remove(force=True)


def test_image_runs_as_fixed_non_root_user_on_read_only_root(stack):
    config = stack.client.images.get(GEONODE_IMAGE).attrs["Config"]
    assert config["User"] == f"{UID}:{UID}"
    baked = {entry.split("=", 1)[0] for entry in config["Env"]}
    assert not baked & {"SECRET_KEY", "DATABASE_URL", "GEODATABASE_URL", "BROKER_URL", "ADMIN_PASSWORD"}
    probe = (
        "id -u; id -g; "
        "touch /tmp/ok /mnt/volumes/statics/static/ok /mnt/volumes/statics/uploaded/ok "
        "/mnt/volumes/statics/assets/ok /data/ok && echo writable; "
        "for p in /opt/geonode/ok /etc/ok /ok; do touch $p 2>/dev/null && echo \"wrote $p\"; done; "
        "rm -f /tmp/ok /mnt/volumes/statics/*/ok /data/ok"
    )
    out = stack.task(["sh", "-c", probe])
    assert out.split() == [UID, UID, "writable"], out
    # Libraries loaded with ctypes at run time, which the image's ldd check cannot see.
    libraries = stack.task(["python", "-c", LIBRARY_PROBE])
    assert libraries.split()[-3:] == ["3.6.2", "application/pdf", "ok"], libraries


LIBRARY_PROBE = """
import django; django.setup()
from django.contrib.gis.gdal import gdal_full_version
from django.contrib.gis.geos import Point
from osgeo import gdal
import fitz, magic, psycopg2, pylibmc
assert Point(1, 2).buffer(1).area > 3
print(gdal.__version__, magic.from_buffer(b"%PDF-1.4 test", mime=True), gdal_full_version() and "ok")
"""


SETTINGS_PROBE = """
from django.conf import settings
print(settings.SETTINGS_MODULE, ",".join(settings.CSRF_TRUSTED_ORIGINS), settings.GEOSTACK_PROBE, settings.SITEURL)
"""


def test_settings_module_adds_trusted_origins_and_the_extra_settings_hook(stack):
    # Without an explicit origin a TLS site's login POST fails Django's CSRF origin check.
    plain = stack.task(["python", "-c", "import django; django.setup(); " + SETTINGS_PROBE.replace(
        "settings.GEOSTACK_PROBE", "getattr(settings, 'GEOSTACK_PROBE', '-')")])
    # No origins (an empty field between the spaces) and no hook unless configured.
    assert plain.splitlines()[-1] == f"geostack_settings  - {stack.env['SITEURL']}", plain[-2000:]
    hooked = stack.geonode(["python", "-c", "import django; django.setup(); " + SETTINGS_PROBE],
                           environment={**stack.env, "CSRF_TRUSTED_ORIGINS": "https://maps.example.org,https://b.example",
                                        "GEOSTACK_EXTRA_SETTINGS": "GEOSTACK_PROBE = 'hooked'\nSITEURL = 'https://x/'"})
    assert hooked.wait(timeout=120)["StatusCode"] == 0, hooked.logs().decode(errors="replace")[-3000:]
    assert hooked.logs().decode().split()[-4:] == [
        "geostack_settings", "https://maps.example.org,https://b.example", "hooked", "https://x/"]
    # Docker's HTTP healthchecks run curl inside the container.
    assert stack.task(["curl", "--version"]).startswith("curl ")
