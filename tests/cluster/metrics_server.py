"""metrics-server for the test cluster: the resource metrics API (metrics.k8s.io) that the
HorizontalPodAutoscaler and `kubectl top` read, as microk8s's metrics-server addon gives it.

It runs as a process on this host (built by toolchain/install-cluster.sh) and is registered as an
aggregated API, as a cluster registers it whatever runs it:

- the API server gets a front proxy of its own (a separate CA and client certificate, as kubeadm
  makes them) with which it forwards requests for metrics.k8s.io (`aggregator_flags`);
- metrics-server serves with a certificate for `metrics-server.kube-system.svc`, which the
  APIService's caBundle lets the API server verify, and scrapes each kubelet's /metrics/resource,
  checking the kubelet's serving certificate against the cluster CA;
- its identity, `system:metrics-server`, has upstream's RBAC: read nodes, pods and nodes/metrics,
  delegate authentication and authorization, read the front proxy's CA in kube-system;
- a Service without selector and its Endpoints point at the process (the API server routes to
  the endpoint, `--enable-aggregator-routing`).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from tests.cluster import configs, pki

USER = "system:metrics-server"
FRONT_PROXY_CLIENT = "front-proxy-client"
NAMESPACE = "kube-system"
SERVICE = "metrics-server"
# The resolution the HorizontalPodAutoscaler sees: metrics-server's own minimum is 10 s; 15 s
# is the kubelet's housekeeping interval, so a shorter one only repeats samples.
RESOLUTION = "15s"


@dataclass(frozen=True)
class FrontProxy:
    ca: pki.KeyPair
    client: pki.KeyPair


def front_proxy(certs: Path) -> FrontProxy:
    directory = certs / "front-proxy"
    directory.mkdir()
    ca = pki.certificate_authority(directory)
    return FrontProxy(ca, pki.signed(ca, directory, "client", f"/CN={FRONT_PROXY_CLIENT}", "clientAuth"))


def aggregator_flags(proxy: FrontProxy) -> list[str]:
    """kube-apiserver's flags for aggregated APIs (upstream's names for the headers)."""
    return [
        f"--requestheader-client-ca-file={proxy.ca.cert}",
        f"--requestheader-allowed-names={FRONT_PROXY_CLIENT}",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={proxy.client.cert}", f"--proxy-client-key-file={proxy.client.key}",
        "--enable-aggregator-routing=true",
    ]


def serving_pair(ca: pki.KeyPair, certs: Path) -> pki.KeyPair:
    return pki.signed(ca, certs, "metrics-server-serving", f"/CN={SERVICE}.{NAMESPACE}.svc", "serverAuth",
                      (f"DNS:{SERVICE}.{NAMESPACE}.svc", f"IP:{configs.NODE_IP}"))


def client_subject() -> str:
    return f"/CN={USER}"


# On a real cluster metrics-server is a Deployment, whose container the kubelet restarts when it
# exits. Here it runs on the host, so a shell loop restarts it, and says so in its log. Without
# that, one exit (status 2, in a full run) left the metrics API unavailable: every namespace
# deletion then hung on discovery and the autoscaler read no CPU, failing later tests.
RESTART_LOOP = ('while true; do "$@"; echo "metrics-server exited with status $?: restarting it, as the kubelet '
                'would" >&2; sleep 1; done')


def command(bin_dir: Path, kubeconfig: Path, serving: pki.KeyPair, ca: pki.KeyPair, port: int) -> list[str]:
    return [
        "bash", "-c", RESTART_LOOP, "metrics-server",
        str(bin_dir / "metrics-server"),
        f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={configs.NODE_IP}", f"--secure-port={port}",
        f"--tls-cert-file={serving.cert}", f"--tls-private-key-file={serving.key}",
        f"--kubelet-certificate-authority={ca.cert}", "--kubelet-preferred-address-types=InternalIP",
        "--kubelet-use-node-status-port", f"--metric-resolution={RESOLUTION}",
    ]


def _binding(kind: str, name: str, role_kind: str, role: str, namespace: str | None = None) -> dict:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}]}


def manifests(ca: pki.KeyPair, port: int) -> str:
    """RBAC, the Service and Endpoints, and the APIService, as a kubectl List."""
    items = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": USER},
         "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                   {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]}]},
        _binding("ClusterRoleBinding", USER, "ClusterRole", USER),
        _binding("ClusterRoleBinding", "metrics-server:system:auth-delegator", "ClusterRole", "system:auth-delegator"),
        _binding("RoleBinding", "metrics-server-auth-reader", "Role", "extension-apiserver-authentication-reader",
                 NAMESPACE),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": SERVICE, "namespace": NAMESPACE},
         "spec": {"ports": [{"name": "https", "port": 443, "targetPort": port}]}},
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": SERVICE, "namespace": NAMESPACE},
         "subsets": [{"addresses": [{"ip": configs.NODE_IP}], "ports": [{"name": "https", "port": port}]}]},
        {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1beta1.metrics.k8s.io"},
         "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
                  "service": {"namespace": NAMESPACE, "name": SERVICE, "port": 443},
                  "caBundle": base64.b64encode(ca.cert.read_bytes()).decode()}},
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
