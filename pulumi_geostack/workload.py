"""Target-neutral descriptions of what runs: plain frozen dataclasses, no resources.

App components (QGIS server, nginx proxy, GeoNode services) describe each service as a
`Workload`; a target (`pulumi_geostack/targets/`) turns it into Docker containers or
Kubernetes objects. Adding a service therefore costs no per-target code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union

import pulumi


@dataclass(frozen=True)
class Port:
    """A TCP port the workload listens on; `name` is a Kubernetes port name (<= 15 chars)."""

    name: str
    number: int


@dataclass(frozen=True)
class Metrics:
    """Where Prometheus reads a workload's figures: a port that is never published to users."""

    port: int
    path: str


@dataclass(frozen=True)
class TcpCheck:
    """Healthy when the port accepts a connection."""

    port: int


@dataclass(frozen=True)
class CommandCheck:
    """Healthy when the command exits 0 inside the container."""

    command: tuple[str, ...]


@dataclass(frozen=True)
class HttpCheck:
    """Healthy when GET `path` on `port` answers 2xx/3xx (Docker runs curl or wget inside the container)."""

    path: str
    port: int
    host: str = ""  # Host header, for apps that check it (Django's ALLOWED_HOSTS)


@dataclass(frozen=True)
class Probe:
    check: Union[TcpCheck, CommandCheck, HttpCheck]
    initial_delay_seconds: int = 5
    period_seconds: int = 10
    timeout_seconds: int = 5
    failure_threshold: int = 3


@dataclass(frozen=True)
class ConfigFile:
    """A small text file handed to the container as content (never written on the deploying host)."""

    path: str  # absolute path inside the container
    content: pulumi.Input[str]


@dataclass(frozen=True)
class SecretFile:
    """A file holding a credential: a Secret volume on Kubernetes (readable by the workload's
    user only), a copied file on Docker. Its content stays a Pulumi secret."""

    path: str  # absolute path inside the container
    content: pulumi.Output[str]


@dataclass(frozen=True)
class DirectoryMount:
    """A local directory shipped read-only: a bind mount on Docker, a ConfigMap on Kubernetes."""

    source: Path
    mount_path: str


@dataclass(frozen=True)
class ClaimMount:
    """An existing Kubernetes PersistentVolumeClaim, mounted read-only."""

    claim_name: str
    mount_path: str


@dataclass(frozen=True)
class VolumeSpec:
    """Persistent storage a component asks its target for."""

    name: str  # Docker volume / PersistentVolumeClaim name
    size: str  # Kubernetes quantity, e.g. 10Gi
    shared: bool = False  # mounted by several workloads at once: ReadWriteMany on Kubernetes
    protect: bool = False  # production: the engine refuses to delete or replace it


@dataclass(frozen=True)
class Volume:
    """A created volume; `ref` is its name on the target, an Output so mounts wait for it."""

    spec: VolumeSpec
    ref: pulumi.Output[str]


@dataclass(frozen=True)
class VolumeMount:
    volume: Volume
    mount_path: str
    read_only: bool = False


@dataclass(frozen=True)
class Ingress:
    """An HTTP(S) host name on Kubernetes, in front of an exposed workload."""

    host: str
    body_size: str  # nginx notation, e.g. 100m
    ingress_class: str = ""  # empty: the target's default
    tls_secret: str = ""  # an existing TLS Secret, or
    cert_issuer: str = ""  # a cert-manager ClusterIssuer that creates one

    @property
    def tls(self) -> bool:
        return bool(self.tls_secret or self.cert_issuer)


@dataclass(frozen=True)
class Exposure:
    """How traffic from outside reaches a port: each target uses the field that fits it."""

    port: int  # container port that is exposed
    host_port: int  # docker: published host port
    bind_address: str  # docker: host address to publish on
    node_port: int = 0  # microk8s without an Ingress: NodePort
    ingress: Optional[Ingress] = None  # Kubernetes: an Ingress instead of a NodePort/LoadBalancer


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str


@dataclass(frozen=True)
class Autoscale:
    """A HorizontalPodAutoscaler on CPU (Kubernetes only)."""

    min_replicas: int
    max_replicas: int
    cpu_percent: int


