"""Stack configuration: every `geostack:*` key, validated once, as frozen dataclasses.

This is the only module that reads `pulumi.Config`. `load_settings()` checks every
key (type, range, allowed values, cross-key rules) before the program declares a
single resource, and raises one `ConfigError` that lists each mistake on its own
line, naming the key, the value and what is allowed.

The key table (`SETTINGS`) is the single source of truth for names, types,
defaults and descriptions: tests hold `Pulumi.yaml` and docs/configuration.md's config
reference to it.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Mapping

import pulumi

from pulumi_geostack.config_keys import DNS_LABEL, GEONODE_DEFAULT_RELEASE, QGIS_RELEASES, SETTINGS
from pulumi_geostack.nginx_conf import STATUS_PORT
from pulumi_geostack.project_database import ProjectDatabase
from pulumi_geostack.qgis_projects import (PROJECT_SUFFIXES, QgisProject, find_projects, folder_digest,
                                      font_problems, visible_files)
from pulumi_geostack.settings_types import parse_quantity
from pulumi_geostack.settings import (
    KUBERNETES_TARGETS,
    BackupBucket,
    DockerSettings,
    EksSettings,
    GeoNodeDatabase,
    GeoNodeImages,
    GeoNodeMail,
    GeoNodeResources,
    GeoNodeSecrets,
    GeoNodeSettings,
    GeoNodeBackups,
    GeoNodeVolumeSizes,
    Microk8sSettings,
    NginxSettings,
    QgisSettings,
    Scaling,
    StackSettings,
)
from pulumi_geostack.paths import project_dir
from pulumi_geostack.workload import Resources

NAMESPACE = "geostack"
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


def flat_key(key: str) -> str:
    """The flat name of a dotted key from the old layout: `qgis.replicas` -> `qgisReplicas`."""
    group, _, rest = key.partition(".")
    return group + rest[:1].upper() + rest[1:]


# The prefixes that group keys (`qgis` of `qgisReplicas`), which --path would turn into objects.
_GROUPS = {match.group(0) for setting in SETTINGS if (match := re.match(r"[a-z0-9]+(?=[A-Z])", setting.key))}


# Keys of earlier releases that no longer exist, and what replaced them.
_REPLACED_KEYS = {
    "geonodeRabbitmqImage": "geonodeRedisImage (GeoNode 5's broker is Redis)",
    "geonodeRabbitmqSize": "geonodeRedisSize (GeoNode 5's broker is Redis)",
}


def _unknown_key_error(key: str) -> str:
    import difflib

    if key in _REPLACED_KEYS:
        return f"geostack:{key} was removed: use geostack:{_REPLACED_KEYS[key]}"
    if key in _GROUPS:
        # `pulumi config set --path geostack:qgis.replicas 2` makes an object `geostack:qgis`.
        example = next(name for name in _SETTINGS_BY_KEY if name.startswith(key))
        return (f"geostack:{key} is not a geostack setting: keys are flat, so set them without --path, "
                f"for example `pulumi config set geostack:{example} <value>`")
    candidate = flat_key(key) if "." in key else key
    match = difflib.get_close_matches(candidate, _SETTINGS_BY_KEY, n=1)
    hint = f" (did you mean geostack:{match[0]}?)" if match else ""
    return f"geostack:{key} is not a geostack setting{hint}"


def plaintext_credentials() -> list[str]:
    """Credential keys the stack holds unencrypted (set without --secret)."""
    from pulumi.runtime import config as runtime_config

    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= {key for key in runtime_config.CONFIG.get() if runtime_config.is_config_secret(key)}
    return [setting.key for setting in SETTINGS
            if setting.secret and runtime_config.get_config(f"{NAMESPACE}:{setting.key}") is not None
            and f"{NAMESPACE}:{setting.key}" not in secret_keys]


def file_secret_errors() -> list[str]:
    """Secrets written into a line of a file (pg_service.conf): libpq reads a line break as the end
    of the value, and drops spaces at the end of a line. Only the error says so, never the value."""
    from pulumi.runtime import config as runtime_config

    value = runtime_config.get_config(f"{NAMESPACE}:qgisDatabasePassword")
    if value is None or value == value.strip() and "\n" not in value and "\r" not in value:
        return []
    return ["geostack:qgisDatabasePassword must be one line without spaces at its ends (it becomes a line of "
            "pg_service.conf), got a value that is not"]


def parse_values(raw: Mapping[str, Any], unknown: set[str] = frozenset()) -> tuple[dict[str, Any], list[str]]:
    """Parse raw config strings into typed values; returns (values, error lines)."""
    errors = [_unknown_key_error(key) for key in sorted(unknown)]
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
    return path if path.is_absolute() else project_dir() / path


PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def _ca_certificates(value: str) -> tuple[str, list[str]]:
    """geostack:buildCaCertificates as PEM text, from the text itself or the file it names; and
    what is wrong with it. The value is never echoed whole: a PEM bundle is long."""
    if not value:
        return "", []
    if "-----BEGIN" in value:
        text, source = value, "text that"
    else:
        path = _resolve_dir(value)
        try:
            text, source = path.read_text(), f"{value!r}, a file that"
        except (OSError, UnicodeDecodeError) as error:
            return "", [f"geostack:buildCaCertificates must be PEM certificates or the path of a readable file "
                        f"of them, got {value!r} ({getattr(error, 'strerror', None) or error.__class__.__name__})"]
    if "PRIVATE KEY-----" in text:
        return "", [f"geostack:buildCaCertificates must hold certificates only, got {source} holds a private key "
                    f"(it would reach every build)"]
    if not PEM_CERTIFICATE.search(text):
        return "", [f"geostack:buildCaCertificates must be PEM certificates (-----BEGIN CERTIFICATE----- ... "
                    f"-----END CERTIFICATE-----) or the path of a file of them, got {source} holds none"]
    return text, []


def more_than_a_configmap_carries(directory: Path) -> bool:
    """Whether a directory takes more than CONFIGMAP_BUDGET_BYTES in a ConfigMap, where binary
    files travel base64-encoded (4/3 of their size). File sizes alone settle it unless the total
    lies between the budget's 3/4 and the whole of it: only then are the files read, so a folder
    of hundreds of megabytes is not read here on top of its digest."""
    files = visible_files(directory)
    raw_total = sum(path.stat().st_size for path in files)
    if raw_total > CONFIGMAP_BUDGET_BYTES:  # no encoding makes a file smaller
        return True
    if (raw_total + 2 * len(files)) * 4 // 3 <= CONFIGMAP_BUDGET_BYTES:  # fits even if all were base64
        return False
    total = 0
    for path in files:
        raw = path.read_bytes()
        try:
            raw.decode("utf-8")
            total += len(raw)
        except UnicodeDecodeError:
            total += (len(raw) + 2) // 3 * 4
    return total > CONFIGMAP_BUDGET_BYTES


def qgis_processes(v: Mapping[str, Any]) -> int:
    """Workers per QGIS container: as configured, or one per CPU of its limit (what cmd.sh picks)."""
    return v["qgisProcesses"] or max(1, math.ceil(parse_quantity(v["qgisCpuLimit"], "cpu")))


def resolve_automatic(v: Mapping[str, Any]) -> dict[str, Any]:
    """Fill the keys left empty to be computed: QGIS memory scales with its worker count."""
    resolved = dict(v)
    per_process = parse_quantity(v["qgisMemoryPerProcess"], "memory")
    if not resolved["qgisMemoryRequest"]:
        resolved["qgisMemoryRequest"] = f"{int(per_process * qgis_processes(v) // 2**20)}Mi"
    if not resolved["qgisMemoryLimit"]:
        request = parse_quantity(resolved["qgisMemoryRequest"], "memory")
        resolved["qgisMemoryLimit"] = f"{int(request * 2 // 2**20)}Mi"
    return resolved


# What `uname -m` says on the machines Docker's Linux images are built for.
_MACHINE_PLATFORMS = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64", "arm64": "linux/arm64"}


def machine_platform() -> str:
    """The image platform of the machine running the program (empty if it is neither amd64 nor arm64)."""
    import platform

    return _MACHINE_PLATFORMS.get(platform.machine().lower(), "")


def default_namespace(stack: str) -> str:
    """geostack-<stack>: a namespace per stack, so two stacks on one cluster never share objects.
    Left unresolved (empty) when the stack's name makes no DNS label; the cross-checks say so."""
    name = "geostack-" + re.sub(r"[^a-z0-9-]", "-", stack.lower())  # stack names may hold '_' and '.'"
    return name if re.fullmatch(DNS_LABEL, name) else ""


