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
class NginxProxyArgs:
    target: Target
    settings: NginxSettings
    upstream: DeployedWorkload  # the FastCGI server, as its target realized it
    projects: QgisProjects
    exposure: Exposure


class NginxProxy(pulumi.ComponentResource):
    """Serves QGIS Server at `settings.path`; `url` is the public base URL."""

    def __init__(self, name: str, args: NginxProxyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("geostack:proxy:NginxProxy", name, None, opts)
        settings = args.settings
        projects = args.projects
        self.config: pulumi.Output[str] = pulumi.Output.from_input(args.upstream.host).apply(
            lambda host: render_nginx_conf(NginxConf(
                listen_port=settings.port,
                location=settings.path,
                upstream_host=host,
                upstream_port=args.upstream.port,
                default_project=projects.default.path_in(projects.mount),
                projects=tuple(ProjectRoute(p.name, p.path_in(projects.mount), p.landing_page_id(projects.mount))
                               for p in projects.all),
                data_version=projects.data_version,
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
            rolls_after=(args.upstream,),
        )
        deployed = args.target.deploy(workload, parent=self)
        self.url: pulumi.Output[str] = deployed.public_url
        self.register_outputs({"url": self.url, "config": self.config})
