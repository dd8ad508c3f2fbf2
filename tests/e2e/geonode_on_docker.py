"""GeoNode's dev stack deployed on a real Docker engine, for tests/e2e/test_docker_geonode_stack.py.

`up()` runs the program with RealizingMocks, so every container is created as `pulumi up`
would create it; calling it again with changed config replaces what changed. Images no
registry can give us here are stand-ins built from Debian's packages (tests/e2e/images),
labelled `org.geostack.stand-in` and pushed to a private registry under the repositories and
mutable tags the stack names by default, where the program resolves them to digests as it
resolves Docker Hub's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import docker

from pulumi_geostack.config_keys import SETTINGS
from offline.program_run import PROJECT_ROOT, ProgramRun, run_program, stack_config
from tests.e2e.browser import Browser
from tests.e2e.declared_builds import HOST_CA_CONFIG
from tests.e2e.docker_realizer import DockerRealizer
from tests.e2e.image_cache import cached_image
from tests.e2e.private_registry import push_image
from tests.e2e.realizing_mocks import RealizingMocks

IMAGES = PROJECT_ROOT / "tests" / "e2e" / "images"
STAND_INS = (  # (build context in tests/e2e/images, the config keys of the images it stands in for)
    ("postgis-debian", ("geonodePostgisImage",)),
    ("redis-debian", ("geonodeRedisImage",)),
    ("nginx-debian", ("geonodeNginxImage",)),
    ("geoserver-standin", ("geonodeGeoserverImage", "geonodeGeoserverDataImage")),
)


def publish_stand_ins(client: docker.DockerClient, registry: str) -> tuple[dict[str, str], dict[str, str]]:
    """Build each stand-in and push it to `registry` as the repository and tag the stack names by
    default (geonode/geoserver:2.28.4-latest -> <registry>/geonode/geoserver:2.28.4-latest).
    Returns (the config that points the stack at them, {image: what stands in})."""
    defaults = {setting.key: setting.default for setting in SETTINGS}
    config, stood_in = {}, {}
    for context, keys in STAND_INS:
        local = f"geostack-test/{context}:e2e"
        cached_image(client, IMAGES / context, context, local)
        image = client.images.get(local)
        for key in keys:
            repository, tag = defaults[key].rsplit(":", 1)
            image.tag(f"{registry}/{repository}", tag)
            push_image(client, f"{registry}/{repository}", tag)
            config[f"geostack:{key}"] = f"{registry}/{repository}:{tag}"
            stood_in[config[f"geostack:{key}"]] = image.labels["org.geostack.stand-in"]
    return config, stood_in


@dataclass
class GeoNodeOnDocker:
    client: docker.DockerClient
    port: int
    config: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    realizer: DockerRealizer = None
    run: ProgramRun | None = None
    pins: dict[str, dict] = field(default_factory=dict)  # the PinnedImages' state between ups

    def __post_init__(self):
        self.realizer = DockerRealizer(self.client, host_ports={self.port: self.port})
        self.config = {**stack_config("dev"), "geostack:geonodeEnabled": "true", "geostack:qgisEnabled": "false",
                       "geostack:geonodeHostPort": str(self.port), **HOST_CA_CONFIG, **self.config}

    def up(self, secrets: dict[str, str] | None = None, **overrides: str) -> ProgramRun:
        """`pulumi up` with these config values changed (`secrets` as `pulumi config set --secret`
        sets them); the run carries the program's error, if any."""
        self.config.update({f"geostack:{key}": value for key, value in overrides.items()})
        self.secrets.update({f"geostack:{key}": value for key, value in (secrets or {}).items()})
        self.run = run_program("dev", config=self.config, secrets=self.secrets, mocks=RealizingMocks(self.realizer, self.pins),
                               raise_errors=False)
        return self.run

    def container(self, workload: str):
        return self.client.containers.get(self.realizer.containers[workload])

    def logs(self, workload: str) -> str:
        return self.container(workload).logs().decode(errors="replace")

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def browser(self) -> Browser:
        return Browser(self.url)

    @property
    def admin_password(self) -> str:
        return self.run.outputs["geonodeAdminPassword"]
