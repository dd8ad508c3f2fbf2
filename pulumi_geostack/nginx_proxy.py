"""NginxProxy: nginx in front of the QGIS FastCGI server, exposed to users."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi

from pulumi_geostack.settings import NginxSettings
from pulumi_geostack.nginx_conf import (METRICS_PATH, STATUS_PORT, CacheConf, NginxConf, ProjectRoute, nginx_size_bytes,
                                   render_nginx_conf)
from pulumi_geostack.qgis_projects import QgisProjects
from pulumi_geostack.targets import Target
from pulumi_geostack.workload import (ConfigFile, DeployedWorkload, Exposure, Metrics, Port, Probe, TcpCheck,
                                 Workload)

CONFIG_PATH = "/etc/nginx/nginx.conf"
# The config sets no `daemon` directive, so the foreground switch can come from here.
COMMAND = ("nginx", "-c", CONFIG_PATH, "-e", "stderr", "-g", "daemon off;")
NGINX_UID = 10101
PRE_STOP_SECONDS = 5


@dataclass(frozen=True)
class QgisBackend:
    """A QGIS FastCGI server and the projects it serves (QgisFcgiServer's `deployed` and `projects`)."""

    upstream: DeployedWorkload
    projects: QgisProjects


@dataclass(frozen=True)
class NginxProxyArgs:
    target: Target
    settings: NginxSettings
    upstream: DeployedWorkload  # the FastCGI server, as its target realized it
    projects: QgisProjects
    exposure: Exposure
    # Further QGIS servers, each with a project folder of its own: nginx serves their projects at
    # /ogc/<name> too, each from its own server. `upstream` keeps `settings.path` and the landing
    # page (which lists its own projects), and alone may find projects by name (a claim, PostgreSQL).
    more_servers: tuple[QgisBackend, ...] = ()


def check_backends(backends: list[QgisBackend]) -> None:
    """Only the first server may find projects by name, and /ogc/<name> must name one project."""
    if [b for b in backends[1:] if b.projects.found_by_qgis]:
        raise ValueError("NginxProxyArgs.more_servers: a server that finds projects by name (on a claim, in "
                         "PostgreSQL) cannot be routed to by name; only `upstream` may")
    names = [p.name for b in backends for p in b.projects.all]
    if shared := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"QGIS servers behind one NginxProxy share project names {shared}: /ogc/<name> must "
                         "name one project (rename the files of one)")


def project_routes(backends: list[QgisBackend], hosts: list[str]) -> tuple[ProjectRoute, ...]:
    """Every project of every server, each with its server's address (the first server's: empty)."""
    return tuple(ProjectRoute(p.name, p.path_in(b.projects.mount), p.landing_page_id(b.projects.mount),
                              upstream=f"{host}:{b.upstream.port}" if i else "")
                 for i, (b, host) in enumerate(zip(backends, hosts)) for p in b.projects.all)


class NginxProxy(pulumi.ComponentResource):
    """Serves QGIS Server at `settings.path` and each project at /ogc/<name>; `url` is the public base URL."""

    def __init__(self, name: str, args: NginxProxyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("geostack:proxy:NginxProxy", name, None, opts)
        settings = args.settings
        projects = args.projects
        backends = [QgisBackend(args.upstream, projects), *args.more_servers]
        check_backends(backends)
        self.config: pulumi.Output[str] = pulumi.Output.all(*[b.upstream.host for b in backends]).apply(
            lambda hosts: render_nginx_conf(NginxConf(
                listen_port=settings.port,
                location=settings.path,
                upstream_host=hosts[0],
                upstream_port=args.upstream.port,
                default_project=projects.default.path_in(projects.mount),
                projects=project_routes(backends, hosts),
                # Any server's new data version changes every cache key.
                data_version="+".join(b.projects.data_version for b in backends),
                cache=CacheConf(settings.cache_size, settings.cache_validity, settings.cache_min_uses)
                if settings.cache else None,
                resolver=args.target.peer_resolver,
                qgis_finds_projects=projects.found_by_qgis,
            )))
        workload = Workload(
            name=name,
            image=settings.image,
            ports=(Port("http", settings.port),),
            command=COMMAND,
            files=(ConfigFile(CONFIG_PATH, self.config),),
            liveness=Probe(TcpCheck(settings.port)),
            readiness=Probe(TcpCheck(settings.port), initial_delay_seconds=2, period_seconds=5),
            replicas=settings.replicas,
            resources=settings.resources,
            min_available=settings.scaling.min_available,
            autoscale=settings.scaling.autoscale(),
            # Let the Service and Ingress stop sending traffic before nginx quits.
            pre_stop_seconds=PRE_STOP_SECONDS,
            termination_grace_seconds=PRE_STOP_SECONDS + 30,
            user=NGINX_UID,
            writable_paths=("/tmp",),
            # The map cache lives in /tmp: room for all of it plus nginx's own temp files.
            scratch_size=f"{nginx_size_bytes(settings.cache_size) // 2**20 + 256}Mi" if settings.cache else "256Mi",
            expose=args.exposure,
            metrics=Metrics(STATUS_PORT, METRICS_PATH),
            # A new data version reaches nginx (and its cache key) only once every QGIS server has it.
            rolls_after=tuple(b.upstream for b in backends),
        )
        deployed = args.target.deploy(workload, parent=self)
        self.url: pulumi.Output[str] = deployed.public_url
        self.register_outputs({"url": self.url, "config": self.config})
