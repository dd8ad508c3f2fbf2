"""The validated stack settings: frozen dataclasses that components receive.

`pulumi_geostack/config.py` builds them from the stack config; nothing here reads config.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import pulumi

from pulumi_geostack.project_database import ProjectDatabase
from pulumi_geostack.qgis_projects import QgisProject
from pulumi_geostack.workload import Autoscale, Resources

KUBERNETES_TARGETS = ("microk8s", "eks")


@dataclass(frozen=True)
class Scaling:
    """Availability of a workload with several pods (Kubernetes)."""

    min_available: int
    autoscale_min: int
    autoscale_max: int  # 0: no autoscaler
    autoscale_cpu_percent: int

    def autoscale(self) -> Optional[Autoscale]:
        if not self.autoscale_max:
            return None
        return Autoscale(self.autoscale_min, self.autoscale_max, self.autoscale_cpu_percent)


@dataclass(frozen=True)
class QgisSettings:
    """The QGIS Server image and its FastCGI workload."""

    image_repository: str
    image_tag: str  # empty: derived from the build context
    prebuilt_image: str  # set: run this image (pinned by digest) and build nothing
    build_args: Mapping[str, str]  # the Debian release and QGIS build of qgisRelease
    fcgi_port: int
    processes: int  # 0: one per CPU the container may use
    replicas: int
    log_level: int
    parallel_rendering: bool
    max_threads: int
    max_cache_layers: int
    ignore_bad_layers: bool
    trust_layer_metadata: bool
    project_dir: Path
    project_file: str  # the project /qgis-server serves, relative to the folder
    projects: tuple[QgisProject, ...]  # each served at /ogc/<name>
    data_version: str  # changes with any file of project_dir; empty with a claim
    data_claim: str  # empty: project_dir travels with the deployment
    # Kubernetes, a folder too big for a ConfigMap: it travels as layers of the image the pods run.
    data_in_image: bool
    database: Optional[ProjectDatabase]  # projects saved in PostgreSQL, besides the folder's or claim's
    resources: Resources
    scaling: Scaling


@dataclass(frozen=True)
class NginxSettings:
    """The nginx proxy in front of QGIS Server."""

    image: str
    path: str
    port: int
    replicas: int
    resources: Resources
    scaling: Scaling
    cache: bool
    cache_size: str
    cache_validity: str
    cache_min_uses: int


@dataclass(frozen=True)
class DockerSettings:
    host_port: int
    bind_address: str
    image_platform: str  # linux/amd64 or linux/arm64: the engine's


@dataclass(frozen=True)
class Microk8sSettings:
    kubeconfig: str
    context: str
    registry: str
    host: str
    node_port: int
    storage_class: str
    image_platform: str  # e.g. linux/amd64: the node's, not the building machine's
    service_monitor: bool  # a Prometheus Operator ServiceMonitor per workload with metrics


@dataclass(frozen=True)
class EksSettings:
    cluster_name: str
    region: str
    image_platform: str
    ecr_keep_images: int
    storage_class: str
    shared_storage_class: str
    service_monitor: bool


@dataclass(frozen=True)
class GeoNodeImages:
    django: str  # an upstream image to run instead of geostack's; empty: geostack's
    prebuilt: str  # geostack's image, prebuilt and pinned by digest; empty: build it
    build_args: Mapping[str, str]  # building geostack's image: GEONODE_RELEASE, from geonodeRelease
    geoserver: str
    geoserver_data: str
    nginx: str
    postgis: str
    redis: str


@dataclass(frozen=True)
class GeoNodeVolumeSizes:
    database: str
    geoserver_data: str
    statics: str
    data: str
    redis: str


@dataclass(frozen=True)
class GeoNodeResources:
    database: Resources
    broker: Resources
    geoserver: Resources
    django: Resources
    celery: Resources
    nginx: Resources


@dataclass(frozen=True)
class GeoNodeDatabase:
    """Where GeoNode's two databases live: an existing server, or (no host) PostGIS beside GeoNode."""

    host: str  # empty: geostack runs PostGIS
    port: int
    ssl_mode: str  # libpq sslmode towards an existing server
    max_connections: int  # PostgreSQL's max_connections (geostack's PostGIS starts with it)

    @property
    def external(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class GeoNodeMail:
    """The SMTP server GeoNode sends through; no host: no mail (Django's console backend)."""

    host: str
    port: int
    user: str  # empty: no login
    tls: bool  # STARTTLS
    sender: str  # DEFAULT_FROM_EMAIL; empty: no-reply at the site's host


@dataclass(frozen=True)
class GeoNodeSecrets:
    """Credentials from `pulumi config set --secret`; None means generate one."""

    secret_key: Optional[pulumi.Output[str]]
    admin_password: Optional[pulumi.Output[str]]
    geoserver_admin_password: Optional[pulumi.Output[str]]
    postgres_password: Optional[pulumi.Output[str]]
    database_password: Optional[pulumi.Output[str]]
    geodatabase_password: Optional[pulumi.Output[str]]
    broker_password: Optional[pulumi.Output[str]]
    oauth_client_id: Optional[pulumi.Output[str]]
    oauth_client_secret: Optional[pulumi.Output[str]]
    api_key: Optional[pulumi.Output[str]]
    email_password: Optional[pulumi.Output[str]]  # None: no SMTP login (never generated)


@dataclass(frozen=True)
class BackupBucket:
    """An S3 bucket each backup is also uploaded to (docker/backup/geostack-bucket)."""

    name: str  # bucket, or bucket/key-prefix
    endpoint: str  # an S3-compatible server's URL; empty: AWS S3
    region: str
    keep: int  # the newest backups kept in the bucket
    access_key_id: str  # empty: the role below, or the credential chain's (an EKS node's role)
    secret_access_key: Optional[pulumi.Output[str]]
    role_arn: str  # EKS: an IAM role for the backup's ServiceAccount (IRSA)


@dataclass(frozen=True)
class GeoNodeBackups:
    time: str  # "HH:MM" UTC, daily; empty: no backups
    keep: int  # the newest backups kept
    size: str  # the backup volume, e.g. 20Gi
    prebuilt_image: str = ""  # geostack's backup image, pinned by digest; empty: build docker/backup
    bucket: Optional[BackupBucket] = None  # None: the backups stay on the backup volume


@dataclass(frozen=True)
class GeoNodeSettings:
    """GeoNode 5.1 and the services it needs."""

    enabled: bool
    site_host: str
    host_port: int
    upload_size: str  # nginx notation: 100m
    open_signup: bool
    admin_email: str
    mail: GeoNodeMail
    database: GeoNodeDatabase
    tls_secret: str
    cert_issuer: str
    ingress_class: str
    django_replicas: int
    init_timeout_minutes: int  # the first migrations on a small cluster outlast pulumi-kubernetes' 10 minutes
    extra_settings: str  # Python run after GeoNode's settings (geostack's image only); empty: none
    images: GeoNodeImages
    image_refresh: str  # changing it resolves the upstream images' tags to digests again
    sizes: GeoNodeVolumeSizes
    backups: GeoNodeBackups
    resources: GeoNodeResources
    secrets: GeoNodeSecrets

    @property
    def tls(self) -> bool:
        return bool(self.tls_secret or self.cert_issuer)


@dataclass(frozen=True)
class StackSettings:
    """Everything the program needs, validated."""

    project: str
    stack: str
    target: str
    production: bool
    namespace: str
    namespace_exists: bool  # made and owned by someone else: deploy into it, never create it
    kubernetes_version: str
    wait_image: str
    build_ca_certificates: str  # PEM text every image build trusts; empty: none
    qgis_enabled: bool
    qgis: QgisSettings
    nginx: NginxSettings
    geonode: GeoNodeSettings
    docker: DockerSettings
    microk8s: Microk8sSettings
    eks: EksSettings

    @property
    def is_kubernetes(self) -> bool:
        return self.target in KUBERNETES_TARGETS

    @property
    def restricted(self) -> bool:
        """Whether every workload meets the "restricted" Pod Security Standard.

        GeoNode's GeoServer image runs as root (its entrypoint writes into the image), so a
        namespace that holds GeoNode can only enforce "baseline".
        """
        return not self.geonode.enabled
