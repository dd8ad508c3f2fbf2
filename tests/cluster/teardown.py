"""Host state the test cluster creates outside its directory, and removing all of it.

Besides its processes, a node leaves: containers run by containerd's shims, network
namespaces under /var/run/netns (the second node's own among them: its iptables, ipsets, routes
and veth link go with it), mounts below its directory, cgroups under /kubepods and the second
node's cgroup root,
kube-proxy's and kube-router's KUBE-* and the bridge plugin's CNI-* iptables chains, kube-router's
ipsets, and the pod bridge.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

from offline.loopback import stop_group
from tests.cluster import configs

NETNS_DIR = Path("/var/run/netns")
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Stopped first to last: nothing restarts pods once the kubelet is gone, and the API server
# outlives the controllers that talk to it.
def _on_each_node(name: str) -> tuple[str, ...]:
    return tuple(f"{name}-{index}" if index > 1 else name for index in range(1, len(configs.NODES) + 1))


STOP_ORDER = ("metrics-server", *_on_each_node("kube-router"), *_on_each_node("kubelet"),
              *_on_each_node("kube-proxy"), "coredns", *_on_each_node("containerd"), "registry-forwarder-2",
              "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd", "registry")
POD_MASQUERADE = ("-s", configs.POD_CIDR, "!", "-d", configs.POD_CIDR, "-m", "comment", "--comment",
                   "geostack test cluster pods leaving the pod network", "-j", "MASQUERADE")


FORWARD_RULES = tuple((direction, configs.BRIDGE, "-m", "comment", "--comment", "geostack test cluster pods",
                       "-j", "ACCEPT") for direction in ("-i", "-o"))


def link_forward_rules(node: configs.Node) -> tuple[tuple[str, ...], ...]:
    """What lets traffic between this host and a node's namespace through the FORWARD chain,
    whose policy Docker sets to DROP."""
    return tuple((direction, node.host_side, "-m", "comment", "--comment", "geostack test cluster nodes",
                  "-j", "ACCEPT") for direction in ("-i", "-o"))


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True)


def create_bridge() -> None:
    """The pod bridge with the node address, before anything binds to that address."""
    _run("ip", "link", "del", configs.BRIDGE)  # left by a run that was killed
    for argv in (("ip", "link", "add", configs.BRIDGE, "type", "bridge"),
                 ("ip", "addr", "add", f"{configs.NODE_IP}/{configs.FIRST_NODE.pod_subnet.split('/')[1]}",
                  "dev", configs.BRIDGE),
                 ("ip", "link", "set", configs.BRIDGE, "up")):
        subprocess.run(argv, check=True, capture_output=True)
    # Pod-to-Service traffic between pods on one bridge must pass kube-proxy's iptables rules.
    Path("/proc/sys/net/bridge/bridge-nf-call-iptables").write_text("1\n")
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    # That puts bridged traffic through FORWARD too, whose policy a Docker engine sets to DROP.
    for rule in FORWARD_RULES:
        subprocess.run(["iptables", "-I", "FORWARD", *rule], check=True, capture_output=True)
    subprocess.run(["iptables", "-t", "nat", "-A", "POSTROUTING", *POD_MASQUERADE], check=True, capture_output=True)


def network_namespaces() -> set[str]:
    return set(os.listdir(NETNS_DIR)) if NETNS_DIR.exists() else set()


def _processes_under(root: Path) -> list[int]:
    """Processes whose command line names the directory: containerd's shims, above all."""
    found = []
    marker = str(root).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


def _kill_containers(root: Path) -> None:
    if not (root / "containerd.sock").exists():
        return
    ctr = ["ctr", "--address", str(root / "containerd.sock"), "--namespace", "k8s.io"]
    tasks = subprocess.run([*ctr, "tasks", "list", "-q"], capture_output=True, text=True, timeout=30)
    for task in tasks.stdout.split():
        subprocess.run([*ctr, "tasks", "kill", "--signal", "SIGKILL", task], capture_output=True, timeout=30)
        subprocess.run([*ctr, "tasks", "delete", "--force", task], capture_output=True, timeout=30)


def _unmount_below(root: Path) -> None:
    with open("/proc/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    for point in sorted((p for p in points if p.startswith(str(root))), key=len, reverse=True):
        _run("umount", "-l", point)


def _remove_cgroups() -> None:
    trees = ["kubepods", *(node.cgroup_root.strip("/") for node in configs.NODES if node.cgroup_root)]
    for hierarchy in CGROUP_ROOT.iterdir():
        for tree in (hierarchy / name for name in trees):
            if tree.is_dir():
                for directory, _, _ in sorted(os.walk(tree), key=lambda walk: len(walk[0]), reverse=True):
                    with contextlib.suppress(OSError):
                        os.rmdir(directory)


def _jump_target(words: list[str]) -> str:
    return words[words.index("-j") + 1] if "-j" in words else ""


def _remove_iptables_rules() -> None:
    """kube-proxy's and the kubelet's KUBE-* chains (the cluster must not share its host with
    another kube-proxy anyway), the bridge plugin's CNI-* chains for this pod network, and every
    rule that jumps to one of them."""
    for tool in ("iptables", "ip6tables"):
        for table in ("nat", "filter", "mangle"):
            rules = [shlex.split(rule) for rule in _run(tool, "-t", table, "-S").stdout.splitlines()]
            chains = {words[1] for words in rules if words[0] == "-N" and words[1].startswith("KUBE-")}
            chains |= {_jump_target(words) for words in rules
                       if "geostack-pods" in " ".join(words) and _jump_target(words).startswith("CNI-")}
            for words in rules:
                if words[0] == "-A" and words[1] not in chains and _jump_target(words) in chains:
                    _run(tool, "-t", table, "-D", *words[1:])
            for chain in chains:
                _run(tool, "-t", table, "-F", chain)
            for chain in chains:
                _run(tool, "-t", table, "-X", chain)


def _remove_ipsets() -> None:
    """kube-router's sets (KUBE-SRC-*, KUBE-DST-*, kube-router-*), once no rule refers to them."""
    names = _run("ipset", "list", "-n").stdout.split()
    for name in names:
        if name.startswith(("KUBE-", "kube-router-")):
            _run("ipset", "destroy", name)


def stop_all(root: Path, processes: dict[str, subprocess.Popen], bin_dir: Path, namespaces_before: set[str]) -> None:
    for name in STOP_ORDER:
        if name == "containerd" and name in processes:
            for node_root in (configs.node_dir(root, node) for node in configs.NODES):
                with contextlib.suppress(Exception):
                    _kill_containers(node_root)
        if name in processes:
            stop_group(processes[name])
    for pid in _processes_under(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if (bin_dir / "kube-proxy").exists():
        _run(str(bin_dir / "kube-proxy"), "--cleanup")
    _remove_iptables_rules()
    _remove_ipsets()
    for namespace in network_namespaces() - namespaces_before:
        _run("ip", "netns", "delete", namespace)
    _unmount_below(root)
    _remove_cgroups()
    for rule in FORWARD_RULES:
        _run("iptables", "-D", "FORWARD", *rule)
    for node in configs.NODES:
        if node.netns:
            for rule in link_forward_rules(node):
                _run("iptables", "-D", "FORWARD", *rule)
    _run("iptables", "-t", "nat", "-D", "POSTROUTING", *POD_MASQUERADE)
    _run("ip", "link", "del", configs.BRIDGE)
    shutil.rmtree(root, ignore_errors=True)
