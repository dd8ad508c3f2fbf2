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

import math
from pathlib import Path
from typing import Any, Mapping

import pulumi

from components.config_keys import SETTINGS
from components.settings_types import parse_quantity
from components.settings import (
    KUBERNETES_TARGETS,
    DockerSettings,
    EksSettings,
    GeoNodeImages,
    GeoNodeResources,
    GeoNodeSecrets,
    GeoNodeSettings,
    GeoNodeVolumeSizes,
    Microk8sSettings,
    NginxSettings,
    QgisSettings,
    Scaling,
    StackSettings,
)
from components.workload import Resources

NAMESPACE = "geostack"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# etcd caps an object at 1 MiB; leave room for the ConfigMap's own metadata.
CONFIGMAP_BUDGET_BYTES = 1000 * 1000

_SETTINGS_BY_KEY = {setting.key: setting for setting in SETTINGS}


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; Pulumi prints the message without a traceback."""


def configured_keys() -> set[str]:
    """Names of every `geostack:` key the stack sets, including ones we don't know."""
    # pulumi.Config can only look keys up; the runtime's config map lists them.
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{NAMESPACE}:"
    return {key[len(prefix):] for key in keys if key.startswith(prefix)}


def _read_raw(config: pulumi.Config) -> dict[str, Any]:
    """Raw values; credentials are read as secrets so they never exist as plain strings."""
    return {setting.key: (config.get_secret if setting.secret else config.get)(setting.key)
            for setting in SETTINGS}


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
            # Defaults go through the same parser, so the key table cannot hold a bad one.
            values[setting.key] = setting.default if setting.secret else setting.kind.parse(setting.default)
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


def qgis_processes(v: Mapping[str, Any]) -> int:
    """Workers per QGIS container: as configured, or one per CPU of its limit (what cmd.sh picks)."""
    return v["qgis.processes"] or max(1, math.ceil(parse_quantity(v["qgis.cpuLimit"], "cpu")))


def resolve_automatic(v: Mapping[str, Any]) -> dict[str, Any]:
    """Fill the keys left empty to be computed: QGIS memory scales with its worker count."""
    resolved = dict(v)
    per_process = parse_quantity(v["qgis.memoryPerProcess"], "memory")
    if not resolved["qgis.memoryRequest"]:
        resolved["qgis.memoryRequest"] = f"{int(per_process * qgis_processes(v) // 2**20)}Mi"
    if not resolved["qgis.memoryLimit"]:
        request = parse_quantity(resolved["qgis.memoryRequest"], "memory")
        resolved["qgis.memoryLimit"] = f"{int(request * 2 // 2**20)}Mi"
    return resolved