# First path segments of the QGIS proxy's own addresses: /ogc/<name>, the landing page's
# /index.html and /index.json, and the /project/<id> links it makes.
_RESERVED_PATHS = ("ogc", "project", "index.html", "index.json", "healthz")


def _existing_namespace_checks(v: Mapping[str, Any]) -> list[str]:
    """An existing namespace is named, never the default: geostack-<stack name> is one the stack makes."""
    if v["kubernetesNamespaceExists"] and not v["kubernetesNamespace"]:
        return ["geostack:kubernetesNamespace must name the namespace when geostack:kubernetesNamespaceExists "
                "is true (its default, geostack-<stack name>, is one the stack creates itself)"]
    return []


def _cross_checks(v: Mapping[str, Any]) -> list[str]:
    """Rules that involve more than one key, or the file system."""
    errors = []
    if v["nginxPath"].split("/")[1] in _RESERVED_PATHS:
        errors.append(f"geostack:nginxPath must not begin with /{', /'.join(_RESERVED_PATHS)} (the addresses of "
                      f"the projects and the landing page), got {v['nginxPath']!r}")
    if v["nginxPort"] == STATUS_PORT:
        errors.append(f"geostack:nginxPort must not be {STATUS_PORT}, nginx's internal status port, got {STATUS_PORT}")
    if v["target"] in KUBERNETES_TARGETS and not v["kubernetesNamespace"]:
        errors.append("geostack:kubernetesNamespace must be set for this stack: its default, geostack-<stack name>, "
                      "is not a DNS label (lowercase letters, digits, '-', at most 63 characters)")
    if v["geonodeImage"] and v["geonodeDjangoImage"]:
        errors.append("geostack:geonodeImage (geostack's image) and geostack:geonodeDjangoImage (an upstream "
                      "image) are alternatives: set one of them")
    given = next((key for key in ("geonodeImage", "geonodeDjangoImage") if v[key]), "")
    if given and v["geonodeRelease"] != GEONODE_DEFAULT_RELEASE:
        errors.append(f"geostack:geonodeRelease must stay {GEONODE_DEFAULT_RELEASE!r} when geostack:{given} is set "
                      f"(it chooses the release of the image geostack builds, and {given} is built elsewhere), "
                      f"got {v['geonodeRelease']!r}")
    target = v["target"]
    if not v["qgisEnabled"]:
        pass  # the QGIS project is neither shipped nor served
    elif not v["qgisDataClaim"]:
        project_dir = _resolve_dir(v["qgisProjectDir"])
        if not project_dir.is_dir():
            errors.append(f"geostack:qgisProjectDir must be an existing directory, got {v['qgisProjectDir']!r}")
        elif problems := find_projects(project_dir)[1]:
            errors += [f"geostack:qgisProjectDir must hold QGIS projects that can each be served at "
                       f"/ogc/<name>, but it has {problem}, got {v['qgisProjectDir']!r}" for problem in problems]
        elif problems := font_problems(project_dir):
            errors += [f"geostack:qgisProjectDir must hold only fonts (and their licences) in fonts/, but it has "
                       f"{problem}, got {v['qgisProjectDir']!r}" for problem in problems]
        elif not (project_dir / v["qgisProjectFile"]).is_file():
            errors.append(f"geostack:qgisProjectFile must name a file inside {project_dir}, "
                          f"got {v['qgisProjectFile']!r}")
        elif (target == "microk8s" and _data_in_image(v) and v["qgisImage"]
              and not v["qgisImage"].startswith(v["microk8sRegistry"] + "/")):
            errors.append(f"geostack:qgisImage must be in geostack:microk8sRegistry ({v['microk8sRegistry']}) when "
                          f"the project folder is more than a ConfigMap carries ({CONFIGMAP_BUDGET_BYTES} bytes): "
                          f"the folder is pushed there as layers on top of it, got {v['qgisImage']!r}")
    elif Path(v["qgisProjectFile"]).suffix.lower() not in PROJECT_SUFFIXES:
        errors.append(f"geostack:qgisProjectFile must name a .qgs or .qgz project on the claim (the one "
                      f"{v['nginxPath']} serves), got {v['qgisProjectFile']!r}")
    if v["qgisEnabled"] and v["qgisDataClaim"] and target == "docker":
        errors.append(f"geostack:qgisDataClaim is for Kubernetes targets only; on docker leave it empty "
                      f"and set geostack:qgisProjectDir, got {v['qgisDataClaim']!r}")
    if target == "docker" and not v["dockerImagePlatform"] and not machine_platform():
        import platform

        errors.append(f"geostack:dockerImagePlatform must be set (linux/amd64 or linux/arm64) on this "
                      f"{platform.machine()!r} machine, got ''")
    if target == "docker" and v["nginxReplicas"] != 1:
        errors.append(f"geostack:nginxReplicas must be 1 on the docker target (one published port), "
                      f"got {v['nginxReplicas']!r}")
    if target == "eks" and not v["eksClusterName"]:
        errors.append("geostack:eksClusterName must be set when geostack:target is eks, got ''")
    if target == "eks" and not v["eksRegion"]:
        errors.append("geostack:eksRegion (or aws:region) must be set when geostack:target is eks, so every "
                      "machine deploys to the stack's region and not its own AWS_REGION, got ''")
    errors += _geonode_checks(v) + _project_database_checks(v) + _ca_certificates(v["buildCaCertificates"])[1]
    if v["target"] in KUBERNETES_TARGETS:
        errors += _scaling_checks(v, "qgis") + _scaling_checks(v, "nginx")
    for workload in ("qgis", "nginx"):
        for resource in ("cpu", "memory"):
            request, limit = v[f"{workload}{resource.title()}Request"], v[f"{workload}{resource.title()}Limit"]
            if parse_quantity(limit, resource) < parse_quantity(request, resource):
                errors.append(f"geostack:{workload}{resource.title()}Limit must be at least "
                              f"geostack:{workload}{resource.title()}Request ({request}), got {limit!r}")
    return errors


