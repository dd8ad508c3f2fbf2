"""The table of every `geostack:*` config key: name, kind, default and description.

Single source of truth for `pulumi_geostack/config.py` (validation), `Pulumi.yaml` (project
config declarations) and the config reference in docs/configuration.md (`scripts/config_reference.py`).
"""
from __future__ import annotations

from pulumi_geostack.settings_types import (
    Boolean,
    Choice,
    Integer,
    IpAddress,
    PythonCode,
    Quantity,
    ResourceSpec,
    Secret,
    Setting,
    Text,
)

TARGETS = ("docker", "microk8s", "eks")

DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_IMAGE_REF = r"[a-z0-9][a-z0-9._/:@-]*[a-z0-9]"  # name[:tag][@sha256:digest]
_PINNED = "a pinned image reference such as name:1.2.3 (never latest)"
_HOST = r"[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?"
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()-]+)*/?"  # S3's bucket naming, then a key prefix
IMAGE_PLATFORMS = ("linux/amd64", "linux/arm64")
# qgisRelease -> the build arguments of docker/qgis-server: the Debian release, the exact QGIS build.
QGIS_RELEASES = {
    "3.40": {"DEBIAN_RELEASE": "trixie", "QGIS_VERSION": "3.40.6+dfsg-1"},
    "3.44": {"DEBIAN_RELEASE": "forky", "QGIS_VERSION": "3.44.15+dfsg-1"},
}
QGIS_DEFAULT_RELEASE = "3.40"  # the Dockerfile's own defaults
# geonodeRelease -> the GeoNode on PyPI that docker/geonode/releases/<release>/requirements.lock pins.
GEONODE_RELEASES = {"5.1": "5.1.1", "5.0": "5.0.3.post1"}
GEONODE_DEFAULT_RELEASE = "5.1"  # the current one; 5.0 is there to upgrade from
# PostgreSQL names geostack writes into pg_service.conf and URIs: no quoting needed anywhere.
_PG_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.$-]{0,62}"
_PG_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_$]{0,62}"
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")  # libpq's sslmode
# QGIS's connection to its projects' database checks certificates against the image's CAs
# (sslrootcert=system), which libpq allows with verify-full only.
PROJECT_DATABASE_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-full")
# A bare address, or a display name and the address in angle brackets.
_SENDER = r"[^@\s<>]+@[^@\s<>]+|[^<>\n]+ <[^@\s<>]+@[^@\s<>]+>"

def _scaling(workload: str, label: str) -> tuple[Setting, ...]:
    """Availability keys shared by every workload that can run several pods."""
    return (
        Setting(f"{workload}MinAvailable", Integer(0, 100), 1,
                f"Kubernetes, with several {label} pods: pods a PodDisruptionBudget keeps up "
                "(must stay below the replicas)."),
        Setting(f"{workload}AutoscaleMin", Integer(1, 100), 2,
                f"Kubernetes: fewest {label} pods the HorizontalPodAutoscaler keeps."),
        Setting(f"{workload}AutoscaleMax", Integer(0, 100), 0,
                f"Kubernetes: most {label} pods the HorizontalPodAutoscaler may run; 0 turns autoscaling off."),
        Setting(f"{workload}AutoscaleCpuPercent", Integer(10, 100), 75,
                "Kubernetes: average CPU use (% of request) the autoscaler aims for."),
    )


def _by_digest(example_repository: str) -> Text:
    """An image geostack's CI built and pushed, given by digest (empty: build it here)."""
    return Text(r"[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}",
                f"an image reference pinned by digest, such as {example_repository}@sha256:<64 hex>", allow_empty=True)


