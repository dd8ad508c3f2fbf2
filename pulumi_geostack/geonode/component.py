"""GeoNode: the component that ties GeoNode 5.1's services together on any target."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import pulumi

from pulumi_geostack.geonode import services
from pulumi_geostack.geonode.credentials import resolve_credentials
from pulumi_geostack.geonode.env import DjangoOptions, Site
from pulumi_geostack.geonode.names import DJANGO_PORT, GEOSERVER_PORT, NGINX_PORT, ServiceNames
from pulumi_geostack.geonode.nginx_conf import GeoNodeNginxConf, render_geonode_nginx_conf
from pulumi_geostack.geonode.backup import backup
from pulumi_geostack.geonode.postgis import database
from pulumi_geostack.image_pins import pinned
from pulumi_geostack.paths import build_context
from pulumi_geostack.settings import GeoNodeImages, GeoNodeSettings
from pulumi_geostack.targets import Target
from pulumi_geostack.targets.base import context_build
from pulumi_geostack.workload import DeployedWorkload, Exposure, Ingress, VolumeSpec

DJANGO_CONTEXT = "geonode"  # build contexts this package ships (paths.build_context)
BACKUP_CONTEXT = "backup"
# The upstream images (GeoNode's own, Redis), which their projects publish under mutable tags.
UPSTREAM_IMAGES = ("geoserver", "geoserver_data", "nginx", "postgis", "redis", "django")


@dataclass(frozen=True)
class GeoNodeArgs:
    target: Target
    settings: GeoNodeSettings
    site: Site
    host_port: int  # Docker: published port
    bind_address: str  # Docker: host address to publish on
    production: bool = False  # protect the volumes: `pulumi destroy` stops before deleting them
    database_guests: tuple[str, ...] = ()  # other workloads that may reach PostGIS (NetworkPolicy)


class GeoNode(pulumi.ComponentResource):
    """PostGIS (unless the databases live on an existing server), Redis, GeoServer, Django, Celery
    (workers and beat) and GeoNode's nginx.

    `url` is the site URL; `admin_password` is a secret Output for the first login.
    """

    def __init__(self, name: str, args: GeoNodeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("geostack:geonode:GeoNode", name, None, opts)
        settings, target, site = args.settings, args.target, args.site
        names = ServiceNames.for_component(name)
        images = self._held_at_digests(name, settings.images, settings.image_refresh, target.plain_http_registry)
        resources = settings.resources
        credentials = resolve_credentials(name, settings.secrets, settings.database.external, parent=self)
        volumes = self._volumes(name, settings, target, args.production)

        def deploy(workload):
            return target.deploy(workload, parent=self)

        django_image = self._django_image(name, images, target)
        options = DjangoOptions(admin_email=settings.admin_email, mail=settings.mail, database=settings.database,
                                extra_settings=settings.extra_settings)
        postgis: tuple[DeployedWorkload, ...] = ()  # none with an existing server: nothing to wait for
        if not settings.database.external:
            postgis = (deploy(database(names, images.postgis, volumes, credentials, resources.database,
                                       settings.database.max_connections, args.database_guests)),)
        broker = deploy(services.broker(names, images.redis, volumes, credentials, resources.broker))
        seed = deploy(services.geoserver_seed(names, images.geoserver_data, volumes))
        init = deploy(services.init_task(names, django_image, site, options, credentials, volumes,
                                         resources.django, after=(*postgis, broker),
                                         timeout_minutes=settings.init_timeout_minutes))
        django = deploy(services.django(names, django_image, site, options, credentials, volumes,
                                        settings.django_replicas, resources.django, after=(init, *postgis, broker),
                                        timeout_minutes=settings.init_timeout_minutes))
        for worker in services.celery_workers(names, django_image, site, options, credentials,
                                              volumes, resources.celery, after=(init, *postgis, broker)):
            deploy(worker)
        geoserver = deploy(services.geoserver(names, images.geoserver, site, settings.database, credentials, volumes,
                                              resources.geoserver, after=(seed, *postgis, django)))
        self.nginx_config: pulumi.Output[str] = pulumi.Output.all(django.host, geoserver.host).apply(
            lambda hosts: render_geonode_nginx_conf(GeoNodeNginxConf(
                listen_port=NGINX_PORT,
                django=f"{hosts[0]}:{DJANGO_PORT}",
                geoserver=f"{hosts[1]}:{GEOSERVER_PORT}",
                upload_size=settings.upload_size,
                resolver=target.peer_resolver,
            )))
        exposure = Exposure(
            port=NGINX_PORT,
            host_port=args.host_port,
            bind_address=args.bind_address,
            ingress=Ingress(host=site.host, body_size=settings.upload_size, ingress_class=settings.ingress_class,
                            tls_secret=settings.tls_secret, cert_issuer=settings.cert_issuer),
        )
        deploy(services.nginx(names, images.nginx, self.nginx_config, volumes, exposure, resources.nginx,
                              after=(django, geoserver)))
        if settings.backups.time:
            image = self._own_image(f"{name}-backup-image", BACKUP_CONTEXT, "geostack/backup",
                                    settings.backups.prebuilt_image, target)
            deploy(backup(names, image, volumes, credentials, settings.database, settings.backups, after=(init,)))
        self.url = pulumi.Output.from_input(site.url)
        self.admin_password = credentials.admin_password
        self.register_outputs({"url": self.url, "admin_password": self.admin_password,
                               "nginx_config": self.nginx_config})

    def _held_at_digests(self, name: str, images: GeoNodeImages, refresh: str, plain_http_registry: str) -> GeoNodeImages:
        """The configured images, each upstream one given by tag held at the digest the tag named
        at the first `up` (or the last change of `refresh`): the same fields, as Outputs."""
        return dataclasses.replace(images, **{
            field: pinned(f"{name}-{field.replace('_', '-')}-image", getattr(images, field), refresh, parent=self,
                          plain_http_registry=plain_http_registry)
            for field in UPSTREAM_IMAGES if getattr(images, field)})

    def _django_image(self, name: str, images: GeoNodeImages, target: Target) -> services.DjangoImage:
        """An upstream image as given; else geostack's, prebuilt or built and pushed where the target pulls from."""
        if images.django:
            return services.DjangoImage(ref=images.django, own=False)
        return services.DjangoImage(ref=self._own_image(f"{name}-django-image", DJANGO_CONTEXT, "geostack/geonode",
                                                        images.prebuilt, target, images.build_args), own=True)

    def _own_image(self, resource: str, context: str, repository: str, prebuilt: str, target: Target,
                   build_args: Mapping[str, str] | None = None) -> pulumi.Input[str]:
        """One of geostack's images: prebuilt, or built from its shipped `context` (with the configured CA) and
        pushed where the target pulls from."""
        if prebuilt:
            return prebuilt
        build = context_build(build_context(context), repository, args=target.with_ca_certificates(build_args))
        return target.publish_image(resource, build, parent=self)

    def _volumes(self, name: str, settings: GeoNodeSettings, target: Target, production: bool) -> services.Volumes:
        sizes = settings.sizes

        def volume(suffix: str, size: str, shared: bool):
            return target.create_volume(VolumeSpec(f"{name}-{suffix}", size, shared=shared, protect=production),
                                        parent=self)

        return services.Volumes(
            database=None if settings.database.external else volume("dbdata", sizes.database, shared=False),
            broker=volume("redis", sizes.redis, shared=False),
            geoserver_data=volume("geoserver-data", sizes.geoserver_data, shared=True),
            statics=volume("statics", sizes.statics, shared=True),
            data=volume("data", sizes.data, shared=True),
            backups=volume("backups", settings.backups.size, shared=False) if settings.backups.time else None,
        )