def _geonode_checks(v: Mapping[str, Any]) -> list[str]:
    errors = []
    if not v["qgisEnabled"] and not v["geonodeEnabled"]:
        errors.append("geostack:qgisEnabled must be true when geostack:geonodeEnabled is false "
                      "(the stack would deploy nothing), got False")
    if not v["geonodeEnabled"]:
        return errors
    if v["geonodeExtraSettings"] and v["geonodeDjangoImage"]:
        errors.append("geostack:geonodeExtraSettings must be empty when geostack:geonodeDjangoImage is set "
                      "(only geostack's GeoNode image loads it), got a value")
    if v["geonodeTlsSecret"] and v["geonodeCertIssuer"]:
        errors.append("geostack:geonodeCertIssuer must be empty when geostack:geonodeTlsSecret is set "
                      f"(one source of TLS), got {v['geonodeCertIssuer']!r}")
    if v["target"] == "eks" and not v["eksSharedStorageClass"]:
        errors.append("geostack:eksSharedStorageClass must name a ReadWriteMany (EFS) storage class when "
                      "GeoNode runs on eks, got ''")
    if v["target"] == "docker" and v["qgisEnabled"] and v["geonodeHostPort"] == v["dockerHostPort"]:
        errors.append(f"geostack:geonodeHostPort must differ from geostack:dockerHostPort "
                      f"({v['dockerHostPort']}), got {v['geonodeHostPort']}")
    return errors + _mail_checks(v) + _database_checks(v) + _connection_checks(v) + _backup_bucket_checks(v)


