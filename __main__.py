"""geostack: QGIS Server behind nginx on Docker, microk8s or EKS; the stack config picks the target."""
import pulumi

from components.config import load_settings
from components.nginx_proxy import NginxProxy, NginxProxyArgs
from components.qgis_image import QgisServerImage, QgisServerImageArgs
from components.qgis_server import QgisFcgiServer, QgisFcgiServerArgs
from components.targets import create_target
from components.workload import Exposure

# Validate every key before anything is declared.
settings = load_settings()
target = create_target(settings)

image = QgisServerImage("qgis-image", QgisServerImageArgs(
    target=target,
    repository=settings.qgis.image_repository,
    tag=settings.qgis.image_tag,
))
qgis = QgisFcgiServer("qgis-server", QgisFcgiServerArgs(
    target=target,
    image=image.image_ref,
    settings=settings.qgis,
))
proxy = NginxProxy("qgis-nginx", NginxProxyArgs(
    target=target,
    settings=settings.nginx,
    upstream_host=qgis.host,
    upstream_port=qgis.port,
    exposure=Exposure(
        port=settings.nginx.port,
        host_port=settings.docker.host_port,
        bind_address=settings.docker.bind_address,
        node_port=settings.microk8s.node_port,
    ),
))

pulumi.export("target", settings.target)
pulumi.export("imageRef", image.image_ref)
pulumi.export("url", proxy.url)
pulumi.export("wmsCapabilitiesUrl", pulumi.Output.concat(
    proxy.url, settings.nginx.path, "?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"))
