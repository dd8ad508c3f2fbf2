"""Stack configuration: every `geostack:*` key, validated once, as frozen dataclasses.

This is the only module that reads `pulumi.Config`. `load_settings()` checks every
key (type, range, allowed values, cross-key rules) before the program declares a
single resource, and raises one `ConfigError` that lists each mistake on its own
line, naming the key, the value and what is allowed.

The key table (`SETTINGS`) is the single source of truth for names, types,
defaults and descriptions: tests hold `Pulumi.yaml` and the README's config
reference to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import pulumi

from components.settings_types import (
    Boolean,
    Choice,
    Integer,
    Quantity,
    Setting,
    Text,
    parse_quantity,
)
from components.workload import Resources

NAMESPACE = "geostack"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("docker", "microk8s", "eks")
KUBERNETES_TARGETS = ("microk8s", "eks")

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_IMAGE_REF = r"[a-z0-9][a-z0-9._/:-]*[a-z0-9]"

SETTINGS: tuple[Setting, ...] = (
    Setting("target", Choice(TARGETS), "docker",
            "Where to deploy: local Docker engine, microk8s, or EKS with images in ECR."),
    Setting("production", Boolean(), False,
            "Marks a production stack: stateful resources are protected from `pulumi destroy`."),
    Setting("qgis.imageRepository", Text(_IMAGE_REF, "an image repository name such as geostack/qgis-server"),
            "geostack/qgis-server",
            "Repository name of the QGIS Server image (prefixed by the registry on microk8s; the ECR repository name on EKS)."),
    Setting("qgis.imageTag", Text(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "a Docker tag other than 'latest'",
                                  forbidden=("latest",)),
            "",
            "Tag of the QGIS Server image. Empty: a digest of the build context, so every change gets a new tag."),
    Setting("qgis.fcgiPort", Integer(1, 65535), 5555, "TCP port the QGIS FastCGI server listens on."),
    Setting("qgis.processes", Integer(0, 64), 0,
            "FastCGI worker processes per container; 0 picks one per CPU the container may use."),
    Setting("qgis.replicas", Integer(1, 100), 1, "QGIS Server containers (Docker) or pods (Kubernetes)."),
    Setting("qgis.logLevel", Integer(0, 2), 1, "QGIS_SERVER_LOG_LEVEL: 0 info, 1 warning, 2 critical."),
    Setting("qgis.parallelRendering", Boolean(), False,
            "QGIS_SERVER_PARALLEL_RENDERING: render layers on threads (processes scale better)."),
    Setting("qgis.maxThreads", Integer(-1, 64, excluded=(0,)), -1,
            "QGIS_SERVER_MAX_THREADS for parallel rendering; -1 lets QGIS use every core."),
    Setting("qgis.maxCacheLayers", Integer(1, 100000), 100, "MAX_CACHE_LAYERS: layers QGIS keeps open between requests."),
    Setting("qgis.ignoreBadLayers", Boolean(), True,
            "QGIS_SERVER_IGNORE_BAD_LAYERS: serve a project even if one of its layers is broken."),
    Setting("qgis.trustLayerMetadata", Boolean(), True,
            "QGIS_SERVER_TRUST_LAYER_METADATA: skip extent scans when loading projects (faster start)."),
    Setting("qgis.projectDir", Text(r".+", "a directory path"), "data",
            "Local directory with the QGIS project and its data (relative paths are relative to the project root)."),
    Setting("qgis.projectFile", Text(r"[^/].*", "a relative path such as sample.qgs"), "sample.qgs",
            "The .qgs/.qgz file to serve, relative to the project directory (or to the claim's root)."),
    Setting("qgis.dataClaim", Text(_DNS_LABEL, "a PersistentVolumeClaim name (DNS label)", allow_empty=True), "",
            "Kubernetes only: serve project data from this existing PersistentVolumeClaim instead of a ConfigMap."),
    Setting("qgis.cpuRequest", Quantity("cpu"), "500m", "CPU request per QGIS pod (Kubernetes)."),
    Setting("qgis.cpuLimit", Quantity("cpu"), "2", "CPU limit per QGIS pod (Kubernetes)."),
    Setting("qgis.memoryRequest", Quantity("memory"), "512Mi", "Memory request per QGIS pod (Kubernetes)."),
    Setting("qgis.memoryLimit", Quantity("memory"), "2Gi", "Memory limit per QGIS pod (Kubernetes)."),
    Setting("nginx.image", Text(_IMAGE_REF, "a pinned image reference such as nginx:1.28.0-bookworm",
                                forbidden_suffixes=(":latest",), require_tag=True),
            "nginx:1.28.0-bookworm", "Image of the nginx proxy in front of QGIS Server."),
    Setting("nginx.path", Text(r"/[A-Za-z0-9_./-]*[A-Za-z0-9_-]", "a URL path such as /qgis-server"), "/qgis-server",
            "URL path under which nginx serves QGIS Server."),
    Setting("nginx.port", Integer(1024, 65535), 8080,
            "Port nginx listens on inside its container (unprivileged, so above 1023)."),
    Setting("nginx.replicas", Integer(1, 100), 1, "nginx proxy pods (Kubernetes); Docker runs exactly one."),
    Setting("nginx.cpuRequest", Quantity("cpu"), "50m", "CPU request per nginx pod (Kubernetes)."),
    Setting("nginx.cpuLimit", Quantity("cpu"), "500m", "CPU limit per nginx pod (Kubernetes)."),
    Setting("nginx.memoryRequest", Quantity("memory"), "64Mi", "Memory request per nginx pod (Kubernetes)."),
    Setting("nginx.memoryLimit", Quantity("memory"), "256Mi", "Memory limit per nginx pod (Kubernetes)."),
    Setting("docker.hostPort", Integer(1, 65535), 8080, "Docker: host port published for nginx."),
    Setting("docker.bindAddress", Text(r"[0-9a-fA-F.:]+", "an IP address such as 127.0.0.1 or 0.0.0.0"),
            "127.0.0.1", "Docker: host address the nginx port is published on (0.0.0.0 for every interface)."),
    Setting("kubernetes.namespace", Text(_DNS_LABEL, "a DNS label (lowercase letters, digits, '-')",
                                         forbidden=("default",)),
            "geostack", "Kubernetes namespace the stack creates and deploys into."),
    Setting("kubernetes.waitImage", Text(_IMAGE_REF, "a pinned image reference with nc, such as busybox:1.36.1",
                                         forbidden_suffixes=(":latest",), require_tag=True),
            "busybox:1.36.1", "Kubernetes: image of the init containers that wait for a dependency's port."),
    Setting("microk8s.kubeconfig", Text(r".*", "a file path", allow_empty=True), "",
            "microk8s: kubeconfig file (e.g. the output of `microk8s config`); empty uses $KUBECONFIG or ~/.kube/config."),
    Setting("microk8s.context", Text(r".*", "a kubeconfig context name", allow_empty=True), "microk8s",
            "microk8s: kubeconfig context to use; empty uses the file's current context."),
    Setting("microk8s.registry", Text(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", "a registry host[:port]"), "localhost:32000",
            "microk8s: registry the QGIS image is pushed to and pulled from."),
    Setting("microk8s.host", Text(r"[A-Za-z0-9.:-]+", "a host name or address"), "localhost",
            "microk8s: host name of the node, used in the service URL output."),
    Setting("microk8s.nodePort", Integer(30000, 32767), 30080, "microk8s: NodePort that exposes nginx."),
    Setting("microk8s.storageClass", Text(_DNS_LABEL, "a storage class name"), "microk8s-hostpath",
            "microk8s: storage class of every claim (the hostpath addon also serves ReadWriteMany on one node)."),
    Setting("eks.clusterName", Text(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", "an EKS cluster name", allow_empty=True), "",
            "EKS: name of the existing cluster to deploy into (required when target is eks)."),
    Setting("eks.region", Text(r"[a-z]{2}(-[a-z]+)+-[0-9]", "an AWS region such as eu-west-1", allow_empty=True), "",
            "EKS: AWS region of the cluster and ECR repository; empty uses aws:region."),
    Setting("eks.ecrKeepImages", Integer(1, 1000), 10, "EKS: images the ECR lifecycle policy keeps."),
    Setting("eks.storageClass", Text(_DNS_LABEL, "a storage class name", allow_empty=True), "",
            "EKS: storage class of single-writer claims (EBS); empty uses the cluster default."),
    Setting("eks.sharedStorageClass", Text(_DNS_LABEL, "a storage class name", allow_empty=True), "",
            "EKS: ReadWriteMany storage class (EFS, via the EFS CSI driver) for volumes GeoNode's services share."),
)

# etcd caps an object at 1 MiB; leave room for the ConfigMap's own metadata.
CONFIGMAP_BUDGET_BYTES = 1000 * 1000

_SETTINGS_BY_KEY = {setting.key: setting for setting in SETTINGS}


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; Pulumi prints the message without a traceback."""


