"""Pure functions that turn a Workload into Kubernetes pod-spec dictionaries.

No resources are created here, so tests and the offline renderer can read the result.
"""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

import pulumi

from pulumi_geostack.qgis_projects import visible_files
from pulumi_geostack.workload import CommandCheck, DeployedWorkload, HttpCheck, Probe, SecretFile, TcpCheck, Workload

# Resources for the small init containers that wait for dependencies.
WAIT_RESOURCES = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}}


def labels(workload_name: str, stack: str) -> dict[str, str]:
    """Recommended labels; the first two select the workload's pods."""
    return {
        "app.kubernetes.io/name": workload_name,
        "app.kubernetes.io/instance": stack,
        "app.kubernetes.io/part-of": "geostack",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def stack_pods(stack: str) -> dict[str, str]:
    """The labels every pod of the stack carries, and only its pods."""
    return {key: value for key, value in labels("", stack).items()
            if key in ("app.kubernetes.io/instance", "app.kubernetes.io/part-of")}


def selector(workload_name: str, stack: str) -> dict[str, str]:
    return {key: value for key, value in labels(workload_name, stack).items()
            if key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def directory_items(source: Path) -> tuple[dict[str, str], dict[str, str], list[dict[str, str]]]:
    """A local directory as ConfigMap data: (text files, base64 binary files, key→path items).

    ConfigMap keys cannot contain '/', so nested files get a flattened key and an
    `items` entry that puts them back at their relative path.
    """
    text, binary, items = {}, {}, []
    for path in visible_files(source):
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
    elif isinstance(check, HttpCheck):
        action = {"http_get": {"path": check.path, "port": check.port}}
        if check.host:
            action["http_get"]["http_headers"] = [{"name": "Host", "value": check.host}]
    else:
        raise TypeError(f"no Kubernetes probe for {check!r}")
    return {
        **action,
        "initial_delay_seconds": probe.initial_delay_seconds,
        "period_seconds": probe.period_seconds,
        "timeout_seconds": probe.timeout_seconds,
        "failure_threshold": probe.failure_threshold,
    }


def container_security(user: int | None, read_only_root: bool = True) -> dict[str, Any]:
    return {
        "allow_privilege_escalation": False,
        "read_only_root_filesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
        **({"run_as_user": user, "run_as_group": user} if user is not None else {}),
    }


SECRET_FILES_VOLUME = "secret-files"
# Read-only, and only for the owner and the group: the pod's fsGroup, the workload's own group.
SECRET_FILE_MODE = 0o440


def secret_file_key(secret_file: SecretFile) -> str:
    return PurePosixPath(secret_file.path).name


def pod_fs_group(workload: Workload) -> int | None:
    """The pod's fsGroup: the workload's own, or with secret files its user's group, which then
    owns them (Kubernetes writes Secret files as root)."""
    if workload.fs_group is not None:
        return workload.fs_group
    return workload.user if workload.secret_files else None


def secret_files_volume(workload: Workload, secret_name: pulumi.Input[str] | None) -> dict[str, Any]:
    return {"name": SECRET_FILES_VOLUME, "secret": {
        "secret_name": secret_name, "default_mode": SECRET_FILE_MODE,
        "items": [{"key": secret_file_key(f), "path": secret_file_key(f)} for f in workload.secret_files]}}


def env_list(workload: Workload, secret_name: pulumi.Input[str] | None) -> list[dict[str, Any]]:
    """Plain values inline; secret values only as references to the workload's Secret."""
    env: list[dict[str, Any]] = [{"name": key, "value": value} for key, value in sorted(workload.env.items())]
    env += [{"name": key, "value_from": {"secret_key_ref": {"name": secret_name, "key": key}}}
            for key in sorted(workload.secret_env)]
    return env


def container_spec(workload: Workload, mounts: list[dict[str, Any]],
                   secret_name: pulumi.Input[str] | None) -> dict[str, Any]:
    """The workload's container. Docker semantics: `entrypoint` is ENTRYPOINT, `command` is CMD."""
    container: dict[str, Any] = {
        "name": workload.name,
        "image": workload.image,
        "image_pull_policy": "IfNotPresent",
        "ports": [{"name": p.name, "container_port": p.number} for p in workload.ports] +
                 ([{"name": "metrics", "container_port": workload.metrics.port}] if workload.metrics else []),
        "env": env_list(workload, secret_name),
        "volume_mounts": mounts,
        "security_context": container_security(workload.user, workload.read_only_root),
    }
    if workload.entrypoint:
        container["command"] = list(workload.entrypoint)
    if workload.command:
        container["args"] = list(workload.command)
    if workload.liveness and not workload.task:
        container["liveness_probe"] = probe_spec(workload.liveness)
    if workload.readiness and not workload.task:
        container["readiness_probe"] = probe_spec(workload.readiness)
    if workload.pre_stop_seconds:
        container["lifecycle"] = {"pre_stop": {"exec_": {"command": ["sleep", str(workload.pre_stop_seconds)]}}}
    if workload.resources:
        r = workload.resources
        container["resources"] = {
            "requests": {"cpu": r.cpu_request, "memory": r.memory_request},
            "limits": {"cpu": r.cpu_limit, "memory": r.memory_limit},
        }
    return container


def wait_containers(after: Iterable[DeployedWorkload], image: str, user: int | None) -> list[dict[str, Any]]:
    """Init containers that hold the pod until each service dependency accepts connections.

    Finished tasks (Jobs) are ordered by Pulumi instead, so they get no init container.
    """
    containers = []
    for index, dependency in enumerate(d for d in after if not d.task):
        script = pulumi.Output.concat(
            "until nc -z -w 2 ", dependency.host, " ", str(dependency.port),
            "; do echo waiting for ", dependency.host, ":", str(dependency.port), "; sleep 2; done")
        containers.append({
            "name": f"wait-{index}",
            "image": image,
            "image_pull_policy": "IfNotPresent",
            "command": ["sh", "-c", script],
            "security_context": container_security(user if user is not None else 65534),
            "resources": WAIT_RESOURCES,
        })
    return containers


def spread(workload_name: str, stack: str) -> list[dict[str, Any]]:
    """Prefer one pod per node; still schedule on a single-node cluster (microk8s). Only pods of
    the same revision count (their pod-template-hash): counting a rollout's old pods put both new
    ones on one node when the old ones left the other."""
    return [{
        "max_skew": 1,
        "topology_key": "kubernetes.io/hostname",
        "when_unsatisfiable": "ScheduleAnyway",
        "label_selector": {"match_labels": selector(workload_name, stack)},
        "match_label_keys": ["pod-template-hash"],
    }]


def rollout_strategy(workload: Workload) -> dict[str, Any]:
    if workload.singleton:
        # A single-writer volume cannot attach to the old and the new pod at once.
        return {"type": "Recreate"}
    if not workload.surge:
        return {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 1, "max_surge": 0}}
    # Start the new pod before stopping an old one, so capacity never drops.
    return {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}}


