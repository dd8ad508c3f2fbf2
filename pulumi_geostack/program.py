"""The geostack program: what `pulumi up` deploys for a stack's `geostack:*` config.

This repository's __main__.py and the `pulumi new` template's (templates/geostack) both call
`main()`; the stack config picks the target and what to deploy, and nothing here changes per
stack. The SDKs a stack does not need are never imported (pulumi_aws alone is ~270 MB).
"""
from __future__ import annotations

from dataclasses import dataclass

import pulumi

from pulumi_geostack import __version__
from pulumi_geostack.config import load_settings
from pulumi_geostack.settings import StackSettings
from pulumi_geostack.targets import Target, create_target

QGIS_NAME = "qgis-server"
PROXY_NAME = "qgis-nginx"


def main() -> None:
    # Validate every key before anything is declared.
    settings = load_settings()
    target = create_target(settings)
    pulumi.export("target", settings.target)
    pulumi.export("geostackVersion", __version__)  # the release deployed (CHANGELOG.md)
    if settings.qgis_enabled:
        _qgis(settings, target)
    if settings.geonode.enabled:
        _geonode(settings, target)


@dataclass(frozen=True)
class QgisService:
    """What a deployed QGIS service gives its users."""

    image_ref: pulumi.Output[str]
    url: pulumi.Output[str]  # the public base URL
    wms_capabilities_url: pulumi.Output[str]
    # Each project's address; the landing page at `url` lists them too (on a claim, which the
    # program cannot look into, only the landing page does).
    project_urls: dict[str, pulumi.Output[str]]


def deploy_qgis(settings: StackSettings, target: Target, opts: pulumi.ResourceOptions | None = None) -> QgisService:
    """The QGIS Server image, its FastCGI server and the nginx proxy in front."""
    from pulumi_geostack.nginx_proxy import NginxProxy, NginxProxyArgs
    from pulumi_geostack.qgis_image import QgisServerImage, QgisServerImageArgs
    from pulumi_geostack.qgis_server import QgisFcgiServer, QgisFcgiServerArgs
    from pulumi_geostack.workload import Exposure

    image = QgisServerImage("qgis-image", QgisServerImageArgs(
        target=target,
        repository=settings.qgis.image_repository,
        tag=settings.qgis.image_tag,
        prebuilt=settings.qgis.prebuilt_image,
        build_args=settings.qgis.build_args,
    ), opts)
    qgis = QgisFcgiServer(QGIS_NAME, QgisFcgiServerArgs(
        target=target,
        image=image.image_ref,
        settings=settings.qgis,
        clients=(PROXY_NAME,),
    ), opts)
    proxy = NginxProxy(PROXY_NAME, NginxProxyArgs(
        target=target,
        settings=settings.nginx,
        upstream=qgis.deployed,
        projects=qgis.projects,
        exposure=Exposure(
            port=settings.nginx.port,
            host_port=settings.docker.host_port,
            bind_address=settings.docker.bind_address,
            node_port=settings.microk8s.node_port,
        ),
    ), opts)
    return QgisService(
        image_ref=image.image_ref,
        url=proxy.url,
        wms_capabilities_url=pulumi.Output.concat(
            proxy.url, settings.nginx.path, "?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"),
        project_urls={} if qgis.projects.claim else {
            p.name: pulumi.Output.concat(proxy.url, "/ogc/", p.name) for p in qgis.projects.all},
    )


def _qgis(settings: StackSettings, target: Target) -> None:
    service = deploy_qgis(settings, target)
    pulumi.export("imageRef", service.image_ref)
    pulumi.export("url", service.url)
    pulumi.export("wmsCapabilitiesUrl", service.wms_capabilities_url)
    pulumi.export("projectUrls", service.project_urls)


def _geonode(settings: StackSettings, target: Target) -> None:
    """GeoNode's services, and its URL and admin password (a secret) as outputs."""
    from pulumi_geostack.geonode import GeoNode, GeoNodeArgs
    from pulumi_geostack.geonode import names
    from pulumi_geostack.geonode.env import site_for

    geonode_settings = settings.geonode
    geonode = GeoNode(names.COMPONENT, GeoNodeArgs(
        target=target,
        settings=geonode_settings,
        site=site_for(geonode_settings.site_host, geonode_settings.upload_size, settings.target,
                      geonode_settings.host_port, geonode_settings.tls, geonode_settings.open_signup),
        host_port=geonode_settings.host_port,
        bind_address=settings.docker.bind_address,
        production=settings.production,
        # QGIS Server reaches GeoNode's PostGIS when its projects are saved there.
        database_guests=(QGIS_NAME,) if settings.qgis_enabled and settings.qgis.database
        and settings.qgis.database.host == names.postgis_host() else (),
    ))
    pulumi.export("geonodeUrl", geonode.url)
    # Encrypted in state; read it for the first login with
    # `pulumi stack output geonodeAdminPassword --show-secrets`.
    pulumi.export("geonodeAdminPassword", pulumi.Output.secret(geonode.admin_password))
