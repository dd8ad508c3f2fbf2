"""Host state the test cluster creates outside its directory, and removing all of it.

Besides its processes, a node leaves: containers run by containerd's shims, network
namespaces under /var/run/netns, mounts below its directory, cgroups under /kubepods,
kube-proxy's KUBE-* and the bridge plugin's CNI-* iptables chains, and the pod bridge.
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
STOP_ORDER = ("kubelet", "kube-proxy", "coredns", "containerd", "kube-scheduler", "kube-controller-manager",
              "kube-apiserver", "etcd", "registry")


FORWARD_RULES = tuple((direction, configs.BRIDGE, "-m", "comment", "--comment", "geostack test cluster pods",
                       "-j", "ACCEPT") for direction in ("-i", "-o"))


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True)


def create_bridge() -> None:
    """The pod bridge with the node address, before anything binds to that address."""
    _run("ip", "link", "del", configs.BRIDGE)  # left by a run that was killed
    for argv in (("ip", "link", "add", configs.BRIDGE, "type", "bridge"),
                 ("ip", "addr", "add", f"{configs.NODE_IP}/16", "dev", configs.BRIDGE),
                 ("ip", "link", "set", configs.BRIDGE, "up")):
        subprocess.run(argv, check=True, capture_output=True)
    # Pod-to-Service traffic between pods on one bridge must pass kube-proxy's iptables rules.
    Path("/proc/sys/net/bridge/bridge-nf-call-iptables").write_text("1\n")
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    # That puts bridged traffic through FORWARD too, whose policy a Docker engine sets to DROP.
    for rule in FORWARD_RULES:
        subprocess.run(["iptables", "-I", "FORWARD", *rule], check=True, capture_output=True)


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
    for hierarchy in CGROUP_ROOT.iterdir():
        tree = hierarchy / "kubepods"
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


def stop_all(root: Path, processes: dict[str, subprocess.Popen], bin_dir: Path, namespaces_before: set[str]) -> None:
    for name in STOP_ORDER:
        if name == "containerd" and name in processes:
            with contextlib.suppress(Exception):
                _kill_containers(root)
        if name in processes:
            stop_group(processes[name])
    for pid in _processes_under(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if (bin_dir / "kube-proxy").exists():
        _run(str(bin_dir / "kube-proxy"), "--cleanup")
    _remove_iptables_rules()
    for namespace in network_namespaces() - namespaces_before:
        _run("ip", "netns", "delete", namespace)
    _unmount_below(root)
    _remove_cgroups()
    for rule in FORWARD_RULES:
        _run("iptables", "-D", "FORWARD", *rule)
    _run("ip", "link", "del", configs.BRIDGE)
    shutil.rmtree(root, ignore_errors=True)
