"""The test cluster's NetworkPolicy enforcer: kube-router's network policy controller alone.

The CNI bridge plugin enforces no NetworkPolicy, as microk8s's default CNI (Calico) would. kube-router
(built by toolchain/install-cluster.sh) run with only its firewall on, as upstream's
kube-router-firewall DaemonSet runs it beside another CNI, turns each policy into iptables rules
and ipsets on the node: traffic to a selected pod that no policy allows is rejected. Bridged
pod-to-pod traffic reaches those rules because the harness sets bridge-nf-call-iptables.

Its identity has upstream's ClusterRole for kube-router (read what policies refer to).
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.cluster import configs

USER = "system:kube-router"
# Upstream's default; the API server's NodePorts (30080 for the stack) lie in it.
NODE_PORT_RANGE = "30000-32767"


def client_subject() -> str:
    return f"/CN={USER}"


def command(bin_dir: Path, kubeconfig: Path, health_port: int, node_name: str = configs.NODE_NAME) -> list[str]:
    return [
        str(bin_dir / "kube-router"), f"--kubeconfig={kubeconfig}", f"--hostname-override={node_name}",
        "--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
        f"--service-cluster-ip-range={configs.SERVICE_CIDR}", f"--service-node-port-range={NODE_PORT_RANGE}",
        f"--health-port={health_port}", "--metrics-port=0",
    ]


def manifests() -> str:
    read = ["get", "list", "watch"]
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": USER},
            "rules": [
                {"apiGroups": [""], "resources": ["namespaces", "pods", "services", "nodes", "endpoints"], "verbs": read},
                {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": read},
                {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": read},
                {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
                {"apiGroups": [""], "resources": ["services/status"], "verbs": ["update"]},
            ]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": USER},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": USER},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}]}
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [role, binding]})
