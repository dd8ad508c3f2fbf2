"""Two teams' project folders, each on a QGIS Server of its own, behind one nginx, in a Kubernetes
namespace that exists already: geostack's components composed differently from its own program.

Each project is served at /ogc/<name> by the server of its folder; the landing page and
geostack:nginxPath are the first folder's. Every other setting is the stack's `geostack:*` config,
so the same keys tune both servers (docs/configuration.md).
"""
import pulumi

from pulumi_geostack import __version__
from pulumi_geostack.config import load_settings
from pulumi_geostack.nginx_proxy import NginxProxy, NginxProxyArgs, QgisBackend
from pulumi_geostack.qgis_image import QgisServerImage, QgisServerImageArgs
from pulumi_geostack.qgis_server import QgisFcgiServer, QgisFcgiServerArgs
from pulumi_geostack.targets import create_target
from pulumi_geostack.workload import Exposure

# A QGIS Server per folder (relative to this project), named after it; <name>.qgs is its default project.
FOLDERS = {"planning": "maps/planning", "parks": "maps/parks"}
PROXY = "maps-nginx"

# The stack's config with each folder in place of geostack:qgisProjectDir, checked like the rest:
# a wrong value stops the program before anything is declared.
settings = {name: load_settings({"qgisProjectDir": folder, "qgisProjectFile": f"{name}.qgs"})
            for name, folder in FOLDERS.items()}
stack = settings["planning"]
target = create_target(stack)
image = QgisServerImage("qgis-image", QgisServerImageArgs(
    target=target, repository=stack.qgis.image_repository, tag=stack.qgis.image_tag,
    prebuilt=stack.qgis.prebuilt_image, build_args=stack.qgis.build_args))
servers = [QgisFcgiServer(f"qgis-{name}", QgisFcgiServerArgs(
    target=target, image=image.image_ref, settings=folder.qgis, clients=(PROXY,)))
    for name, folder in settings.items()]
proxy = NginxProxy(PROXY, NginxProxyArgs(
    target=target, settings=stack.nginx, upstream=servers[0].deployed, projects=servers[0].projects,
    more_servers=tuple(QgisBackend(server.deployed, server.projects) for server in servers[1:]),
    exposure=Exposure(port=stack.nginx.port, host_port=stack.docker.host_port,
                      bind_address=stack.docker.bind_address, node_port=stack.microk8s.node_port)))

pulumi.export("url", proxy.url)
pulumi.export("projectUrls", {project.name: pulumi.Output.concat(proxy.url, "/ogc/", project.name)
                              for server in servers for project in server.projects.all})
pulumi.export("geostackVersion", __version__)
