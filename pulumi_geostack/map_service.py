"""MapService: QGIS Server, its FastCGI workers and the nginx proxy in front as one component whose
inputs are plain values, so that Pulumi programs in any language can use it through the component
package in component-package/ (its schema is inferred from these annotations).

The components behind it (QgisServerImage, QgisFcgiServer, NginxProxy, the targets) take Python
objects and stay Python's; MapService composes them as geostack's own program does.
No `from __future__ import annotations`: the schema is read from the annotations as types.
"""
from typing import Optional, TypedDict

import pulumi

from pulumi_geostack import __version__
from pulumi_geostack.config import load_settings
from pulumi_geostack.program import deploy_qgis
from pulumi_geostack.targets import create_target


class MapServiceArgs(TypedDict, total=False):
    settings: Optional[dict[str, str]]
    """geostack settings by key, as docs/configuration.md names them without `geostack:` (for example
    qgisProjectDir), over the stack's own `geostack:*` config; checked alike, and a wrong value stops
    the program before anything is created."""


class MapService(pulumi.ComponentResource):
    """QGIS Server behind nginx on the target the settings name (docker, microk8s or eks); one per stack."""

    url: pulumi.Output[str]
    """The public base URL: the landing page, and each project at /ogc/<name>."""
    wms_capabilities_url: pulumi.Output[str]
    """WMS GetCapabilities of the default project."""
    project_urls: pulumi.Output[dict[str, str]]
    """Each project's address by name."""
    geostack_version: pulumi.Output[str]
    """The geostack release deployed (CHANGELOG.md)."""

    def __init__(self, name: str, args: MapServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("geostack:index:MapService", name, {}, opts)
        settings = load_settings((args or {}).get("settings") or {})
        children = pulumi.ResourceOptions(parent=self)
        service = deploy_qgis(settings, create_target(settings, children), children)
        self.url = service.url
        self.wms_capabilities_url = service.wms_capabilities_url
        self.project_urls = pulumi.Output.from_input(service.project_urls)
        self.geostack_version = pulumi.Output.from_input(__version__)
        self.register_outputs({"url": self.url, "wmsCapabilitiesUrl": self.wms_capabilities_url,
                               "projectUrls": self.project_urls, "geostackVersion": self.geostack_version})
