"""The images the staging tests push to the cluster's registry (localhost:32000), by digest.

- the QGIS Server image, built from docker/qgis-server, the build context the product ships;
- stand-ins, labelled as such, for the images no registry here can give: the nginx image
  (Debian's nginx, tests/e2e/images/nginx-debian), the wait image (busybox's `nc`,
  tests/cluster/images/netcat-debian), and GeoNode's PostGIS, Redis, nginx and GeoServer
  (the same stand-ins as the Docker test's, tests/e2e/geonode_on_docker.py).

The real pulumi-docker provider would build and push the QGIS image itself, but the Go module
proxy serves no build of it (toolchain/README.md); the test builds the same context with the
same engine and hands the digest to `geostack:qgisImage`, as a CI pipeline that builds images
separately does.
"""
from __future__ import annotations

from functools import cached_property

import docker

from offline.program_run import PROJECT_ROOT
from tests.cluster.configs import REGISTRY
from pulumi_geostack.config_keys import SETTINGS
from tests.e2e.declared_builds import declared_build
from tests.e2e.docker_engine import ensure_base_image
from tests.e2e.geonode_on_docker import IMAGES, STAND_INS
from tests.e2e.image_cache import cached_image
from tests.e2e.private_registry import push_image

QGIS_CONTEXT = PROJECT_ROOT / "docker" / "qgis-server"
GEONODE_CONTEXT = PROJECT_ROOT / "docker" / "geonode"
BACKUP_CONTEXT = PROJECT_ROOT / "docker" / "backup"
WAIT_STAND_IN = PROJECT_ROOT / "tests" / "cluster" / "images" / "netcat-debian"


class PushedImages:
    """Each image is built (or loaded from the test image cache) and pushed when a test first asks
    for it, so a run of the QGIS tests alone builds no GeoNode image."""

    def __init__(self, client: docker.DockerClient):
        self.client = client
        ensure_base_image(client)

    @cached_property
    def qgis(self) -> str:
        """localhost:32000/geostack/qgis-server@sha256:..., built as the dev stack's realizer builds
        it (same arguments and platform: one cached image)."""
        return pushed_product_image(self.client, QGIS_CONTEXT, "geostack/qgis-server")

    @cached_property
    def geonode_stand_ins(self) -> dict[str, str]:
        """{config key, e.g. "geonodePostgisImage": reference by digest}"""
        stand_ins = {}
        for context, keys in STAND_INS:
            reference = cached_push(self.client, IMAGES / context, f"stand-in/{context}", "1")
            stand_ins.update({key: reference for key in keys})
        return stand_ins

    @property
    def nginx_stand_in(self) -> str:
        return self.geonode_stand_ins["geonodeNginxImage"]  # the same Debian nginx stands in for both

    @cached_property
    def wait_stand_in(self) -> str:
        return cached_push(self.client, WAIT_STAND_IN, "stand-in/netcat-debian", "1")

    @cached_property
    def geonode(self) -> str:
        """geostack's GeoNode image (docker/geonode)."""
        return pushed_product_image(self.client, GEONODE_CONTEXT, "geostack/geonode")

    @cached_property
    def geonode_previous(self) -> str:
        """The same, built from the previous GeoNode release (geonodeRelease 5.0)."""
        return pushed_product_image(self.client, GEONODE_CONTEXT, "geostack/geonode",
                                    {"geostack:geonodeRelease": "5.0"}, tag="staging-test-5.0")

    @cached_property
    def backup(self) -> str:
        """geostack's backup image (docker/backup)."""
        return pushed_product_image(self.client, BACKUP_CONTEXT, "geostack/backup")

    @cached_property
    def geoserver_by_tag(self) -> str:
        """The GeoServer stand-in as upstream names GeoServer, by a mutable tag, for the program to
        resolve: localhost:32000/geonode/geoserver:2.28.4-latest."""
        repository, tag = next(s.default for s in SETTINGS if s.key == "geonodeGeoserverImage").rsplit(":", 1)
        self.client.images.get(self.geonode_stand_ins["geonodeGeoserverImage"]).tag(f"{REGISTRY}/{repository}", tag)
        push(self.client, repository, tag)
        return f"{REGISTRY}/{repository}:{tag}"


def cached_push(client: docker.DockerClient, context, repository: str, tag: str,
                buildargs: dict[str, str] | None = None, platform: str = "") -> str:
    """Build `context` (or load it from the test image cache), push it to the cluster's registry
    and return its reference by digest."""
    cached_image(client, context, context.name, f"{REGISTRY}/{repository}:{tag}", buildargs=buildargs,
                 platform=platform)
    return push(client, repository, tag)


def pushed_product_image(client: docker.DockerClient, context, repository: str,
                         config: dict[str, str] | None = None, tag: str = "staging-test") -> str:
    """One of geostack's own images, built as the program declares its build with `config`
    (arguments, the configured CA, platform), pushed; its reference by digest."""
    args, platform = declared_build(context.relative_to(PROJECT_ROOT).as_posix(), config)
    return cached_push(client, context, repository, tag, buildargs=args, platform=platform)


def push(client: docker.DockerClient, repository: str, tag: str) -> str:
    """Push `<registry>/<repository>:<tag>` from the engine and return its reference by digest."""
    return push_image(client, f"{REGISTRY}/{repository}", tag)


def push_images(client: docker.DockerClient) -> PushedImages:
    return PushedImages(client)