def _cross_checks(v: Mapping[str, Any]) -> list[str]:
    """Rules that involve more than one key, or the file system."""
    errors = []
    target = v["target"]
    if not v["qgis.enabled"]:
        pass  # the QGIS project is neither shipped nor served
    elif not v["qgis.dataClaim"]:
        project_dir = _resolve_dir(v["qgis.projectDir"])
        if not project_dir.is_dir():
            errors.append(f"geostack:qgis.projectDir must be an existing directory, got {v['qgis.projectDir']!r}")
        elif not (project_dir / v["qgis.projectFile"]).is_file():
            errors.append(f"geostack:qgis.projectFile must name a file inside {project_dir}, "
                          f"got {v['qgis.projectFile']!r}")
        elif target in KUBERNETES_TARGETS and (size := configmap_size(project_dir)) > CONFIGMAP_BUDGET_BYTES:
            errors.append(f"geostack:qgis.projectDir holds {size} bytes, more than a "
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
    errors += _geonode_checks(v)
    if v["target"] in KUBERNETES_TARGETS:
        errors += _scaling_checks(v, "qgis") + _scaling_checks(v, "nginx")
    for workload in ("qgis", "nginx"):
        for resource in ("cpu", "memory"):
            request, limit = v[f"{workload}.{resource}Request"], v[f"{workload}.{resource}Limit"]
            if parse_quantity(limit, resource) < parse_quantity(request, resource):
                errors.append(f"geostack:{workload}.{resource}Limit must be at least "
                              f"geostack:{workload}.{resource}Request ({request}), got {limit!r}")
    return errors


def _geonode_checks(v: Mapping[str, Any]) -> list[str]:
    errors = []
    if not v["qgis.enabled"] and not v["geonode.enabled"]:
        errors.append("geostack:qgis.enabled must be true when geostack:geonode.enabled is false "
                      "(the stack would deploy nothing), got False")
    if not v["geonode.enabled"]:
        return errors
    if v["geonode.tlsSecret"] and v["geonode.certIssuer"]:
        errors.append("geostack:geonode.certIssuer must be empty when geostack:geonode.tlsSecret is set "
                      f"(one source of TLS), got {v['geonode.certIssuer']!r}")
    if v["target"] == "eks" and not v["eks.sharedStorageClass"]:
        errors.append("geostack:eks.sharedStorageClass must name a ReadWriteMany (EFS) storage class when "
                      "GeoNode runs on eks, got ''")
    if v["target"] == "docker" and v["qgis.enabled"] and v["geonode.hostPort"] == v["docker.hostPort"]:
        errors.append(f"geostack:geonode.hostPort must differ from geostack:docker.hostPort "
                      f"({v['docker.hostPort']}), got {v['geonode.hostPort']}")
    return errors


def _geonode(v: Mapping[str, Any]) -> GeoNodeSettings:
    return GeoNodeSettings(
        enabled=v["geonode.enabled"],
        site_host=v["geonode.siteHost"],
        host_port=v["geonode.hostPort"],
        upload_size=v["geonode.uploadSize"],
        admin_email=v["geonode.adminEmail"],
        tls_secret=v["geonode.tlsSecret"],
        cert_issuer=v["geonode.certIssuer"],
        ingress_class=v["geonode.ingressClass"],
        django_replicas=v["geonode.djangoReplicas"],
        images=GeoNodeImages(
            django=v["geonode.djangoImage"],
            geoserver=v["geonode.geoserverImage"],
            geoserver_data=v["geonode.geoserverDataImage"],
            nginx=v["geonode.nginxImage"],
            postgis=v["geonode.postgisImage"],
            rabbitmq=v["geonode.rabbitmqImage"],
        ),
        sizes=GeoNodeVolumeSizes(
            database=v["geonode.databaseSize"],
            geoserver_data=v["geonode.geoserverDataSize"],
            statics=v["geonode.staticsSize"],
            data=v["geonode.dataSize"],
            rabbitmq=v["geonode.rabbitmqSize"],
        ),
        resources=GeoNodeResources(**{service: v[f"geonode.{service}Resources"] for service in (
            "database", "broker", "geoserver", "django", "celery", "nginx")}),
        secrets=GeoNodeSecrets(
            secret_key=v["geonode.secretKey"],
            admin_password=v["geonode.adminPassword"],
            geoserver_admin_password=v["geonode.geoserverAdminPassword"],
            postgres_password=v["geonode.postgresPassword"],
            database_password=v["geonode.databasePassword"],
            geodatabase_password=v["geonode.geodatabasePassword"],
        ),
    )


def _scaling_checks(v: Mapping[str, Any], workload: str) -> list[str]:
    errors = []
    low, high = v[f"{workload}.autoscaleMin"], v[f"{workload}.autoscaleMax"]
    if high and high < low:
        errors.append(f"geostack:{workload}.autoscaleMax must be at least geostack:{workload}.autoscaleMin "
                      f"({low}), got {high}")
    fewest = low if high else v[f"{workload}.replicas"]
    if fewest > 1 and v[f"{workload}.minAvailable"] >= fewest:
        source = f"geostack:{workload}.{'autoscaleMin' if high else 'replicas'}"
        errors.append(f"geostack:{workload}.minAvailable must be below {source} ({fewest}) so a node drain "
                      f"can always proceed, got {v[f'{workload}.minAvailable']}")
    return errors


def _scaling(v: Mapping[str, Any], workload: str) -> Scaling:
    return Scaling(
        min_available=v[f"{workload}.minAvailable"],
        autoscale_min=v[f"{workload}.autoscaleMin"],
        autoscale_max=v[f"{workload}.autoscaleMax"],
        autoscale_cpu_percent=v[f"{workload}.autoscaleCpuPercent"],
    )


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
        kubernetes_version=v["kubernetes.version"],
        qgis_enabled=v["qgis.enabled"],
        geonode=_geonode(v),
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
            scaling=_scaling(v, "qgis"),
        ),
        nginx=NginxSettings(
            image=v["nginx.image"],
            path=v["nginx.path"],
            port=v["nginx.port"],
            replicas=v["nginx.replicas"],
            resources=_resources(v, "nginx"),
            scaling=_scaling(v, "nginx"),
            cache=v["nginx.cache"],
            cache_size=v["nginx.cacheSize"],
            cache_validity=v["nginx.cacheValidity"],
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
    raw = _read_raw(config)
    unknown = configured_keys() - set(_SETTINGS_BY_KEY)
    values, errors = parse_values(raw, unknown)
    if not errors:
        values = resolve_automatic(values)
        errors = _cross_checks(values)
    if errors:
        raise ConfigError("\n".join(errors))
    return build_settings(values, pulumi.get_project(), pulumi.get_stack())
