"""Whether a pod with given labels can open a TCP connection to a host and port: the check a
NetworkPolicy is judged by, from inside the cluster.

The probe is a one-off pod of the wait image stand-in (netcat) in the stack's namespace. Its
labels decide which policies let it in: a pod labelled as the stack's nginx is the peer that
QGIS's policy names; one labelled otherwise is any other pod. It passes the namespace's Pod
Security admission (restricted) like the stack's own pods, and is deleted afterwards.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from offline.loopback import wait_until
from tests.cluster.local_cluster import LocalCluster

CONNECT_TIMEOUT_S = 2
# A policy enforcer learns of a new pod from the API server, as the pod starts: an allowed probe
# may be dropped until its address is in the enforcer's sets (kube-router syncs within a second
# or two), so a probe tries several times before it reports a refusal.
TRIES = 5


@dataclass(frozen=True)
class Probe:
    connected: bool
    log: str  # netcat's messages, for the assertion that fails


def probe_manifest(namespace: str, name: str, labels: dict[str, str], image: str, script: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {**labels, "geostack-test": "network-probe"}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "probe", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", script],
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
            }],
        },
    }


def listener_manifest(namespace: str, image: str) -> dict:
    """A pod listening on 8000 that no policy of a stack names."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "unnamed-listener", "namespace": namespace, "labels": {"geostack-test": "listener"}},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "listen", "image": image, "command": ["nc", "-lk", "8000"],
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
            }],
        },
    }


def connects(cluster: LocalCluster, namespace: str, labels: dict[str, str], image: str, host: str, port: int) -> Probe:
    """Whether the probe's connection was accepted (within TRIES tries), or refused or timed out."""
    return run_probe(cluster, namespace, labels, image, f"probe {labels} -> {host}:{port}",
                     _tries(f"nc -z -v -w {CONNECT_TIMEOUT_S} {host} {port}"))


def fetch(cluster: LocalCluster, namespace: str, labels: dict[str, str], image: str, host: str, port: int,
          path: str) -> Probe:
    """An HTTP/1.0 GET of `path` from inside the cluster, as a scraper pod sends it; the log is the
    raw answer, headers first."""
    request = f"printf 'GET {path} HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n'"
    return run_probe(cluster, namespace, labels, image, f"GET http://{host}:{port}{path} from {labels}",
                     _tries(f"{request} | nc -w {CONNECT_TIMEOUT_S} {host} {port} | grep -a ''"))


def _tries(command: str) -> str:
    return f"for try in $(seq {TRIES}); do {command} && exit 0; sleep 1; done; exit 1"


def run_probe(cluster: LocalCluster, namespace: str, labels: dict[str, str], image: str, what: str,
              script: str) -> Probe:
    """Runs `script` in a one-off probe pod; whether it exited 0, and its output."""
    name = f"network-probe-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("apply", "-f", "-", input=json.dumps(probe_manifest(namespace, name, labels, image, script)))
    try:
        def phase() -> str:
            return cluster.kubectl("get", "pod", "-n", namespace, name, "-o", "jsonpath={.status.phase}").stdout
        try:
            wait_until(lambda: phase() in ("Succeeded", "Failed"), 90, f"the probe pod {name} to finish")
        except Exception as error:
            described = cluster.kubectl("describe", "pod", "-n", namespace, name, check=False).stdout
            raise AssertionError(f"{error}\n{described}") from error
        log = cluster.kubectl("logs", "-n", namespace, name, check=False).stdout
        return Probe(phase() == "Succeeded", f"{what}:\n{log}")
    finally:
        cluster.kubectl("delete", "pod", "-n", namespace, name, "--wait=false", check=False)