def _connection_checks(v: Mapping[str, Any]) -> list[str]:
    """Refuse a stack whose GeoNode clients could exhaust PostgreSQL's max_connections."""
    from pulumi_geostack.geonode.connections import SUPERUSER_RESERVED, connection_demand, most_django_replicas
    from pulumi_geostack.geonode.names import postgis_host

    kubernetes = v["target"] in KUBERNETES_TARGETS
    qgis = 0
    # QGIS reads from the same server: GeoNode's PostGIS, or the existing server GeoNode uses.
    if v["qgisEnabled"] and v["qgisDatabaseHost"] in (postgis_host(), v["geonodeDatabaseHost"] or None):
        pods = max(v["qgisReplicas"], v["qgisAutoscaleMax"] if kubernetes else 0) + (1 if kubernetes else 0)
        qgis = pods * qgis_processes(v)
    upstream = bool(v["geonodeDjangoImage"])
    demand = connection_demand(v["geonodeDjangoReplicas"], kubernetes, upstream, bool(v["geonodeBackupTime"]), qgis)
    limit = v["geonodeDatabaseMaxConnections"]
    if demand.total + SUPERUSER_RESERVED <= limit:
        return []
    fits = most_django_replicas(limit, demand, v["geonodeDjangoReplicas"], upstream)
    fewer = (f"lower geostack:geonodeDjangoReplicas to {fits}" if fits else
             "run fewer QGIS Server workers against this database" if qgis else "")
    image = " (an upstream image's uWSGI grows to 128 processes)" if upstream else ""
    return [f"geostack:geonodeDatabaseMaxConnections must be at least {demand.total + SUPERUSER_RESERVED} for "
            f"this stack, got {limit}: at their most its clients hold {demand.total} connections "
            f"({demand.breakdown()}){image}, and PostgreSQL keeps {SUPERUSER_RESERVED} for superusers. Raise it"
            + (" (and the server's own max_connections)" if v["geonodeDatabaseHost"] else "")
            + (f", or {fewer}" if fewer else "")]


def _mail_checks(v: Mapping[str, Any]) -> list[str]:
    """A login or sender without an SMTP server would be silently ignored; so would a password without a user."""
    password_set = v["geonodeEmailPassword"] is not None
    if v["geonodeEmailHost"]:
        if password_set and not v["geonodeEmailUser"]:
            return ["geostack:geonodeEmailUser must be set when geostack:geonodeEmailPassword is "
                    "(Django logs in to the SMTP server only with both), got ''"]
        return []
    errors = [f"geostack:{key} must be empty when geostack:geonodeEmailHost is empty (no SMTP server "
              f"to use it with), got {v[key]!r}" for key in ("geonodeEmailUser", "geonodeEmailFrom") if v[key]]
    if password_set:
        errors.append("geostack:geonodeEmailPassword must be unset when geostack:geonodeEmailHost is empty "
                      "(no SMTP server to log in to), got a value")
    return errors


