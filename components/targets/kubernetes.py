"""The Kubernetes realizer: workloads become ConfigMaps, a Deployment and a Service.

microk8s and EKS share all of this; they differ only in the provider, the registry
and how outside traffic reaches an exposed Service (`service_exposure`,
`public_url`), which their subclasses supply.
"""
from __future__ import annotations

import re
from abc import abstractmethod
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import shipped_files
from components.targets.base import Target, file_digest
from components.workload import (
    ClaimMount,
    CommandCheck,
    DeployedWorkload,
    DirectoryMount,
    Exposure,
    Probe,
    TcpCheck,
    Workload,
)

def labels(workload_name: str, stack: str) -> dict[str, str]:
    """Recommended labels; the first two select the workload's pods."""
    return {
        "app.kubernetes.io/name": workload_name,
        "app.kubernetes.io/instance": stack,
        "app.kubernetes.io/part-of": "geostack",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector(workload_name: str, stack: str) -> dict[str, str]:
    return {key: value for key, value in labels(workload_name, stack).items()
            if key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def directory_items(source: Path) -> tuple[dict[str, str], dict[str, str], list[dict[str, str]]]:
    """A local directory as ConfigMap data: (text files, base64 binary files, key→path items).

    ConfigMap keys cannot contain '/', so nested files get a flattened key and an
    `items` entry that puts them back at their relative path.
    """
    import base64

    text, binary, items = {}, {}, []
    for path in shipped_files(source):
        relative = path.relative_to(source).as_posix()
        key = re.sub(r"[^-._a-zA-Z0-9]", "_", relative.replace("/", "__"))
        raw = path.read_bytes()
        try:
            text[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(raw).decode()
        items.append({"key": key, "path": relative})
    return text, binary, items


def probe_spec(probe: Probe) -> dict[str, Any]:
    check = probe.check
    if isinstance(check, TcpCheck):
        action = {"tcp_socket": {"port": check.port}}
    elif isinstance(check, CommandCheck):
        action = {"exec_": {"command": list(check.command)}}
    else:
        raise TypeError(f"no Kubernetes probe for {check!r}")
    return {
        **action,
        "initial_delay_seconds": probe.initial_delay_seconds,
        "period_seconds": probe.period_seconds,
        "timeout_seconds": probe.timeout_seconds,
        "failure_threshold": probe.failure_threshold,
    }


class KubernetesTarget(Target):
    """Shared Kubernetes realizer; subclasses provide the provider and exposure."""

    def __init__(self, type_name: str, name: str, namespace: str, stack: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_name, name, None, opts)
        self.stack = stack
        self.provider = self.create_provider(name)
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": namespace, "labels": {"app.kubernetes.io/part-of": "geostack"}},
            opts=self.child_opts(self),
        )
        self.namespace = ns.metadata.name
        self.register_outputs({"namespace": self.namespace})

    @abstractmethod
    def create_provider(self, name: str) -> pulumi.ProviderResource:
        """The Kubernetes provider for the cluster."""

    @abstractmethod
    def service_exposure(self, expose: Exposure) -> dict[str, Any]:
        """Service spec fields that let outside traffic in (type, ports, annotations)."""

    @abstractmethod
    def public_url(self, service: k8s.core.v1.Service, expose: Exposure) -> pulumi.Output[str]:
        """Base URL users reach an exposed Service at."""

    def child_opts(self, parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **extra)

    def deploy(self, workload: Workload, parent: pulumi.Resource) -> DeployedWorkload:
        volumes, mounts, checksums = self._volumes(workload, parent)
        pod_labels = labels(workload.name, self.stack)
        meta = {"name": workload.name, "namespace": self.namespace, "labels": pod_labels}
        container = self._container(workload, mounts)
        deployment = k8s.apps.v1.Deployment(
            f"{workload.name}-deployment",
            metadata=meta,
            spec={
                "replicas": workload.replicas,
                "selector": {"match_labels": selector(workload.name, self.stack)},
                "template": {
                    "metadata": {"labels": pod_labels, "annotations": checksums},
                    "spec": {
                        "automount_service_account_token": False,
                        "security_context": {
                            "run_as_non_root": True,
                            "seccomp_profile": {"type": "RuntimeDefault"},
                        },
                        "containers": [container],
                        "volumes": volumes,
                    },
                },
            },
            opts=self.child_opts(parent),
        )
        ports = [{"name": p.name, "port": p.number, "target_port": p.name} for p in workload.ports]
        spec: dict[str, Any] = {"type": "ClusterIP", "selector": selector(workload.name, self.stack), "ports": ports}
        service_meta = dict(meta)
        if workload.expose:
            exposure = self.service_exposure(workload.expose)
            service_meta["annotations"] = exposure.pop("annotations", {})
            spec.update(exposure)
        service = k8s.core.v1.Service(
            f"{workload.name}-service",
            metadata=service_meta,
            spec=spec,
            opts=self.child_opts(parent, depends_on=[deployment]),
        )
        host = service.metadata.name
        public_url = self.public_url(service, workload.expose) if workload.expose else None
        return DeployedWorkload(host=host, port=workload.ports[0].number, public_url=public_url)

    def _container(self, workload: Workload, mounts: list[dict[str, Any]]) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": workload.name,
            "image": workload.image,
            "image_pull_policy": "IfNotPresent",
            "ports": [{"name": p.name, "container_port": p.number} for p in workload.ports],
            "env": [{"name": key, "value": value} for key, value in sorted(workload.env.items())],
            "volume_mounts": mounts,
            "security_context": {
                "allow_privilege_escalation": False,
                "read_only_root_filesystem": True,
                "capabilities": {"drop": ["ALL"]},
                **({"run_as_user": workload.user, "run_as_group": workload.user} if workload.user else {}),
            },
        }
        if workload.command:
            container["command"] = list(workload.command)
        if workload.liveness:
            container["liveness_probe"] = probe_spec(workload.liveness)
        if workload.readiness:
            container["readiness_probe"] = probe_spec(workload.readiness)
        if workload.resources:
            r = workload.resources
            container["resources"] = {
                "requests": {"cpu": r.cpu_request, "memory": r.memory_request},
                "limits": {"cpu": r.cpu_limit, "memory": r.memory_limit},
            }
        return container

    def _volumes(self, workload: Workload, parent: pulumi.Resource):
        """Volumes, mounts and pod-template checksums (so pods roll when content changes)."""
        volumes: list[dict[str, Any]] = []
        mounts: list[dict[str, Any]] = []
        checksums: dict[str, Any] = {}
        meta = {"namespace": self.namespace, "labels": labels(workload.name, self.stack)}
        if workload.files:
            data = {Path(f.path).name: f.content for f in workload.files}
            files_map = k8s.core.v1.ConfigMap(
                f"{workload.name}-files",
                metadata={**meta, "name": f"{workload.name}-files"},
                data=data,
                opts=self.child_opts(parent),
            )
            volumes.append({"name": "files", "config_map": {"name": files_map.metadata.name}})
            for f in workload.files:
                mounts.append({"name": "files", "mount_path": f.path, "sub_path": Path(f.path).name,
                               "read_only": True})
            checksums["geostack/files-checksum"] = pulumi.Output.all(*data.values()).apply(
                lambda contents: file_digest("\0".join(contents)))
        for index, mount in enumerate(workload.mounts):
            volume_name = f"data-{index}"
            if isinstance(mount, ClaimMount):
                volumes.append({"name": volume_name, "persistent_volume_claim": {
                    "claim_name": mount.claim_name, "read_only": True}})
            elif isinstance(mount, DirectoryMount):
                text, binary, items = directory_items(mount.source)
                data_map = k8s.core.v1.ConfigMap(
                    f"{workload.name}-{volume_name}",
                    metadata={**meta, "name": f"{workload.name}-{volume_name}"},
                    data=text,
                    binary_data=binary,
                    opts=self.child_opts(parent),
                )
                volumes.append({"name": volume_name, "config_map": {
                    "name": data_map.metadata.name, "items": items}})
                checksums[f"geostack/{volume_name}-checksum"] = file_digest(repr((text, binary)))
            mounts.append({"name": volume_name, "mount_path": mount.mount_path, "read_only": True})
        for index, path in enumerate(workload.writable_paths):
            volumes.append({"name": f"scratch-{index}", "empty_dir": {}})
            mounts.append({"name": f"scratch-{index}", "mount_path": path})
        return volumes, mounts, checksums
