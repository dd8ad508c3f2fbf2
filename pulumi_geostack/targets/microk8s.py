"""microk8s: a kubeconfig context, images in its built-in registry, nginx on a NodePort."""
from __future__ import annotations

import os
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_kubernetes as k8s

from pulumi_geostack.settings import Microk8sSettings
from pulumi_geostack.targets.base import NamespaceSpec
from pulumi_geostack.targets.kubernetes import IN_PLACE_CONTENT, KubernetesTarget
from pulumi_geostack.workload import Exposure, ImageBuild


class Microk8sTarget(KubernetesTarget):
    """Deploys into a microk8s cluster; images are built locally and pushed to its registry."""

    kind = "microk8s"
    default_ingress_class = "public"  # the class `microk8s enable ingress` installs
    registry_plain_http = True  # the registry addon has no TLS, on localhost or another node

    def __init__(self, name: str, settings: Microk8sSettings, namespace: NamespaceSpec, wait_image: str,
                 ca_certificates: str = "", opts: pulumi.ResourceOptions | None = None):
        self.settings = settings
        self.plain_http_registry = settings.registry
        super().__init__("geostack:targets:Microk8sTarget", name, namespace, wait_image, ca_certificates, opts)

    def create_provider(self, name: str) -> pulumi.ProviderResource:
        kubeconfig = os.path.expanduser(self.settings.kubeconfig) if self.settings.kubeconfig else None
        return k8s.Provider(
            f"{name}-provider",
            kubeconfig=kubeconfig,
            context=self.settings.context or None,
            **IN_PLACE_CONTENT,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def storage_class(self, shared: bool) -> str | None:
        # The hostpath provisioner serves ReadWriteMany too: a single node shares one disk.
        return self.settings.storage_class

    def publish_image(self, name: str, build: ImageBuild, parent: pulumi.Resource) -> pulumi.Output[str]:
        # The registry addon listens without TLS or auth on the node (localhost:32000).
        image = docker.Image(
            name,
            image_name=f"{self.settings.registry}/{build.repository}:{build.tag}",
            build=docker.DockerBuildArgs(context=build.context, dockerfile=build.dockerfile,
                                         args=dict(build.args) or None, platform=self.settings.image_platform),
            registry=docker.RegistryArgs(server=self.settings.registry),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return image.repo_digest

    def service_exposure(self, expose: Exposure) -> dict[str, Any]:
        return {
            "type": "NodePort",
            "ports": [{"name": "http", "port": 80, "target_port": expose.port, "node_port": expose.node_port}],
        }

    def public_url(self, service: k8s.core.v1.Service, expose: Exposure) -> pulumi.Output[str]:
        return pulumi.Output.concat("http://", self.settings.host, ":", str(expose.node_port))