@dataclass(frozen=True)
class Workload:
    """One service: its image, how it runs and how others reach it.

    `name` is both the Kubernetes Service name and the Docker network alias, so peers
    address the workload by it on every target.
    """

    name: str
    image: pulumi.Input[str]
    ports: tuple[Port, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    command: Optional[tuple[str, ...]] = None  # replaces the image's CMD
    files: tuple[ConfigFile, ...] = ()
    mounts: tuple[Union[DirectoryMount, ClaimMount, VolumeMount], ...] = ()
    secret_env: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)  # never a plain env literal
    secret_files: tuple[SecretFile, ...] = ()
    liveness: Optional[Probe] = None
    readiness: Optional[Probe] = None
    replicas: int = 1
    resources: Optional[Resources] = None
    user: Optional[int] = None  # numeric UID the processes run as
    writable_paths: tuple[str, ...] = ()  # scratch dirs; the rest of the root filesystem is read-only
    scratch_size: str = "256Mi"  # cap of each scratch dir (a Docker tmpfs, a Kubernetes emptyDir)
    shm_size: str = ""  # /dev/shm, when the default 64 MiB is too small (PostgreSQL's parallel queries)
    # False only for images whose entrypoints rewrite files inside the image at start.
    read_only_root: bool = True
    fs_group: Optional[int] = None  # group that owns mounted volumes (Kubernetes fsGroup)
    # One pod at a time (Recreate): for single-writer volumes and processes that must not double up.
    singleton: bool = False
    # Kubernetes rollouts: start each new pod before stopping an old one (True), or stop first.
    # Stopping first needs no spare capacity; it suits queue consumers, whose work waits in the broker.
    surge: bool = True
    # Kubernetes, with more than one replica: pods that must stay up during voluntary disruptions.
    min_available: int = 1
    autoscale: Optional[Autoscale] = None
    # Graceful shutdown: wait this long before SIGTERM so endpoints stop sending traffic first.
    pre_stop_seconds: int = 0
    termination_grace_seconds: int = 30
    # Names of the workloads allowed to connect (Kubernetes NetworkPolicy); exposed ones take anyone.
    allow_from: tuple[str, ...] = ()
    expose: Optional[Exposure] = None
    metrics: Optional[Metrics] = None
    entrypoint: Optional[tuple[str, ...]] = None  # replaces the image's ENTRYPOINT
    # Kubernetes: annotations of a ServiceAccount of the workload's own, such as EKS's
    # eks.amazonaws.com/role-arn, which gives its pods an IAM role (IRSA); empty: the default one.
    service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    # Start only once these are ready: Docker creates this after their healthchecks pass;
    # Kubernetes adds init containers that wait for their ports (or depends on a finished task).
    after: tuple["DeployedWorkload", ...] = ()
    # Created or updated only once these have finished theirs (ordering alone: no waiting in the pods).
    rolls_after: tuple["DeployedWorkload", ...] = ()
    # A task runs to completion once per rollout (a Kubernetes Job, a one-shot container),
    # e.g. database migrations that must not run in every replica.
    task: bool = False
    # "HH:MM" (UTC): run to completion once a day at that time (a Kubernetes CronJob; on Docker,
    # a container that sleeps until then, runs the command and sleeps again).
    daily_at: Optional[str] = None
    # How long a deployment waits for this to become ready (a Kubernetes task: to complete) before
    # it fails; 0: the target's default (pulumi-kubernetes: 10 minutes; Docker: 5 for healthchecks).
    ready_timeout_minutes: int = 0


@dataclass(frozen=True)
class DeployedWorkload:
    """What peers and stack outputs need from a realized workload."""

    host: pulumi.Output[str]  # DNS name peers use (Service name / network alias)
    port: int  # first declared port
    public_url: Optional[pulumi.Output[str]] = None  # base URL when exposed, e.g. http://localhost:8080
    resources: tuple[pulumi.Resource, ...] = ()  # what dependents wait for
    task: bool = False


@dataclass(frozen=True)
class ImageBuild:
    """A container image built from a local build context."""

    context: str  # path relative to the project root, so state is the same on every machine
    dockerfile: str
    repository: str
    tag: str
    args: Mapping[str, str] = field(default_factory=dict)  # build arguments


def hour_and_minute(daily_at: str) -> tuple[int, int]:
    """A Workload's `daily_at` ("HH:MM", validated by the config) as numbers."""
    hours, minutes = daily_at.split(":")
    return int(hours), int(minutes)