SETTINGS: tuple[Setting, ...] = (
    Setting("target", Choice(TARGETS), "docker",
            "Where to deploy: local Docker engine, microk8s, or EKS with images in ECR."),
    Setting("production", Boolean(), False,
            "Marks a production stack: stateful resources are protected from `pulumi destroy`."),
    Setting("buildCaCertificates", Text(r"(?s).+", "PEM certificates, or the path of a file of them", allow_empty=True),
            "",
            "CA certificates that image builds trust, for networks that reach PyPI and Debian through a "
            "TLS-intercepting proxy: a PEM file's path (relative paths are relative to the project root) or the "
            "PEM text. Every image geostack builds gets them as its EXTRA_CA_CERTS build argument; no file "
            "in the built images keeps them. Empty: the build images' own CAs only."),
    Setting("qgisEnabled", Boolean(), True, "Deploy QGIS Server and its nginx proxy."),
    Setting("qgisImageRepository", Text(_IMAGE_REF, "an image repository name such as geostack/qgis-server"),
            "geostack/qgis-server",
            "Repository name of the QGIS Server image (prefixed by the registry on microk8s; the ECR repository name on EKS)."),
    Setting("qgisImageTag", Text(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "a Docker tag other than 'latest'",
                                  forbidden=("latest",), allow_empty=True),
            "",
            "Tag of the QGIS Server image. Empty: a digest of the build context, so every change gets a new tag."),
    Setting("qgisImage", _by_digest("registry/geostack/qgis-server"),
            "",
            "A prebuilt QGIS Server image (say, one your CI built from docker/qgis-server and pushed) that the "
            "workloads run; nothing is built or pushed. Empty: build docker/qgis-server and publish it to the target."),
    Setting("qgisRelease", Choice(tuple(QGIS_RELEASES)), QGIS_DEFAULT_RELEASE,
            "QGIS Server release the image installs, each a pinned Debian build: 3.40 (3.40.6, on Debian 13 "
            "trixie, stable) or 3.44 (3.44.15, the current LTR, on Debian forky, testing)."),
    Setting("qgisFcgiPort", Integer(1, 65535), 5555, "TCP port the QGIS FastCGI server listens on."),
    Setting("qgisProcesses", Integer(0, 64), 0,
            "FastCGI worker processes per container; 0 picks one per CPU the container may use."),
    Setting("qgisReplicas", Integer(1, 100), 1, "QGIS Server containers (Docker) or pods (Kubernetes)."),
    *_scaling("qgis", "QGIS Server"),
    Setting("qgisLogLevel", Integer(0, 2), 1, "QGIS_SERVER_LOG_LEVEL: 0 info, 1 warning, 2 critical."),
    Setting("qgisParallelRendering", Boolean(), False,
            "QGIS_SERVER_PARALLEL_RENDERING: render layers on threads (processes scale better)."),
    Setting("qgisMaxThreads", Integer(-1, 64, excluded=(0,)), -1,
            "QGIS_SERVER_MAX_THREADS for parallel rendering; -1 lets QGIS use every core."),
    Setting("qgisMaxCacheLayers", Integer(1, 100000), 100, "MAX_CACHE_LAYERS: layers QGIS keeps open between requests."),
    Setting("qgisIgnoreBadLayers", Boolean(), True,
            "QGIS_SERVER_IGNORE_BAD_LAYERS: serve a project even if one of its layers is broken."),
    Setting("qgisTrustLayerMetadata", Boolean(), True,
            "QGIS_SERVER_TRUST_LAYER_METADATA: skip extent scans when loading projects (faster start). PostGIS "
            "row counts then come from PostgreSQL's statistics: run ANALYZE on a new table, or OGC API refuses its "
            "items (a table never analyzed counts -1 rows)."),
    Setting("qgisProjectDir", Text(r".+", "a directory path"), "data",
            "Local folder of QGIS projects and their data (relative paths are relative to the project root). Every "
            ".qgs/.qgz in it (outside fonts/ and plugins/) is served at /ogc/<file name without extension>, and "
            "the landing page at / lists them. On Kubernetes a folder of more than about 1 MB (a ConfigMap's limit) "
            "travels as layers added to the QGIS image and pushed to the target's registry."),
    Setting("qgisProjectFile", Text(r"[^/].*", "a relative path such as sample.qgs"), "sample.qgs",
            "The project served at nginxPath, relative to the project folder (or to the claim's root); "
            "it is also at /ogc/<name>, with the others."),
    Setting("qgisDataClaim", Text(DNS_LABEL, "a PersistentVolumeClaim name (DNS label)", allow_empty=True), "",
            "Kubernetes only: serve project data from this existing PersistentVolumeClaim instead of the folder "
            "(QGIS mounts it read-only; every project on it is served at /ogc/<name>, found as requested)."),
    Setting("qgisDatabaseHost", Text(_HOST, "a host name such as maps-db.example.org", allow_empty=True), "",
            "QGIS projects saved in PostgreSQL (QGIS's own project storage): the server's host name, as the QGIS "
            "containers reach it. Each project in qgisDatabaseSchema is served at /ogc/<name> and listed on the "
            "landing page, beside the folder's. Empty: no projects in PostgreSQL."),
    Setting("qgisDatabasePort", Integer(1, 65535), 5432, "With qgisDatabaseHost: the server's port."),
    Setting("qgisDatabaseName", Text(_PG_NAME, "a database name such as gis", allow_empty=True), "",
            "With qgisDatabaseHost: the database the projects (and usually their layers) are in."),
    Setting("qgisDatabaseSchema", Text(_PG_IDENTIFIER, "an SQL identifier such as public or maps "
                                       "(letters, digits, _ or $, not starting with a digit, at most 63)"),
            "public", "With qgisDatabaseHost: the schema whose qgis_projects table holds the projects."),
    Setting("qgisDatabaseUser", Text(_PG_NAME, "a user name such as qgis_server", allow_empty=True), "",
            "With qgisDatabaseHost: the user QGIS Server connects as (it only needs to read)."),
    Setting("qgisDatabasePassword", Secret(generated=False), None,
            "With qgisDatabaseHost: that user's password; it reaches QGIS only inside a pg_service.conf file."),
    Setting("qgisDatabaseSslMode", Choice(PROJECT_DATABASE_SSL_MODES), "prefer",
            "With qgisDatabaseHost: libpq sslmode. verify-full checks the server's certificate and name against "
            "the CAs the QGIS image trusts (Debian's ca-certificates: public CAs, sslrootcert=system)."),
    Setting("qgisDatabaseService", Text(_PG_NAME, "a service name such as geostack or gis"), "geostack",
            "With qgisDatabaseHost: the name of the connection in QGIS Server's pg_service.conf. Layers saved "
            "with `service=<this name>` use it, so save projects from QGIS Desktop through a service of the same "
            "name and no password is stored in them."),
    Setting("qgisDatabaseRefreshSeconds", Integer(1, 86400), 30,
            "With qgisDatabaseHost: how often each QGIS worker checks the projects it has open for changes "
            "(QGIS_SERVER_PROJECT_CACHE_STRATEGY=periodic): a project saved again into the database is served "
            "within this time."),
    Setting("qgisCpuRequest", Quantity("cpu"), "500m", "CPU request per QGIS pod (Kubernetes)."),
    Setting("qgisCpuLimit", Quantity("cpu"), "2", "CPU limit per QGIS pod (Kubernetes)."),
    # Measured: one worker peaks at ~296 MB (282 MiB) serving the heavy benchmark project
    # (docs/benchmark/heavy/), ~200 MB with the small sample; 320Mi covers that with ~13% to spare,
    # and the automatic limit (twice the request) absorbs rendering peaks.
    Setting("qgisMemoryPerProcess", Quantity("memory"), "320Mi",
            "Memory one FastCGI worker needs with its project loaded; sizes the automatic request and limit."),
    Setting("qgisMemoryRequest", Quantity("memory", allow_empty=True), "",
            "Memory request per QGIS pod (Kubernetes); empty: processes x qgisMemoryPerProcess."),
    Setting("qgisMemoryLimit", Quantity("memory", allow_empty=True), "",
            "Memory limit per QGIS pod (Kubernetes); empty: twice the request, for rendering peaks."),
    Setting("nginxImage", Text(_IMAGE_REF, "a pinned image reference such as nginx:1.28.0-bookworm",
                                forbidden_suffixes=(":latest",), require_tag=True),
            "nginx:1.28.0-bookworm", "Image of the nginx proxy in front of QGIS Server."),
    Setting("nginxPath", Text(r"/[A-Za-z0-9_./-]*[A-Za-z0-9_-]", "a URL path such as /qgis-server"), "/qgis-server",
            "URL path under which nginx serves qgisProjectFile (every project is also at /ogc/<name>)."),
    Setting("nginxPort", Integer(1024, 65535), 8080,
            "Port nginx listens on inside its container (unprivileged, so above 1023)."),
    Setting("nginxReplicas", Integer(1, 100), 1, "nginx proxy pods (Kubernetes); Docker runs exactly one."),
    *_scaling("nginx", "nginx proxy"),
    Setting("nginxCache", Boolean(), True,
            "Cache GetMap, GetTile and GetLegendGraphic answers in nginx (never requests with credentials)."),
    Setting("nginxCacheSize", Text(r"[1-9][0-9]*[kmg]", "an nginx size such as 512m or 2g"), "512m",
            "Most disk the nginx map cache may use (in the proxy's /tmp)."),
    Setting("nginxCacheValidity", Text(r"[1-9][0-9]*[smhd]", "an nginx time such as 30s, 10m or 1h"), "10m",
            "How long a cached map is served before QGIS renders it again."),
    Setting("nginxCacheMinUses", Integer(1, 100), 1,
            "Requests for the same map before nginx caches it (fastcgi_cache_min_uses): 1 caches every map; 2 "
            "renders a map twice but writes no map to disk that is asked for once."),
    Setting("nginxCpuRequest", Quantity("cpu"), "50m", "CPU request per nginx pod (Kubernetes)."),
    Setting("nginxCpuLimit", Quantity("cpu"), "500m", "CPU limit per nginx pod (Kubernetes)."),
    Setting("nginxMemoryRequest", Quantity("memory"), "64Mi", "Memory request per nginx pod (Kubernetes)."),
    Setting("nginxMemoryLimit", Quantity("memory"), "256Mi", "Memory limit per nginx pod (Kubernetes)."),
    Setting("dockerHostPort", Integer(1, 65535), 8080, "Docker: host port published for nginx."),
    Setting("dockerBindAddress", IpAddress(),
            "127.0.0.1", "Docker: host address the nginx port is published on (0.0.0.0 for every interface)."),
    Setting("dockerImagePlatform", Text(r"linux/(amd64|arm64)", "linux/amd64 or linux/arm64", allow_empty=True), "",
            "Docker: platform geostack's images are built for. Empty: the platform of the machine running "
            "`pulumi up`, whose engine runs them."),
    Setting("kubernetesVersion", Text(r"1\.[0-9]{2}", "a Kubernetes minor version such as 1.33"), "1.33",
            "Kubernetes version of the cluster; rendered objects are validated against its schema."),
    Setting("kubernetesNamespace", Text(DNS_LABEL, "a DNS label (lowercase letters, digits, '-')",
                                         forbidden=("default",), allow_empty=True),
            "", "Kubernetes namespace the stack creates and deploys into. Empty: geostack-<stack name>, so "
            "several stacks can share a cluster; another stack's namespace is refused at `pulumi up`."),
    Setting("kubernetesNamespaceExists", Boolean(), False,
            "Kubernetes: the namespace geostack:kubernetesNamespace names exists already, made and owned by "
            "someone else. The stack deploys into it without creating, labelling or deleting it, and its "
            "default-deny NetworkPolicy covers only the stack's own pods. `pulumi up` stops if it is missing."),
    Setting("kubernetesWaitImage", Text(_IMAGE_REF, "a pinned image reference with nc, such as busybox:1.36.1",
                                         forbidden_suffixes=(":latest",), require_tag=True),
            "busybox:1.36.1", "Kubernetes: image of the init containers that wait for a dependency's port."),
    Setting("kubernetesServiceMonitor", Boolean(), False,
            "Kubernetes: a Prometheus Operator ServiceMonitor (and a ClusterIP metrics Service) for each nginx; "
            "the cluster must have the operator's CRDs. Without it, pods carry prometheus.io/* scrape annotations."),
    Setting("kubernetesImagePlatform", Choice(IMAGE_PLATFORMS), "linux/amd64",
            "microk8s and EKS: platform geostack's images are built for, the nodes' and not the building "
            "machine's (an arm64 laptop would push images amd64 nodes cannot run). Docker builds for its engine."),
    Setting("microk8sKubeconfig", Text(r".*", "a file path", allow_empty=True), "",
            "microk8s: kubeconfig file (e.g. the output of `microk8s config`); empty uses $KUBECONFIG or ~/.kube/config."),
    Setting("microk8sContext", Text(r".*", "a kubeconfig context name", allow_empty=True), "microk8s",
            "microk8s: kubeconfig context to use; empty uses the file's current context."),
    Setting("microk8sRegistry", Text(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", "a registry host[:port]"), "localhost:32000",
            "microk8s: registry the QGIS image is pushed to and pulled from."),
    Setting("microk8sHost", Text(r"[A-Za-z0-9.:-]+", "a host name or address"), "localhost",
            "microk8s: host name of the node, used in the service URL output."),
    Setting("microk8sNodePort", Integer(30000, 32767), 30080, "microk8s: NodePort that exposes nginx."),
    Setting("microk8sStorageClass", Text(DNS_LABEL, "a storage class name"), "microk8s-hostpath",
            "microk8s: storage class of every claim (the hostpath addon also serves ReadWriteMany on one node)."),
    Setting("eksClusterName", Text(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", "an EKS cluster name", allow_empty=True), "",
            "EKS: name of the existing cluster to deploy into (required when target is eks)."),
    Setting("eksRegion", Text(r"[a-z]{2}(-[a-z]+)+-[0-9]", "an AWS region such as eu-west-1", allow_empty=True), "",
            "EKS: AWS region of the cluster and ECR repository, for the provider and `aws eks get-token`; "
            "empty uses the stack's aws:region (one of them is required; the machine's AWS_REGION is never used)."),
    Setting("eksEcrKeepImages", Integer(1, 1000), 10, "EKS: images the ECR lifecycle policy keeps."),
    Setting("eksStorageClass", Text(DNS_LABEL, "a storage class name", allow_empty=True), "",
            "EKS: storage class of single-writer claims (EBS); empty uses the cluster default."),
    Setting("eksSharedStorageClass", Text(DNS_LABEL, "a storage class name", allow_empty=True), "",
            "EKS: ReadWriteMany storage class (EFS, via the EFS CSI driver) for volumes GeoNode's services share."),
    Setting("geonodeEnabled", Boolean(), False,
            "Deploy GeoNode (nginx, Django, Celery, GeoServer, PostGIS, Redis) beside or instead of QGIS."),
    Setting("geonodeSiteHost", Text(_HOST, "a host name such as maps.example.org"),
            "localhost", "GeoNode: public host name (SITEURL, ALLOWED_HOSTS, the Ingress host)."),
    Setting("geonodeHostPort", Integer(1, 65535), 8000, "GeoNode on Docker: host port published for its nginx."),
    Setting("geonodeUploadSize", Text(r"[1-9][0-9]*[kmg]?", "an nginx size such as 100m or 2g"), "100m",
            "GeoNode: largest upload; sets nginx client_max_body_size, the Ingress body-size annotation "
            "and Django's DEFAULT_MAX_UPLOAD_SIZE."),
    Setting("geonodeOpenSignup", Boolean(), False,
            "GeoNode: let anyone create an account (GeoNode's own default is open; geostack's is closed)."),
    Setting("geonodeAdminEmail", Text(r"[^@\s]+@[^@\s]+", "an e-mail address"), "admin@localhost",
            "GeoNode: e-mail of the `admin` user."),
    Setting("geonodeEmailHost", Text(_HOST, "an SMTP server host name such as smtp.example.org",
                                     allow_empty=True), "",
            "GeoNode: SMTP server it sends mail through (sign-up, password resets, notifications). "
            "Empty: no mail; Django's console backend writes each message to the log instead."),
    Setting("geonodeEmailPort", Integer(1, 65535), 587,
            "GeoNode: port of the SMTP server (587: submission with STARTTLS)."),
    Setting("geonodeEmailUser", Text(r"\S+", "an SMTP user name (no spaces)", allow_empty=True), "",
            "GeoNode: user it logs in to the SMTP server as, with geonodeEmailPassword; empty: no login."),
    Setting("geonodeEmailTls", Boolean(), True, "GeoNode: STARTTLS to the SMTP server (DJANGO_EMAIL_USE_TLS)."),
    Setting("geonodeEmailFrom", Text(_SENDER, "an address, optionally with a name: Maps <maps@example.org>",
                                     allow_empty=True), "",
            "GeoNode: sender of its mail (DEFAULT_FROM_EMAIL). Empty: `GeoNode <no-reply@<geonodeSiteHost>>`."),
    Setting("geonodeTlsSecret", Text(DNS_LABEL, "a Secret name (DNS label)", allow_empty=True), "",
            "GeoNode on Kubernetes: existing TLS Secret for the Ingress host."),
    Setting("geonodeCertIssuer", Text(DNS_LABEL, "a cert-manager ClusterIssuer name", allow_empty=True), "",
            "GeoNode on Kubernetes: cert-manager ClusterIssuer that issues the Ingress certificate."),
    Setting("geonodeIngressClass", Text(DNS_LABEL, "an IngressClass name", allow_empty=True), "",
            "GeoNode on Kubernetes: IngressClass; empty uses `public` on microk8s and `nginx` on EKS."),
    Setting("geonodeDjangoReplicas", Integer(1, 20), 1, "GeoNode: Django (uwsgi) replicas."),
    Setting("geonodeInitTimeoutMinutes", Integer(1, 1440), 30,
            "GeoNode: how long a rollout waits for the init task (migrations, collectstatic) and for Django to "
            "become ready before it fails (Kubernetes; on Docker, Django's healthcheck)."),
    Setting("geonodeImage", _by_digest("registry/geostack/geonode"),
            "", "GeoNode: a prebuilt geostack GeoNode image (one your CI built from docker/geonode and pushed) for "
                "Django, Celery and the init task; nothing is built. Empty: build docker/geonode (geonodeRelease) "
                "and publish it to the target."),
    Setting("geonodeRelease", Choice(tuple(GEONODE_RELEASES)), GEONODE_DEFAULT_RELEASE,
            "GeoNode: the release geostack's image is built from: " + ", ".join(
                f"{release} (GeoNode {version})" for release, version in GEONODE_RELEASES.items())
            + ". Moving a stack to a newer one migrates its databases on the next `up` "
              "(docs/operations.md: Upgrading GeoNode)."),
    Setting("geonodeDjangoImage", Text(_IMAGE_REF, _PINNED, forbidden_suffixes=(":latest",), require_tag=True,
                                       allow_empty=True),
            "", "GeoNode: run this upstream image (such as geonode/geonode:5.1.1, which runs as root with a "
                "writable root filesystem) for Django, Celery and the init task instead of geostack's."),
    Setting("geonodeExtraSettings", PythonCode(), "",
            "GeoNode with geostack's image: Python statements run after GeoNode's Django settings, such as "
            "`TIME_ZONE = 'Europe/Rome'` (plain config, visible in the pod spec: never a credential)."),
    Setting("geonodeGeoserverImage", Text(_IMAGE_REF, _PINNED, forbidden_suffixes=(":latest",), require_tag=True),
            "geonode/geoserver:2.28.4-latest", "GeoNode: GeoServer image (GeoNode 5.1's, from geonode-project's .env)."),
    Setting("geonodeGeoserverDataImage", Text(_IMAGE_REF, _PINNED, forbidden_suffixes=(":latest",),
                                               require_tag=True),
            "geonode/geoserver_data:2.28.4-latest", "GeoNode: image holding GeoServer's initial data directory (GeoNode "
            "5.1's)."),
    Setting("geonodeNginxImage", Text(_IMAGE_REF, _PINNED, forbidden_suffixes=(":latest",), require_tag=True),
            "geonode/nginx:1.26.3-v1", "GeoNode: nginx image (runs the config geostack renders)."),
    Setting("geonodePostgisImage", Text(_IMAGE_REF, _PINNED, forbidden_suffixes=(":latest",), require_tag=True),
            "geonode/postgis:15-3.5-v1", "GeoNode: PostGIS image (creates the geonode and geonode_data databases)."),
    Setting("geonodeRedisImage", Text(_IMAGE_REF, _PINNED, forbidden_suffixes=(":latest",), require_tag=True),
            "redis:7.4.11-alpine", "GeoNode: Redis image (Celery's broker)."),
    Setting("geonodeImageRefresh", Text(r"[A-Za-z0-9_.:-]{1,64}", "a word such as 2026-12-06", allow_empty=True), "",
            "GeoNode: the upstream images above, and geonodeDjangoImage, given by tag (not by digest) run the digest "
            "their tag named at the first `up`, held in the stack's state, so an upstream push changes nothing "
            "by itself. Change this value (today's date, say) to look every tag up again on the next `up`."),
    Setting("geonodeDatabaseHost", Text(_HOST, "a host name such as geonode.abc123.eu-west-1.rds.amazonaws.com",
                                        allow_empty=True), "",
            "GeoNode: an existing PostgreSQL server (such as RDS) with the geonode and geonode_data databases, used "
            "instead of PostGIS beside GeoNode; needs geonodeDatabasePassword and geonodeGeodatabasePassword. "
            "Empty: run PostGIS."),
    Setting("geonodeDatabasePort", Integer(1, 65535), 5432, "GeoNode with geonodeDatabaseHost: that server's port."),
    Setting("geonodeDatabaseMaxConnections", Integer(20, 100000), 200,
            "GeoNode: PostgreSQL's max_connections. geostack's PostGIS starts with it; with geonodeDatabaseHost, "
            "give the existing server's value. A stack whose Django, Celery, GeoServer, backup and QGIS workers "
            "could together open more (counted at their most, a rollout's extra Django pod included) is refused "
            "before anything is deployed (docs/geonode-operations.md#database-connections)."),
    Setting("geonodeDatabaseSslMode", Choice(SSL_MODES), "prefer",
            "GeoNode with geonodeDatabaseHost: libpq sslmode of Django's and Celery's connections to it."),
    Setting("geonodeDatabaseSize", Quantity("storage"), "10Gi", "GeoNode: PostGIS volume size."),
    Setting("geonodeGeoserverDataSize", Quantity("storage"), "10Gi", "GeoNode: GeoServer data directory volume size."),
    Setting("geonodeStaticsSize", Quantity("storage"), "10Gi",
            "GeoNode: volume for static files and uploaded documents (/mnt/volumes/statics)."),
    Setting("geonodeDataSize", Quantity("storage"), "20Gi", "GeoNode: volume for uploaded layer data (/data)."),
    Setting("geonodeRedisSize", Quantity("storage"), "1Gi", "GeoNode: Redis volume size (its append-only file)."),
    Setting("geonodeBackupTime", Text(r"([01][0-9]|2[0-3]):[0-5][0-9]", "a time of day HH:MM (UTC), such as 02:30",
                                      allow_empty=True), "02:00",
            "GeoNode: daily backup of both databases and GeoServer's data dir, at this UTC time (a CronJob on "
            "Kubernetes, a sleeping container on Docker); empty turns backups off."),
    Setting("geonodeBackupKeep", Integer(1, 365), 7, "GeoNode: the newest daily backups kept; older ones are deleted."),
    Setting("geonodeBackupSize", Quantity("storage"), "20Gi", "GeoNode: backup volume size."),
    Setting("geonodeBackupImage", _by_digest("registry/geostack/backup"),
            "", "GeoNode: a prebuilt geostack backup image (one your CI built from docker/backup and pushed); "
                "nothing is built. Empty: build docker/backup and publish it to the target."),
    Setting("geonodeBackupBucket", Text(_BUCKET, "an S3 bucket name, optionally with a key prefix, such as "
                                                 "my-backups or my-backups/geonode/prod", allow_empty=True), "",
            "GeoNode: an S3 bucket each backup is also uploaded to, off the cluster or engine "
            "(docs/geonode-operations.md#backups-in-a-bucket). Empty: backups stay on the backup volume only."),
    Setting("geonodeBackupBucketEndpoint", Text(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?",
                                                "an http(s) URL such as https://minio.example.org:9000",
                                                allow_empty=True), "",
            "GeoNode with geonodeBackupBucket: an S3-compatible server (MinIO, Ceph, ...). Empty: AWS S3."),
    Setting("geonodeBackupBucketRegion", Text(r"[a-z]{2}(-[a-z]+)+-[0-9]", "an AWS region such as eu-west-1",
                                              allow_empty=True), "",
            "GeoNode with geonodeBackupBucket: the bucket's region. Empty: eksRegion on eks, else us-east-1."),
    Setting("geonodeBackupBucketKeep", Integer(1, 3650), 30,
            "GeoNode with geonodeBackupBucket: the newest backups kept in the bucket; older ones are deleted."),
    Setting("geonodeBackupBucketAccessKeyId", Text(r"[A-Za-z0-9]{3,128}", "an access key ID such as AKIA...",
                                                   allow_empty=True), "",
            "GeoNode with geonodeBackupBucket: the access key the backup signs in with, with "
            "geonodeBackupBucketSecretAccessKey. On eks, leave both empty to use geonodeBackupBucketRoleArn or "
            "the nodes' role."),
    Setting("geonodeBackupBucketSecretAccessKey", Secret(generated=False), None,
            "GeoNode with geonodeBackupBucket: the secret of geonodeBackupBucketAccessKeyId."),
    Setting("geonodeBackupBucketRoleArn", Text(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}",
                                               "an IAM role ARN such as arn:aws:iam::123456789012:role/geonode-backup",
                                               allow_empty=True), "",
            "GeoNode on eks with geonodeBackupBucket: an IAM role the backup's pods take through their "
            "ServiceAccount (IRSA); no keys are stored."),
    *(Setting(f"geonode{service.title()}Resources", ResourceSpec(), default,
              f"GeoNode on Kubernetes: {label} requests and limits (cpu/memory/cpu/memory).")
      for service, label, default in (
          ("database", "PostGIS", "250m/512Mi/2/2Gi"),
          ("broker", "Redis", "100m/256Mi/1/1Gi"),
          ("geoserver", "GeoServer (its Java heap is 70% of the memory limit)", "500m/2Gi/2/3Gi"),
          ("django", "Django and its init job", "250m/1Gi/2/2Gi"),
          ("celery", "each Celery worker (the harvester too; beat requests 50m/256Mi within these limits)",
           "250m/1Gi/2/2Gi"),
          ("nginx", "GeoNode's nginx", "50m/64Mi/500m/256Mi"),
      )),
    Setting("geonodeSecretKey", Secret(), None, "GeoNode: Django SECRET_KEY."),
    Setting("geonodeAdminPassword", Secret(), None, "GeoNode: password of the `admin` user (set on first start)."),
    Setting("geonodeGeoserverAdminPassword", Secret(), None, "GeoNode: GeoServer `admin` password."),
    Setting("geonodePostgresPassword", Secret(), None, "GeoNode: PostgreSQL superuser password."),
    Setting("geonodeDatabasePassword", Secret(), None, "GeoNode: password of the `geonode` database user."),
    Setting("geonodeGeodatabasePassword", Secret(), None, "GeoNode: password of the `geonode_data` database user."),
    Setting("geonodeBrokerPassword", Secret(), None, "GeoNode: password of the message broker user."),
    Setting("geonodeOauthClientId", Secret(), None,
            "GeoNode: client ID of the OAuth2 application GeoServer signs users in with."),
    Setting("geonodeOauthClientSecret", Secret(), None, "GeoNode: client secret of that OAuth2 application."),
    Setting("geonodeApiKey", Secret(), None,
            "GeoNode: key for its admin API (/api/users, /api/roles), sent as `Authorization: apikey <key>`."),
    Setting("geonodeEmailPassword", Secret(generated=False), None,
            "GeoNode: password of geonodeEmailUser on the SMTP server; only for servers that want a login."),
)
