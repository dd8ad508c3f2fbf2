"""The test cluster's configuration files, as pure functions of its private directory.

Addresses follow microk8s where a user can see them: pods in 10.1.0.0/16, Services in
10.152.183.0/24, the registry on localhost:32000. The harness makes every address itself, so
nothing depends on the machine's network:

- the first node is this host; its address is its pod bridge's gateway, 10.1.0.1, and its pods
  are in 10.1.0.0/24;
- the second node lives in a network namespace of its own, reached over a veth pair (10.2.0.1 on
  the host, 10.2.0.2 in the namespace, its address); its pods are in 10.1.1.0/24, behind a bridge
  of its own, and each node routes to the other's pods.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Node:
    name: str
    ip: str  # the kubelet's and NodePorts' address
    pod_subnet: str
    gateway: str  # the pod bridge's address: the pods' default route
    bridge: str
    netns: str | None = None  # None: the host's own network
    cgroup_root: str | None = None  # the kubelet's own (default: /), so no kubelet touches another's pods
    host_side: str = ""  # the host's end of the veth pair to the node's namespace


FIRST_NODE = Node("geostack-node", "10.1.0.1", "10.1.0.0/24", "10.1.0.1", "geostack-k8s0")
SECOND_NODE = Node("geostack-node-2", "10.2.0.2", "10.1.1.0/24", "10.1.1.1", "geostack-k8s1",
                   netns="geostack-node-2", cgroup_root="/geostack-node-2", host_side="geostack-link2")
NODES = (FIRST_NODE, SECOND_NODE)

NODE_LINK_HOST_IP = "10.2.0.1"
NODE_LINK_PREFIX = 24

NODE_NAME = FIRST_NODE.name
NODE_IP = FIRST_NODE.ip
POD_CIDR = "10.1.0.0/16"
BRIDGE = FIRST_NODE.bridge
SERVICE_CIDR = "10.152.183.0/24"
KUBERNETES_SERVICE_IP = "10.152.183.1"
REGISTRY = "localhost:32000"
PAUSE_IMAGE = "localhost/geostack/pause:1"
SCALE_DOWN_STABILIZATION = "30s"


def node_dir(root: Path, node: Node) -> Path:
    """A node's private files: the cluster's dir for the first, a subdir for any other."""
    return root if node is FIRST_NODE else root / node.name


def kubeconfig(server: str, ca: Path, cert: Path, key: Path, user: str) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "geostack-test", "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": user, "user": {"client-certificate": str(cert), "client-key": str(key)}}],
        "contexts": [{"name": "geostack-test", "context": {"cluster": "geostack-test", "user": user}}],
        "current-context": "geostack-test",
    })


def containerd_config(root: Path) -> str:
    """containerd 1.6 with its CRI plugin: private root, state and socket, our CNI config, the
    locally built pause image, and registry hosts (localhost:32000 over plain HTTP)."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{root}/containerd/root"
state = "{root}/containerd/state"

[grpc]
  address = "{root}/containerd.sock"

[ttrpc]
  address = "{root}/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{root}/containerd/opt"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  enable_selinux = false
  # This sandbox lacks CAP_SYS_RESOURCE, so the kubelet's negative oom_score_adj (-998 for
  # pause, -997 for Guaranteed pods) is refused; containers get at least containerd's own.
  restrict_oom_score_adj = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  Root = "{root}/runc"

[{cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{root}/cni"

[{cri}.registry]
  config_path = "{root}/registry-hosts"
"""


def registry_hosts(registry: str = REGISTRY, endpoint: str = REGISTRY) -> str:
    """containerd's hosts.toml: the microk8s registry addon speaks plain HTTP. A node other than
    this host reaches `registry` (the name images are given) at `endpoint`."""
    return f"""server = "http://{registry}"

[host."http://{endpoint}"]
  capabilities = ["pull", "resolve"]
"""


def cni_config(root: Path, node: Node = FIRST_NODE) -> str:
    """A bridge with host-local addresses (kept in the private dir); hairpin mode lets a pod reach
    itself through its Service. No masquerading by the plugin: it would hide a pod's address from
    the other node's NetworkPolicies; the harness masquerades only what leaves the pod network."""
    return json.dumps({
        "cniVersion": "1.0.0",
        "name": "geostack-pods",
        "plugins": [
            {"type": "bridge", "bridge": node.bridge, "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": str(root / "cni-ipam"),
                      "ranges": [[{"subnet": node.pod_subnet, "gateway": node.gateway}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }, indent=2)


def kubelet_config(root: Path, ca: Path, serving_cert: Path, serving_key: Path, port: int, healthz_port: int,
                   node: Node = FIRST_NODE) -> str:
    return yaml.safe_dump({
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node.ip,
        **({"cgroupRoot": node.cgroup_root} if node.cgroup_root else {}),
        "port": port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": healthz_port,
        "tlsCertFile": str(serving_cert),
        "tlsPrivateKeyFile": str(serving_key),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(ca)}},
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{root}/containerd.sock",
        # This machine mounts cgroup v1 and no systemd runs.
        "cgroupDriver": "cgroupfs",
        "clusterDNS": [NODE_IP],
        "clusterDomain": "cluster.local",
        "resolvConf": str(root / "resolv.conf"),
        "podLogsDir": str(root / "pod-logs"),
        "failSwapOn": False,
        "serializeImagePulls": False,
        # A shared CI disk may be fuller than kubelet's defaults allow; this cluster lives minutes.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
    })


def corefile(kubeconfig_path: Path, port: int = 53) -> str:
    """CoreDNS on the node address, as microk8s's dns addon serves cluster.local."""
    return f""".:{port} {{
    bind {NODE_IP}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig_path}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
}}
"""


def registry_config(store: Path, registry: str = REGISTRY) -> str:
    return yaml.safe_dump({
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(store)}, "delete": {"enabled": True}},
        "http": {"addr": registry},
    })
