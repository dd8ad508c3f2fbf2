"""A node of the test cluster: containerd, the kubelet, kube-proxy and the policy enforcer.

The first node runs in this host's network; the second (configs.SECOND_NODE) runs the same
programs inside a network namespace of its own, with its own containerd, CNI bridge, pod subnet,
iptables and cgroup root, so the scheduler, spread constraints, drains and NetworkPolicies see
two machines. Every one of its processes is started with `nsenter --net`, which, unlike
`ip netns exec`, leaves /sys (and the cgroups mounted below it) as the host has them.

The second node's containerd pulls the `localhost:32000/...` images from the same registry:
its hosts.toml sends them to the host's end of the veth pair, where socat forwards to the
registry, as microk8s's registry answers on every node.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from offline.loopback import free_port
from tests.cluster import configs, pki, policy_enforcer, teardown
from tests.cluster.pause.image import build_pause_archive

CGROUP_ROOT = Path("/sys/fs/cgroup")
REGISTRY_FORWARD_PORT = configs.REGISTRY.rsplit(":", 1)[1]


@dataclass(frozen=True)
class NodeFiles:
    """What a node's processes are started with, made by the caller's PKI."""
    root: Path  # the node's private dir
    kubelet_kubeconfig: Path
    kube_proxy_kubeconfig: Path
    kube_router_kubeconfig: Path
    kubelet_serving: pki.KeyPair
    ca_cert: Path


def process_name(base: str, node: configs.Node) -> str:
    """The key of a node's process in LocalCluster.processes: `kubelet`, `kubelet-2`."""
    return base if node is configs.FIRST_NODE else f"{base}-{configs.NODES.index(node) + 1}"


def in_node(node: configs.Node, argv: list[str]) -> list[str]:
    return argv if node.netns is None else ["nsenter", f"--net=/var/run/netns/{node.netns}", "--", *argv]


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def write_file(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def connect_namespace(node: configs.Node) -> None:
    """The node's network namespace, its veth link to the host, routes between the two pod
    subnets, forwarding and bridge filtering on, and masquerading out of the pod network."""
    _run(["ip", "netns", "add", node.netns])
    host_side = node.host_side
    _run(["ip", "link", "add", host_side, "type", "veth", "peer", "name", "eth0", "netns", node.netns])
    _run(["ip", "addr", "add", f"{configs.NODE_LINK_HOST_IP}/{configs.NODE_LINK_PREFIX}", "dev", host_side])
    _run(["ip", "link", "set", host_side, "up"])
    for argv in (["ip", "addr", "add", f"{node.ip}/{configs.NODE_LINK_PREFIX}", "dev", "eth0"],
                 ["ip", "link", "set", "eth0", "up"], ["ip", "link", "set", "lo", "up"],
                 ["ip", "route", "add", "default", "via", configs.NODE_LINK_HOST_IP],
                 ["sysctl", "-qw", "net.ipv4.ip_forward=1"],
                 ["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1"],
                 ["iptables", "-t", "nat", "-A", "POSTROUTING", *teardown.POD_MASQUERADE]):
        _run(in_node(node, argv))
    _run(["ip", "route", "add", node.pod_subnet, "via", node.ip])
    for rule in teardown.link_forward_rules(node):
        _run(["iptables", "-I", "FORWARD", *rule])


def make_cgroup_root(node: configs.Node) -> None:
    """The kubelet wants its cgroup root to exist in every hierarchy; a new cpuset cgroup starts
    with no CPUs or memory nodes, so it gets its parent's."""
    for hierarchy in CGROUP_ROOT.iterdir():
        directory = hierarchy / node.cgroup_root.strip("/")
        if hierarchy.is_dir() and not directory.exists():
            directory.mkdir()
            for name in ("cpuset.cpus", "cpuset.mems"):
                if (hierarchy / name).exists():
                    (directory / name).write_text((hierarchy / name).read_text())


def registry_endpoint(node: configs.Node) -> str:
    return configs.REGISTRY if node.netns is None else f"{configs.NODE_LINK_HOST_IP}:{REGISTRY_FORWARD_PORT}"


def start_containerd(cluster, node: configs.Node, root: Path) -> None:
    config = write_file(root / "containerd.toml", configs.containerd_config(root))
    write_file(root / "cni" / "10-geostack.conflist", configs.cni_config(root, node))
    write_file(root / "registry-hosts" / configs.REGISTRY / "hosts.toml",
           configs.registry_hosts(configs.REGISTRY, registry_endpoint(node)))
    name = process_name("containerd", node)
    cluster.start(name, in_node(node, ["containerd", "--config", str(config)]))
    ctr = ["ctr", "--address", str(root / "containerd.sock"), "--namespace", "k8s.io"]
    cluster.wait(name, lambda: subprocess.run([*ctr, "version"], capture_output=True).returncode == 0,
                 30, f"{name} answers")
    archive = cluster.root / "pause.tar"
    if not archive.exists():
        build_pause_archive(cluster.root, configs.PAUSE_IMAGE)
    _run([*ctr, "images", "import", str(archive)])


def health_address(node: configs.Node) -> str:
    """Where a node's processes answer health checks, reachable from this host."""
    return "127.0.0.1" if node.netns is None else node.ip


def start_kubelet_and_proxy(cluster, node: configs.Node, files: NodeFiles) -> str:
    """The kubelet and kube-proxy; returns kube-proxy's health check URL."""
    root = files.root
    write_file(root / "resolv.conf", "nameserver 127.0.0.1\n")  # pods resolve through clusterDNS only
    kubelet_config = write_file(root / "kubelet.yaml", configs.kubelet_config(
        root, files.ca_cert, files.kubelet_serving.cert, files.kubelet_serving.key, free_port(), free_port(), node))
    cluster.start(process_name("kubelet", node), in_node(node, [
        str(cluster.bin_dir / "kubelet"), f"--config={kubelet_config}", f"--kubeconfig={files.kubelet_kubeconfig}",
        f"--root-dir={root / 'kubelet'}", f"--hostname-override={node.name}",
        f"--node-ip={node.ip}", f"--cert-dir={root / 'kubelet-pki'}",
    ]))
    health = f"{health_address(node)}:{free_port()}"
    cluster.start(process_name("kube-proxy", node), in_node(node, [
        str(cluster.bin_dir / "kube-proxy"), f"--kubeconfig={files.kube_proxy_kubeconfig}",
        f"--hostname-override={node.name}", "--proxy-mode=iptables",
        f"--cluster-cidr={configs.POD_CIDR}", "--conntrack-max-per-core=0",
        f"--healthz-bind-address={health}", f"--metrics-bind-address=127.0.0.1:{free_port()}",
    ]))
    return f"http://{health}/healthz"


def start_policy_enforcer(cluster, node: configs.Node, kubeconfig: Path) -> str:
    """kube-router's policy controller for the node's pods; returns its health check URL."""
    port = free_port()
    cluster.start(process_name("kube-router", node),
                  in_node(node, policy_enforcer.command(cluster.bin_dir, kubeconfig, port, node.name)))
    return f"http://{health_address(node)}:{port}/healthz"


def start_registry_forwarder(cluster, node: configs.Node) -> None:
    """socat from the host's end of the node's link to the registry on localhost."""
    cluster.start(process_name("registry-forwarder", node), [
        "socat", f"TCP-LISTEN:{REGISTRY_FORWARD_PORT},bind={configs.NODE_LINK_HOST_IP},fork,reuseaddr",
        f"TCP:127.0.0.1:{REGISTRY_FORWARD_PORT}"])