def _left_at_default(v: Mapping[str, Any], keys: tuple[str, ...], host_key: str, why: str) -> list[str]:
    """Keys that apply only when `host_key` names a server: without one they must keep their
    defaults, or they would be silently ignored."""
    return [f"geostack:{key} must stay {_SETTINGS_BY_KEY[key].default!r} unless geostack:{host_key} {why}, "
            f"got {v[key]!r}" for key in keys if v[key] != _SETTINGS_BY_KEY[key].default]


def _database_checks(v: Mapping[str, Any]) -> list[str]:
    """An existing server's users already have passwords: geostack can neither generate nor set them."""
    if not v["geonodeDatabaseHost"]:
        return _left_at_default(v, ("geonodeDatabasePort", "geonodeDatabaseSslMode"), "geonodeDatabaseHost",
                                "names an existing server (it applies to no other)")
    errors = []
    missing = [f"geostack:{key}" for key in ("geonodeDatabasePassword", "geonodeGeodatabasePassword") if v[key] is None]
    if missing:
        errors.append("geostack:geonodeDatabasePassword and geostack:geonodeGeodatabasePassword must be set with "
                      "`pulumi config set --secret` when geostack:geonodeDatabaseHost names an existing server (the "
                      f"passwords its geonode and geonode_data users have), missing: {', '.join(missing)}")
    if v["geonodePostgresPassword"] is not None:
        errors.append("geostack:geonodePostgresPassword must be unset when geostack:geonodeDatabaseHost is set "
                      "(geostack runs no PostgreSQL server to give it to), got a value")
    return errors


_PROJECT_DATABASE_KEYS = ("qgisDatabasePort", "qgisDatabaseName", "qgisDatabaseSchema", "qgisDatabaseUser",
                          "qgisDatabaseSslMode", "qgisDatabaseService", "qgisDatabaseRefreshSeconds")


def _project_database_checks(v: Mapping[str, Any]) -> list[str]:
    """Projects in PostgreSQL need the whole connection; its keys alone would be silently ignored."""
    if not v["qgisDatabaseHost"]:
        errors = _left_at_default(v, _PROJECT_DATABASE_KEYS, "qgisDatabaseHost",
                                  "names the PostgreSQL server of QGIS projects (it applies to nothing else)")
        if v["qgisDatabasePassword"] is not None:
            errors.append("geostack:qgisDatabasePassword must be unset unless geostack:qgisDatabaseHost names the "
                          "PostgreSQL server of QGIS projects, got a value")
        return errors
    errors = [f"geostack:{key} must be set when geostack:qgisDatabaseHost is ({what}), got ''"
              for key, what in (("qgisDatabaseName", "the database the projects are in"),
                                ("qgisDatabaseUser", "the user QGIS Server connects as")) if not v[key]]
    if v["qgisDatabasePassword"] is None:
        errors.append("geostack:qgisDatabasePassword must be set with `pulumi config set --secret "
                      "geostack:qgisDatabasePassword` when geostack:qgisDatabaseHost is (the password of "
                      "geostack:qgisDatabaseUser), got nothing")
    # Imported here: the geonode package imports the targets, which import this module.
    from pulumi_geostack.geonode.names import postgis_host

    if v["qgisDatabaseHost"] == postgis_host() and (not v["geonodeEnabled"] or v["geonodeDatabaseHost"]):
        errors.append(f"geostack:qgisDatabaseHost must name a server QGIS can reach: {postgis_host()} is GeoNode's "
                      "PostGIS, which this stack runs only with geostack:geonodeEnabled true and no "
                      f"geostack:geonodeDatabaseHost, got {v['qgisDatabaseHost']!r}")
    if v["qgisDatabaseHost"] in ("localhost", "127.0.0.1", "::1") or v["qgisDatabaseHost"].startswith("127."):
        errors.append("geostack:qgisDatabaseHost must name the server as the QGIS containers reach it, not "
                      "loopback, which is each container itself (on Docker: a container on the stack's network, "
                      f"or the host's address on it), got {v['qgisDatabaseHost']!r}")
    return errors


