"""QgisFcgiServer: QGIS Server's FastCGI workers, reachable by peers at `host`:`port`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pulumi

from pulumi_geostack.project_database import SERVICE_FILE
from pulumi_geostack.qgis_projects import PLUGINS_DIR, QgisProjects
from pulumi_geostack.settings import QgisSettings
from pulumi_geostack.targets import Target
from pulumi_geostack.workload import (
    ClaimMount,
    CommandCheck,
    DirectoryMount,
    Port,
    Probe,
    SecretFile,
    TcpCheck,
    Workload,
)

DATA_MOUNT = "/data"
# The image's own QGIS Server plugins (docker/qgis-server/server-plugins): geostack_projects finds
# the projects on a claim, which the program cannot look into.
IMAGE_PLUGINS = "/usr/share/geostack/server-plugins"
QGIS_UID = 10001  # the image's `qgis` user
HOME = "/home/qgis"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def qgis_projects(settings: QgisSettings) -> QgisProjects:
    default = next(p for p in settings.projects if p.relative_path == settings.project_file)
    return QgisProjects(all=settings.projects, default=default, mount=DATA_MOUNT, data_version=settings.data_version,
                        claim=settings.data_claim, in_database=settings.database is not None)


def landing_page_directories(projects: QgisProjects) -> str:
    """The folders QGIS's landing page lists projects from (it does not look into subfolders):
    each one that holds a project."""
    return "||".join(sorted({str(PurePosixPath(p.path_in(projects.mount)).parent) for p in projects.all}))


def project_lookup_env(projects: QgisProjects) -> dict[str, str]:
    """Where projects are found: listed for the landing page when the program knows them all, else
    (a claim, PostgreSQL) by the image's plugin, which also gives the landing page the folders."""
    user_plugins = f"{DATA_MOUNT}/{PLUGINS_DIR}"
    if not projects.found_by_qgis:
        return {"QGIS_SERVER_LANDING_PAGE_PROJECTS_DIRECTORIES": landing_page_directories(projects),
                "QGIS_PLUGINPATH": user_plugins}
    return {"GEOSTACK_PROJECTS_ROOT": projects.mount, "QGIS_PLUGINPATH": f"{IMAGE_PLUGINS}:{user_plugins}"}


def qgis_env(settings: QgisSettings) -> dict[str, str]:
    """Environment for the image's cmd.sh and QGIS Server itself.

    No QGIS_PROJECT_FILE: set in the environment it would pin every request to one project.
    nginx names the project per request instead (a FastCGI parameter of that name).
    """
    projects = qgis_projects(settings)
    return {
        "QGIS_HEALTHCHECK_PROJECT": projects.default.path_in(projects.mount),
        # Server plugins of the project folder (its fonts/ is the image's fontconfig business).
        **project_lookup_env(projects),
        "QGIS_FCGI_PORT": str(settings.fcgi_port),
        "QGIS_FCGI_PROCESSES": str(settings.processes),
        "QGIS_SERVER_LOG_STDERR": "1",
        "QGIS_SERVER_LOG_LEVEL": str(settings.log_level),
        "QGIS_SERVER_PARALLEL_RENDERING": _flag(settings.parallel_rendering),
        "QGIS_SERVER_MAX_THREADS": str(settings.max_threads),
        "MAX_CACHE_LAYERS": str(settings.max_cache_layers),
        "QGIS_SERVER_IGNORE_BAD_LAYERS": _flag(settings.ignore_bad_layers),
        "QGIS_SERVER_TRUST_LAYER_METADATA": _flag(settings.trust_layer_metadata),
        # QGIS's default, said aloud: unset, each worker logs "Invalid cache strategy" twice at start.
        "QGIS_SERVER_PROJECT_CACHE_STRATEGY": "filesystem",
        **(settings.database.qgis_env() if settings.database else {}),
    }


def project_folder(project_dir: Path) -> str:
    """The folder as state records it: relative to the project root when inside it, so the state
    is the same on every machine that deploys the stack."""
    from pulumi_geostack.paths import project_dir as root

    return project_dir.relative_to(root()).as_posix() if project_dir.is_relative_to(root()) else str(project_dir)


QGIS_PRE_STOP_SECONDS = 5


def qgis_workload(name: str, image: pulumi.Input[str], settings: QgisSettings,
                  clients: tuple[str, ...] = ()) -> Workload:
    """What runs: the FastCGI server with its project data mounted read-only."""
    data = (ClaimMount(settings.data_claim, DATA_MOUNT) if settings.data_claim
            else DirectoryMount(settings.project_dir, DATA_MOUNT))
    if settings.data_in_image:  # the folder is in the image at DATA_MOUNT
        data = None
    return Workload(
        name=name,
        image=image,
        ports=(Port("fcgi", settings.fcgi_port),),
        env=qgis_env(settings),
        mounts=(data,) if data else (),
        secret_files=(SecretFile(SERVICE_FILE, settings.database.service_file()),) if settings.database else (),
        # QGIS has no health endpoint: alive while the port accepts connections,
        # ready only once a GetCapabilities on the real project succeeds.
        liveness=Probe(TcpCheck(settings.fcgi_port), initial_delay_seconds=10, period_seconds=20),
        readiness=Probe(CommandCheck(("/usr/local/bin/qgis-healthcheck",)),
                        initial_delay_seconds=5, period_seconds=10, timeout_seconds=10),
        replicas=settings.replicas,
        resources=settings.resources,
        min_available=settings.scaling.min_available,
        autoscale=settings.scaling.autoscale(),
        user=QGIS_UID,
        writable_paths=("/tmp", HOME),
        # Kubernetes: keep serving while kube-proxy and the endpoints catch up with a pod that is
        # stopping. Without it, a rolling update under load on a real cluster answered 2 of 519
        # requests with 502 (tests/kubernetes); nginx has the same wait.
        pre_stop_seconds=QGIS_PRE_STOP_SECONDS,
        termination_grace_seconds=QGIS_PRE_STOP_SECONDS + 30,
        # Only the proxy speaks FastCGI to QGIS Server.
        allow_from=clients,
    )


@dataclass(frozen=True)
class QgisFcgiServerArgs:
    target: Target
    image: pulumi.Input[str]
    settings: QgisSettings
    clients: tuple[str, ...] = ()  # workloads allowed to connect (Kubernetes NetworkPolicy)


class QgisFcgiServer(pulumi.ComponentResource):
    """The FastCGI server; `host` and `port` are what the nginx proxy passes requests to."""

    def __init__(self, name: str, args: QgisFcgiServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("geostack:qgis:QgisFcgiServer", name, None, opts)
        image = args.image
        if args.settings.data_in_image:
            image = args.target.publish_project_image(
                f"{name}-project-image", args.image, folder=project_folder(args.settings.project_dir),
                content=args.settings.data_version, mount=DATA_MOUNT, parent=self)
        self.deployed = args.target.deploy(qgis_workload(name, image, args.settings, args.clients), parent=self)
        self.projects = qgis_projects(args.settings)
        self.host: pulumi.Output[str] = self.deployed.host
        self.port: int = self.deployed.port
        self.register_outputs({"host": self.host, "port": self.port,
                               "projects": [p.name for p in self.projects.all]})