@dataclass(frozen=True)
class QgisSettings:
    """The QGIS Server image and its FastCGI workload."""

    image_repository: str
    image_tag: str  # empty: derived from the build context
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
    project_file: str
    data_claim: str  # empty: project_dir travels with the deployment
    resources: Resources


@dataclass(frozen=True)
class NginxSettings:
    """The nginx proxy in front of QGIS Server."""

    image: str
    path: str
    port: int
    replicas: int
    resources: Resources


@dataclass(frozen=True)
class DockerSettings:
    host_port: int
    bind_address: str


@dataclass(frozen=True)
class Microk8sSettings:
    kubeconfig: str
    context: str
    registry: str
    host: str
    node_port: int
    storage_class: str


@dataclass(frozen=True)
class EksSettings:
    cluster_name: str
    region: str
    ecr_keep_images: int
    storage_class: str
    shared_storage_class: str


@dataclass(frozen=True)
class StackSettings:
    """Everything the program needs, validated."""

    project: str
    stack: str
    target: str
    production: bool
    namespace: str
    wait_image: str
    qgis: QgisSettings
    nginx: NginxSettings
    docker: DockerSettings
    microk8s: Microk8sSettings
    eks: EksSettings

    @property
    def is_kubernetes(self) -> bool:
        return self.target in KUBERNETES_TARGETS