def _geonode(v: Mapping[str, Any]) -> GeoNodeSettings:
    return GeoNodeSettings(
        enabled=v["geonodeEnabled"],
        site_host=v["geonodeSiteHost"],
        host_port=v["geonodeHostPort"],
        upload_size=v["geonodeUploadSize"],
        open_signup=v["geonodeOpenSignup"],
        admin_email=v["geonodeAdminEmail"],
        mail=GeoNodeMail(
            host=v["geonodeEmailHost"],
            port=v["geonodeEmailPort"],
            user=v["geonodeEmailUser"],
            tls=v["geonodeEmailTls"],
            sender=v["geonodeEmailFrom"],
        ),
        database=GeoNodeDatabase(
            host=v["geonodeDatabaseHost"],
            port=v["geonodeDatabasePort"],
            ssl_mode=v["geonodeDatabaseSslMode"],
            max_connections=v["geonodeDatabaseMaxConnections"],
        ),
        tls_secret=v["geonodeTlsSecret"],
        cert_issuer=v["geonodeCertIssuer"],
        ingress_class=v["geonodeIngressClass"],
        django_replicas=v["geonodeDjangoReplicas"],
        init_timeout_minutes=v["geonodeInitTimeoutMinutes"],
        extra_settings=v["geonodeExtraSettings"],
        images=GeoNodeImages(
            django=v["geonodeDjangoImage"],
            prebuilt=v["geonodeImage"],
            build_args={"GEONODE_RELEASE": v["geonodeRelease"]},
            geoserver=v["geonodeGeoserverImage"],
            geoserver_data=v["geonodeGeoserverDataImage"],
            nginx=v["geonodeNginxImage"],
            postgis=v["geonodePostgisImage"],
            redis=v["geonodeRedisImage"],
        ),
        image_refresh=v["geonodeImageRefresh"],
        backups=GeoNodeBackups(time=v["geonodeBackupTime"], keep=v["geonodeBackupKeep"],
                               size=v["geonodeBackupSize"], prebuilt_image=v["geonodeBackupImage"],
                               bucket=_backup_bucket(v)),
        sizes=GeoNodeVolumeSizes(
            database=v["geonodeDatabaseSize"],
            geoserver_data=v["geonodeGeoserverDataSize"],
            statics=v["geonodeStaticsSize"],
            data=v["geonodeDataSize"],
            redis=v["geonodeRedisSize"],
        ),
        resources=GeoNodeResources(**{service: v[f"geonode{service.title()}Resources"] for service in (
            "database", "broker", "geoserver", "django", "celery", "nginx")}),
        secrets=GeoNodeSecrets(
            secret_key=v["geonodeSecretKey"],
            admin_password=v["geonodeAdminPassword"],
            geoserver_admin_password=v["geonodeGeoserverAdminPassword"],
            postgres_password=v["geonodePostgresPassword"],
            database_password=v["geonodeDatabasePassword"],
            geodatabase_password=v["geonodeGeodatabasePassword"],
            broker_password=v["geonodeBrokerPassword"],
            oauth_client_id=v["geonodeOauthClientId"],
            oauth_client_secret=v["geonodeOauthClientSecret"],
            api_key=v["geonodeApiKey"],
            email_password=v["geonodeEmailPassword"],
        ),
    )


def _backup_bucket(v: Mapping[str, Any]) -> BackupBucket | None:
    if not v["geonodeBackupBucket"]:
        return None
    return BackupBucket(
        name=v["geonodeBackupBucket"].rstrip("/"),
        endpoint=v["geonodeBackupBucketEndpoint"],
        region=v["geonodeBackupBucketRegion"] or (v["eksRegion"] if v["target"] == "eks" else "") or "us-east-1",
        keep=v["geonodeBackupBucketKeep"],
        access_key_id=v["geonodeBackupBucketAccessKeyId"],
        secret_access_key=v["geonodeBackupBucketSecretAccessKey"],
        role_arn=v["geonodeBackupBucketRoleArn"],
    )


_BUCKET_KEYS = ("geonodeBackupBucketEndpoint", "geonodeBackupBucketRegion", "geonodeBackupBucketKeep",
                "geonodeBackupBucketAccessKeyId", "geonodeBackupBucketRoleArn")


