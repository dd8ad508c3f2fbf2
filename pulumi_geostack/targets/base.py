"""The contract every target fulfils: realize a Workload, publish an image.

A target is itself a ComponentResource that owns what is shared by every workload on
it (the Docker network; the Kubernetes provider and namespace). Resources it creates
for a workload are parented to the app component that asked for them, so each one
sits under the component it belongs to.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pulumi

from pulumi_geostack.paths import project_dir
from pulumi_geostack.workload import DeployedWorkload, ImageBuild, Volume, VolumeSpec, Workload


# Marks volumes of a production stack; the policy pack checks they are protected.
PRODUCTION_LABEL = "geostack.io/production"


@dataclass(frozen=True)
class NamespaceSpec:
    """The Kubernetes namespace a stack deploys into: its own, or (`existing`) one made by someone else."""

    name: str
    stack: str
    restricted: bool  # every workload meets the "restricted" Pod Security Standard
    keeps_data: bool  # it will hold claims: deleting it would delete them
    protect: bool  # production
    existing: bool = False  # deploy into it; never create, label or delete it


# The build argument every Dockerfile geostack builds takes its extra CA certificates from.
CA_CERTIFICATES_ARG = "EXTRA_CA_CERTS"


class Target(pulumi.ComponentResource, ABC):
    """Where workloads run. Subclasses: DockerTarget, Microk8sTarget, EksTarget."""

    kind: str
    # PEM certificates every image build trusts (geostack:buildCaCertificates), for a network
    # that reaches PyPI through a TLS-intercepting proxy; empty: none.
    ca_certificates: str = ""
    # A registry this target pulls from over plain HTTP (microk8s's, on any node); empty: none.
    plain_http_registry: str = ""
    # A DNS server proxies must ask on every request, where a peer's address changes when it
    # restarts; empty where names stay put (Kubernetes Services).
    peer_resolver: str = ""

    @abstractmethod
    def deploy(self, workload: Workload, parent: pulumi.Resource) -> DeployedWorkload:
        """Create what runs `workload`, parented to `parent`."""

    @abstractmethod
    def create_volume(self, spec: VolumeSpec, parent: pulumi.Resource) -> Volume:
        """Persistent storage (a Docker volume, a PersistentVolumeClaim), protected if `spec.protect`."""

    @abstractmethod
    def publish_image(self, name: str, build: ImageBuild, parent: pulumi.Resource) -> pulumi.Output[str]:
        """Build (and push where the target pulls from a registry); return the reference workloads use."""

    def with_ca_certificates(self, args: Mapping[str, str] | None = None) -> dict[str, str]:
        """Build arguments plus the CA certificates, where the stack configures them. They count
        in the tag like any argument: the image history records them, so other certificates make
        another image, and a registry with immutable tags (ECR) never sees one tag pushed twice."""
        return {**(args or {}), **({CA_CERTIFICATES_ARG: self.ca_certificates} if self.ca_certificates else {})}


def _bytecode(path: Path) -> bool:
    return "__pycache__" in path.parts or path.suffix == ".pyc"


def context_digest(context: Path, args: Mapping[str, str] | None = None) -> str:
    """A short content hash of a build context and its build arguments: same files and arguments,
    same tag; any change, a new tag. Bytecode caches do not count: the context's .dockerignore
    leaves them out of the build (pip writes them into an installed package's contexts)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file() and not _bytecode(p)):
        digest.update(path.relative_to(context).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for key, value in sorted((args or {}).items()):
        digest.update(f"{key}={value}\0".encode())
    return digest.hexdigest()[:12]


def context_build(context: str, repository: str, tag: str = "", args: Mapping[str, str] | None = None) -> ImageBuild:
    """A build of `context` (relative to the project root, so state is the same on every machine)
    with build arguments `args`, tagged by a digest of both unless a tag is given."""
    return ImageBuild(context=context, dockerfile=f"{context}/Dockerfile", repository=repository,
                      tag=tag or context_digest(project_dir() / context, args), args=dict(args or {}))


def file_digest(content: str) -> str:
    """Checksum for pod-template annotations, so pods roll when mounted content changes."""
    return hashlib.sha256(content.encode()).hexdigest()
