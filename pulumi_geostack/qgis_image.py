"""QgisServerImage: the QGIS Server image built from its shipped context (docker/qgis-server), published per target."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pulumi

from pulumi_geostack.paths import build_context
from pulumi_geostack.targets import Target
from pulumi_geostack.targets.base import context_build

BUILD_CONTEXT = "qgis-server"  # the context this package ships (paths.build_context)


@dataclass(frozen=True)
class QgisServerImageArgs:
    """Where the image goes and what it is called."""

    target: Target
    repository: str = "geostack/qgis-server"
    tag: str = ""  # empty: a digest of the build context, so every change gets a new tag
    context: str = ""  # a build context of your own, relative to the project; empty: the one geostack ships
    prebuilt: str = ""  # an image pinned by digest to run instead of building; empty: build
    build_args: Mapping[str, str] = field(default_factory=dict)  # DEBIAN_RELEASE, QGIS_VERSION; empty: the Dockerfile's


class QgisServerImage(pulumi.ComponentResource):
    """Builds the image; pushes it to microk8s's registry or ECR where the target pulls from one.

    `image_ref` is what workloads run: the local tag on Docker, the pushed digest elsewhere, or
    the prebuilt image as given. A prebuilt image declares nothing, so a stack that runs one
    needs no Docker engine and no docker provider (a CI pipeline that builds images itself).
    """

    def __init__(self, name: str, args: QgisServerImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("geostack:qgis:QgisServerImage", name, None, opts)
        if args.prebuilt:
            self.tag = args.prebuilt.rsplit("@", 1)[1]
            self.image_ref: pulumi.Output[str] = pulumi.Output.from_input(args.prebuilt)
            self.register_outputs({"image_ref": self.image_ref, "tag": self.tag})
            return
        context = args.context or build_context(BUILD_CONTEXT)
        build = context_build(context, args.repository, args.tag, args.target.with_ca_certificates(args.build_args))
        self.tag = build.tag
        self.image_ref: pulumi.Output[str] = args.target.publish_image(f"{name}-build", build, parent=self)
        self.register_outputs({"image_ref": self.image_ref, "tag": build.tag})