def _backup_bucket_checks(v: Mapping[str, Any]) -> list[str]:
    """The bucket's keys fit together, and the backup will be able to sign in to it."""
    has_secret = v["geonodeBackupBucketSecretAccessKey"] is not None
    if not v["geonodeBackupBucket"]:
        errors = _left_at_default(v, _BUCKET_KEYS, "geonodeBackupBucket", "names a bucket (it applies to nothing else)")
        if has_secret:
            errors.append("geostack:geonodeBackupBucketSecretAccessKey must be unset unless "
                          "geostack:geonodeBackupBucket names a bucket, got a value")
        return errors
    if not v["geonodeBackupTime"]:
        return [f"geostack:geonodeBackupTime must be set when geostack:geonodeBackupBucket is (backups to upload), "
                f"got '' (bucket {v['geonodeBackupBucket']!r})"]
    key_id, role = v["geonodeBackupBucketAccessKeyId"], v["geonodeBackupBucketRoleArn"]
    if bool(key_id) != has_secret:
        return ["geostack:geonodeBackupBucketAccessKeyId and geostack:geonodeBackupBucketSecretAccessKey (with "
                "`pulumi config set --secret`) must be set together, got only "
                + ("the access key ID" if key_id else "the secret")]
    if role and v["target"] != "eks":
        return [f"geostack:geonodeBackupBucketRoleArn needs target eks (an IAM role for the backup's "
                f"ServiceAccount), got target {v['target']!r}: give geostack:geonodeBackupBucketAccessKeyId and "
                "geostack:geonodeBackupBucketSecretAccessKey instead"]
    if role and key_id:
        return ["geostack:geonodeBackupBucketRoleArn must be empty when geostack:geonodeBackupBucketAccessKeyId "
                f"is set (one way to sign in), got {role!r}"]
    if not key_id and v["target"] != "eks":
        return ["geostack:geonodeBackupBucketAccessKeyId and geostack:geonodeBackupBucketSecretAccessKey must be "
                f"set when geostack:geonodeBackupBucket is, on target {v['target']!r} (only EKS pods can take an "
                "IAM role), got neither"]
    return []


def _scaling_checks(v: Mapping[str, Any], workload: str) -> list[str]:
    errors = []
    low, high = v[f"{workload}AutoscaleMin"], v[f"{workload}AutoscaleMax"]
    if high and high < low:
        errors.append(f"geostack:{workload}AutoscaleMax must be at least geostack:{workload}AutoscaleMin "
                      f"({low}), got {high}")
    fewest = low if high else v[f"{workload}Replicas"]
    if fewest > 1 and v[f"{workload}MinAvailable"] >= fewest:
        source = f"geostack:{workload}{'AutoscaleMin' if high else 'Replicas'}"
        errors.append(f"geostack:{workload}MinAvailable must be below {source} ({fewest}) so a node drain "
                      f"can always proceed, got {v[f'{workload}MinAvailable']}")
    return errors


def _scaling(v: Mapping[str, Any], workload: str) -> Scaling:
    return Scaling(
        min_available=v[f"{workload}MinAvailable"],
        autoscale_min=v[f"{workload}AutoscaleMin"],
        autoscale_max=v[f"{workload}AutoscaleMax"],
        autoscale_cpu_percent=v[f"{workload}AutoscaleCpuPercent"],
    )


def _resources(v: Mapping[str, Any], workload: str) -> Resources:
    return Resources(
        cpu_request=v[f"{workload}CpuRequest"],
        cpu_limit=v[f"{workload}CpuLimit"],
        memory_request=v[f"{workload}MemoryRequest"],
        memory_limit=v[f"{workload}MemoryLimit"],
    )


def _ships_folder(v: Mapping[str, Any]) -> bool:
    return v["qgisEnabled"] and not v["qgisDataClaim"]


def _data_in_image(v: Mapping[str, Any]) -> bool:
    """Kubernetes: a folder more than a ConfigMap carries travels as layers of the image QGIS runs."""
    return (v["target"] in KUBERNETES_TARGETS and _ships_folder(v)
            and more_than_a_configmap_carries(_resolve_dir(v["qgisProjectDir"])))


def _projects(v: Mapping[str, Any]) -> tuple[QgisProject, ...]:
    """The projects the program knows of: the folder's, or on a claim (which it cannot look
    into, so the image's plugin finds /ogc/'s projects there) the one that qgisProjectFile names."""
    if _ships_folder(v):
        return find_projects(_resolve_dir(v["qgisProjectDir"]))[0]
    return (QgisProject(Path(v["qgisProjectFile"]).stem, v["qgisProjectFile"]),)


def _project_database(v: Mapping[str, Any]) -> ProjectDatabase | None:
    if not (v["qgisEnabled"] and v["qgisDatabaseHost"]):
        return None
    return ProjectDatabase(host=v["qgisDatabaseHost"], port=v["qgisDatabasePort"], name=v["qgisDatabaseName"],
                           schema=v["qgisDatabaseSchema"], user=v["qgisDatabaseUser"],
                           password=v["qgisDatabasePassword"], ssl_mode=v["qgisDatabaseSslMode"],
                           service=v["qgisDatabaseService"], refresh_seconds=v["qgisDatabaseRefreshSeconds"])