# The rollout is complete: the Deployment controller sets this reason once every pod is of the
# new template and available and no old pod is left (DeploymentComplete).
ROLLOUT_COMPLETE = 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}=NewReplicaSetAvailable'


def rollout_wait_annotation(workload: Workload) -> dict[str, str]:
    """What `pulumi up` waits for before it takes a Deployment as done.

    pulumi-kubernetes's own Deployment await (4.25) can read a status written before the
    controller saw the update (its observedGeneration is older than the spec) as a finished
    rollout, and return while only the old pods serve: `up` said done while the old proxy still
    answered 404 for a project it had just added. Conditions given in pulumi.com/waitFor replace
    that await, and each waits for a status of the current generation.

    The reason alone was not enough on the test cluster: adding an autoscaler, `up` returned on
    it before any pod of the new template existed. A status of the new generation can still carry
    the last rollout's reason (the controller's scaling path, for one, writes the generation and
    keeps the conditions, and makes no ReplicaSet). Until a pod of the new template exists the
    status has no updatedReplicas. The counts (the workload's, unless an autoscaler owns them)
    also cover an update that only scales."""
    if workload.autoscale or workload.replicas < 1:
        counts = ["jsonpath={.status.updatedReplicas}"]  # present once a pod is of the new template
    else:
        counts = [f"jsonpath={{.status.{field}}}={workload.replicas}"
                  for field in ("replicas", "updatedReplicas", "availableReplicas")]
    return {"pulumi.com/waitFor": json.dumps([ROLLOUT_COMPLETE, *counts])}


def scales_out(workload: Workload) -> bool:
    return workload.replicas > 1 or workload.autoscale is not None


def network_policy_spec(workload: Workload, stack: str) -> dict[str, Any]:
    """Who may connect to the workload's ports: anyone if it is exposed, else the named peers."""
    ports = [{"protocol": "TCP", "port": p.number} for p in workload.ports]
    if workload.expose:
        rules = [{"ports": ports}]
    else:
        peers = [{"pod_selector": {"match_labels": selector(name, stack)}} for name in workload.allow_from]
        rules = [{"from_": peers, "ports": ports}] if peers else []
    if workload.metrics:  # any pod in the cluster, such as Prometheus; nothing from outside it
        rules.append({"from_": [{"namespace_selector": {}}],
                      "ports": [{"protocol": "TCP", "port": workload.metrics.port}]})
    return {
        "pod_selector": {"match_labels": selector(workload.name, stack)},
        "policy_types": ["Ingress"],
        "ingress": rules,
    }


def scrape_annotations(workload: Workload) -> dict[str, str]:
    """The prometheus.io/* annotations Prometheus's usual pod discovery configuration reads."""
    if not workload.metrics:
        return {}
    return {"prometheus.io/scrape": "true", "prometheus.io/port": str(workload.metrics.port),
            "prometheus.io/path": workload.metrics.path}


def hpa_spec(workload: Workload, deployment_name: pulumi.Input[str]) -> dict[str, Any]:
    scale = workload.autoscale
    return {
        "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": deployment_name},
        "min_replicas": scale.min_replicas,
        "max_replicas": scale.max_replicas,
        "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "average_utilization": scale.cpu_percent}}}],
    }