def configured_keys() -> set[str]:
    """Names of every `geostack:` key the stack sets, including ones we don't know."""
    # pulumi.Config can only look keys up; the runtime's config map lists them.
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{NAMESPACE}:"
    return {key[len(prefix):] for key in keys if key.startswith(prefix)}


def _read_raw(getter: Callable[[str], Any]) -> dict[str, Any]:
    return {setting.key: getter(setting.key) for setting in SETTINGS}


def _closest(key: str) -> str:
    import difflib

    match = difflib.get_close_matches(key, _SETTINGS_BY_KEY, n=1)
    return f" (did you mean geostack:{match[0]}?)" if match else ""


def parse_values(raw: Mapping[str, Any], unknown: set[str] = frozenset()) -> tuple[dict[str, Any], list[str]]:
    """Parse raw config strings into typed values; returns (values, error lines)."""
    errors = [f"geostack:{key} is not a geostack setting{_closest(key)}" for key in sorted(unknown)]
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        text = raw.get(setting.key)
        if text is None:
            values[setting.key] = setting.default
            continue
        try:
            values[setting.key] = setting.kind.parse(text)
        except ValueError:
            errors.append(f"geostack:{setting.key} must be {setting.kind.allowed}, got {text!r}")
    return values, errors


def _resolve_dir(path_text: str) -> Path:
    path = Path(path_text).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def configmap_size(directory: Path) -> int:
    """Bytes a directory takes in a ConfigMap (binary files travel base64-encoded)."""
    total = 0
    for path in shipped_files(directory):
        raw = path.read_bytes()
        try:
            raw.decode("utf-8")
            total += len(raw)
        except UnicodeDecodeError:
            total += (len(raw) + 2) // 3 * 4
    return total


def shipped_files(directory: Path) -> list[Path]:
    """Files of a project directory that travel with the deployment.

    Hidden files and editor/QGIS backups (`*~`) stay behind.
    """
    return sorted(
        path for path in directory.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
        and not path.name.endswith("~")
    )