def build_settings(v: Mapping[str, Any], project: str, stack: str) -> StackSettings:
    """Assemble validated values into the typed settings tree."""
    return StackSettings(
        project=project,
        stack=stack,
        target=v["target"],
        production=v["production"],
        namespace=v["kubernetesNamespace"],
        namespace_exists=v["kubernetesNamespaceExists"],
        wait_image=v["kubernetesWaitImage"],
        build_ca_certificates=_ca_certificates(v["buildCaCertificates"])[0],
        kubernetes_version=v["kubernetesVersion"],
        qgis_enabled=v["qgisEnabled"],
        geonode=_geonode(v),
        qgis=QgisSettings(
            image_repository=v["qgisImageRepository"],
            image_tag=v["qgisImageTag"],
            prebuilt_image=v["qgisImage"],
            build_args=QGIS_RELEASES[v["qgisRelease"]],
            fcgi_port=v["qgisFcgiPort"],
            processes=v["qgisProcesses"],
            replicas=v["qgisReplicas"],
            log_level=v["qgisLogLevel"],
            parallel_rendering=v["qgisParallelRendering"],
            max_threads=v["qgisMaxThreads"],
            max_cache_layers=v["qgisMaxCacheLayers"],
            ignore_bad_layers=v["qgisIgnoreBadLayers"],
            trust_layer_metadata=v["qgisTrustLayerMetadata"],
            project_dir=_resolve_dir(v["qgisProjectDir"]),
            project_file=v["qgisProjectFile"],
            projects=_projects(v),
            data_version=folder_digest(_resolve_dir(v["qgisProjectDir"])) if _ships_folder(v) else "",
            data_claim=v["qgisDataClaim"],
            data_in_image=_data_in_image(v),
            database=_project_database(v),
            resources=_resources(v, "qgis"),
            scaling=_scaling(v, "qgis"),
        ),
        nginx=NginxSettings(
            image=v["nginxImage"],
            path=v["nginxPath"],
            port=v["nginxPort"],
            replicas=v["nginxReplicas"],
            resources=_resources(v, "nginx"),
            scaling=_scaling(v, "nginx"),
            cache=v["nginxCache"],
            cache_size=v["nginxCacheSize"],
            cache_validity=v["nginxCacheValidity"],
            cache_min_uses=v["nginxCacheMinUses"],
        ),
        docker=DockerSettings(host_port=v["dockerHostPort"], bind_address=v["dockerBindAddress"],
                              image_platform=v["dockerImagePlatform"] or machine_platform()),
        microk8s=Microk8sSettings(
            kubeconfig=v["microk8sKubeconfig"],
            context=v["microk8sContext"],
            registry=v["microk8sRegistry"],
            host=v["microk8sHost"],
            node_port=v["microk8sNodePort"],
            storage_class=v["microk8sStorageClass"],
            image_platform=v["kubernetesImagePlatform"],
            service_monitor=v["kubernetesServiceMonitor"],
        ),
        eks=EksSettings(
            cluster_name=v["eksClusterName"],
            region=v["eksRegion"],
            image_platform=v["kubernetesImagePlatform"],
            ecr_keep_images=v["eksEcrKeepImages"],
            storage_class=v["eksStorageClass"],
            shared_storage_class=v["eksSharedStorageClass"],
            service_monitor=v["kubernetesServiceMonitor"],
        ),
    )


def load_settings(overrides: Mapping[str, str] | None = None) -> StackSettings:
    """Read and validate the stack's `geostack:*` config; raise ConfigError listing every mistake.

    `overrides`: values a program of your own gives for keys (by name, without `geostack:`, as text
    the way config holds it) in place of the stack's, checked like them; for example one
    `qgisProjectDir` per QGIS server (examples/two-folders)."""
    config = pulumi.Config(NAMESPACE)
    raw = _read_raw(config)
    unknown = configured_keys() - set(_SETTINGS_BY_KEY)
    if overrides:
        unknown |= set(overrides) - set(_SETTINGS_BY_KEY)
        raw.update({key: value for key, value in overrides.items() if key in _SETTINGS_BY_KEY})
    values, errors = parse_values(raw, unknown)
    errors += [f"geostack:{key} must be set with `pulumi config set --secret geostack:{key}` so it is "
               "stored encrypted, got a plaintext value" for key in plaintext_credentials()]
    errors += file_secret_errors()
    if not errors:
        values = resolve_automatic(values)
        # The stack's own region, never the machine's AWS_REGION: a laptop and CI in different
        # regions would otherwise see a different provider, which replaces everything under it.
        values["eksRegion"] = values["eksRegion"] or pulumi.Config("aws").get("region") or ""
        errors = _existing_namespace_checks(values)
        values["kubernetesNamespace"] = values["kubernetesNamespace"] or default_namespace(pulumi.get_stack())
        errors += _cross_checks(values)
    if errors:
        raise ConfigError("\n".join(errors))
    return build_settings(values, pulumi.get_project(), pulumi.get_stack())
