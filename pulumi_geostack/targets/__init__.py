"""Targets realize target-neutral workloads. Only the chosen target's SDKs are imported."""
from __future__ import annotations

import pulumi

from pulumi_geostack.settings import StackSettings
from pulumi_geostack.targets.base import NamespaceSpec, Target


def create_target(settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> Target:
    """The target the stack config names, as a component owning its shared resources."""
    name = f"{settings.target}-target"
    if settings.target == "docker":
        from pulumi_geostack.targets.docker import DockerTarget

        return DockerTarget(name, prefix=f"{settings.project}-{settings.stack}",
                            image_platform=settings.docker.image_platform,
                            ca_certificates=settings.build_ca_certificates, opts=opts)
    namespace = NamespaceSpec(settings.namespace, settings.stack, restricted=settings.restricted,
                              keeps_data=settings.geonode.enabled, protect=settings.production,
                              existing=settings.namespace_exists)
    if settings.target == "microk8s":
        from pulumi_geostack.targets.microk8s import Microk8sTarget

        return Microk8sTarget(name, settings.microk8s, namespace, settings.wait_image,
                              ca_certificates=settings.build_ca_certificates, opts=opts)
    if settings.target == "eks":
        from pulumi_geostack.targets.eks import EksTarget

        return EksTarget(name, settings.eks, namespace, settings.wait_image, production=settings.production,
                         ca_certificates=settings.build_ca_certificates, opts=opts)
    raise ValueError(f"unknown target {settings.target!r}")  # config validation makes this unreachable


__all__ = ["Target", "create_target"]