def _cross_checks(v: Mapping[str, Any]) -> list[str]:
    """Rules that involve more than one key, or the file system."""
    errors = []
    target = v["target"]
    if not v["qgis.dataClaim"]:
        project_dir = _resolve_dir(v["qgis.projectDir"])
        if not project_dir.is_dir():
            errors.append(f"geostack:qgis.projectDir must be an existing directory, got {v['qgis.projectDir']!r}")
        elif not (project_dir / v["qgis.projectFile"]).is_file():
            errors.append(f"geostack:qgis.projectFile must name a file inside {project_dir}, "
                          f"got {v['qgis.projectFile']!r}")
        elif target in KUBERNETES_TARGETS and configmap_size(project_dir) > CONFIGMAP_BUDGET_BYTES:
            errors.append(f"geostack:qgis.projectDir holds {configmap_size(project_dir)} bytes, more than a "
                          f"ConfigMap carries ({CONFIGMAP_BUDGET_BYTES}); put the data on a volume and set "
                          f"geostack:qgis.dataClaim, got {v['qgis.projectDir']!r}")
    elif target == "docker":
        errors.append(f"geostack:qgis.dataClaim is for Kubernetes targets only; on docker leave it empty "
                      f"and set geostack:qgis.projectDir, got {v['qgis.dataClaim']!r}")
    if target == "docker" and v["nginx.replicas"] != 1:
        errors.append(f"geostack:nginx.replicas must be 1 on the docker target (one published port), "
                      f"got {v['nginx.replicas']!r}")
    if target == "eks" and not v["eks.clusterName"]:
        errors.append("geostack:eks.clusterName must be set when geostack:target is eks, got ''")
    for workload in ("qgis", "nginx"):
        for resource in ("cpu", "memory"):
            request, limit = v[f"{workload}.{resource}Request"], v[f"{workload}.{resource}Limit"]
            if parse_quantity(limit, resource) < parse_quantity(request, resource):
                errors.append(f"geostack:{workload}.{resource}Limit must be at least "
                              f"geostack:{workload}.{resource}Request ({request}), got {limit!r}")
    return errors


def _resources(v: Mapping[str, Any], workload: str) -> Resources:
    return Resources(
        cpu_request=v[f"{workload}.cpuRequest"],
        cpu_limit=v[f"{workload}.cpuLimit"],
        memory_request=v[f"{workload}.memoryRequest"],
        memory_limit=v[f"{workload}.memoryLimit"],
    )


def build_settings(v: Mapping[str, Any], project: str, stack: str) -> StackSettings:
    """Assemble validated values into the typed settings tree."""
    return StackSettings(
        project=project,
        stack=stack,
        target=v["target"],
        production=v["production"],
        namespace=v["kubernetes.namespace"],
        wait_image=v["kubernetes.waitImage"],
        qgis=QgisSettings(
            image_repository=v["qgis.imageRepository"],
            image_tag=v["qgis.imageTag"],
            fcgi_port=v["qgis.fcgiPort"],
            processes=v["qgis.processes"],
            replicas=v["qgis.replicas"],
            log_level=v["qgis.logLevel"],
            parallel_rendering=v["qgis.parallelRendering"],
            max_threads=v["qgis.maxThreads"],
            max_cache_layers=v["qgis.maxCacheLayers"],
            ignore_bad_layers=v["qgis.ignoreBadLayers"],
            trust_layer_metadata=v["qgis.trustLayerMetadata"],
            project_dir=_resolve_dir(v["qgis.projectDir"]),
            project_file=v["qgis.projectFile"],
            data_claim=v["qgis.dataClaim"],
            resources=_resources(v, "qgis"),
        ),
        nginx=NginxSettings(
            image=v["nginx.image"],
            path=v["nginx.path"],
            port=v["nginx.port"],
            replicas=v["nginx.replicas"],
            resources=_resources(v, "nginx"),
        ),
        docker=DockerSettings(host_port=v["docker.hostPort"], bind_address=v["docker.bindAddress"]),
        microk8s=Microk8sSettings(
            kubeconfig=v["microk8s.kubeconfig"],
            context=v["microk8s.context"],
            registry=v["microk8s.registry"],
            host=v["microk8s.host"],
            node_port=v["microk8s.nodePort"],
            storage_class=v["microk8s.storageClass"],
        ),
        eks=EksSettings(
            cluster_name=v["eks.clusterName"],
            region=v["eks.region"],
            ecr_keep_images=v["eks.ecrKeepImages"],
            storage_class=v["eks.storageClass"],
            shared_storage_class=v["eks.sharedStorageClass"],
        ),
    )


def load_settings() -> StackSettings:
    """Read and validate the stack's `geostack:*` config; raise ConfigError listing every mistake."""
    config = pulumi.Config(NAMESPACE)
    raw = _read_raw(config.get)
    unknown = configured_keys() - set(_SETTINGS_BY_KEY)
    values, errors = parse_values(raw, unknown)
    if not errors:
        errors = _cross_checks(values)
    if errors:
        raise ConfigError("\n".join(errors))
    return build_settings(values, pulumi.get_project(), pulumi.get_stack())
