"""A two-node Kubernetes 1.33 for the staging tests, started from this machine's binaries.

`local_cluster()` starts, each with its data in one private temp dir:

- Debian's docker-registry on localhost:32000 (microk8s's registry addon), its blobs kept in
  ~/.cache/geostack between runs;
- Debian's etcd, and kube-apiserver, kube-controller-manager and kube-scheduler built by
  toolchain/install-cluster.sh, with client certificates and Pod Security admission on;
- CoreDNS on the first node's address for cluster.local;
- two nodes (nodes.py): this host, and a network namespace of its own, each with Debian's
  containerd (runc, the CNI bridge plugin) and a locally built pause image, a kubelet, kube-proxy
  (iptables) and kube-router's network policy controller, which enforces NetworkPolicies
  (policy_enforcer.py);
- metrics-server, registered as the metrics.k8s.io API (metrics_server.py);
- the `microk8s-hostpath` storage class and its provisioner (hostpath_storage.py).

It yields once both nodes are Ready, and on the way out, pass or fail, stops every process,
removes the pods' containers, network namespaces, mounts, cgroups, iptables chains, ipsets and
the bridge, and deletes the directory (`teardown.py`).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from offline.loopback import free_port, http_get
from tests.cluster import configs, metrics_server, nodes, pki, policy_enforcer, teardown
from tests.cluster.hostpath_storage import HostpathProvisioner
from tests.e2e.docker_engine import CACHE_DIR

BIN_ENV = "GEOSTACK_CLUSTER_BIN"
REGISTRY_STORE = CACHE_DIR / "registry"
REGISTRY_STORE_LIMIT = 30 * 2**30


@dataclass
class LocalCluster:
    root: Path
    bin_dir: Path
    kubeconfig: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120,
                input: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run([str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
                                capture_output=True, text=True, timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result

    def log(self, name: str) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        (self.root / "logs").mkdir(exist_ok=True)
        with open(self.root / "logs" / f"{name}.log", "ab") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def wait(self, name: str, check, timeout: float, what: str) -> None:
        """Until `check()` is true; fails early, with the log's tail, if `name` has exited."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(Exception):
                if check():
                    return
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}) before {what}:\n{self.log(name)[-4000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout:.0f} s; {name} log:\n{self.log(name)[-4000:]}")
            time.sleep(0.5)

    def node_ready(self, name: str = configs.NODE_NAME) -> bool:
        condition = self.kubectl("get", "node", name, "-o",
                                 'jsonpath={.status.conditions[?(@.type=="Ready")].status}', check=False)
        return condition.stdout.strip() == "True"


def cluster_bin_dir() -> Path:
    value = os.environ.get(BIN_ENV)
    if not value or not (Path(value) / "kube-apiserver").exists():
        raise RuntimeError(f"{BIN_ENV} must name the directory toolchain/install-cluster.sh printed "
                           "(scripts/test.sh sets it); got " + repr(value))
    return Path(value)


def registry_store() -> Path:
    """The registry's blobs, kept between runs: they are named by their content, so a push of an
    image the registry already has sends nothing. Emptied when it outgrows REGISTRY_STORE_LIMIT,
    as old builds pile up."""
    size = sum(path.stat().st_size for path in REGISTRY_STORE.rglob("*") if path.is_file()) \
        if REGISTRY_STORE.exists() else 0
    if size > REGISTRY_STORE_LIMIT:
        shutil.rmtree(REGISTRY_STORE)
    REGISTRY_STORE.mkdir(parents=True, exist_ok=True)
    return REGISTRY_STORE


def _http_ok(url: str) -> bool:
    return http_get(url, timeout=2)[0] == 200


@contextlib.contextmanager
def local_cluster() -> Iterator[LocalCluster]:
    bin_dir = cluster_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="geostack-k8s-"))
    os.chmod(root, 0o755)  # pods' users read their volumes' files below it
    namespaces_before = teardown.network_namespaces()
    cluster = LocalCluster(root=root, bin_dir=bin_dir, kubeconfig=root / "kubeconfigs" / "admin.yaml")
    storage = HostpathProvisioner(cluster, root / "hostpath-storage")
    try:
        _start(cluster)
        storage.start()
        yield cluster
    finally:
        storage.stop()
        teardown.stop_all(root, cluster.processes, bin_dir, namespaces_before)


@dataclass(frozen=True)
class ControlPlane:
    ca: pki.KeyPair
    serving: pki.KeyPair
    sa: pki.KeyPair
    front_proxy: metrics_server.FrontProxy
    api_port: int
    kubeconfigs: dict[str, Path]
    kubelet_client: pki.KeyPair


def _kubeconfig(cluster: LocalCluster, ca: pki.KeyPair, user: str, subject: str, server: str) -> Path:
    certs = cluster.root / "pki"
    pair = pki.signed(ca, certs, user, subject, "clientAuth")
    return nodes.write_file(cluster.root / "kubeconfigs" / f"{user}.yaml",
                  configs.kubeconfig(server, ca.cert, pair.cert, pair.key, user))


def _start(cluster: LocalCluster) -> None:
    certs = cluster.root / "pki"
    certs.mkdir()
    ca = pki.certificate_authority(certs)
    first = (f"IP:{configs.NODE_IP}", "IP:127.0.0.1", "DNS:localhost", f"DNS:{configs.NODE_NAME}")
    serving = pki.signed(ca, certs, "apiserver", "/CN=kube-apiserver", "serverAuth", first + (
        f"IP:{configs.KUBERNETES_SERVICE_IP}", "DNS:kubernetes", "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"))
    api_port = free_port()
    server = f"https://127.0.0.1:{api_port}"
    kubeconfigs = {user: _kubeconfig(cluster, ca, user, subject, server) for user, subject in (
        ("admin", "/O=system:masters/CN=geostack-admin"),
        ("controller-manager", "/CN=system:kube-controller-manager"),
        ("scheduler", "/CN=system:kube-scheduler"),
        ("metrics-server", metrics_server.client_subject()))}
    plane = ControlPlane(ca, serving, pki.service_account_keys(certs), metrics_server.front_proxy(certs), api_port,
                         kubeconfigs, pki.signed(ca, certs, "apiserver-kubelet-client",
                                                 "/O=system:masters/CN=kube-apiserver-kubelet-client", "clientAuth"))
    teardown.create_bridge()
    _start_control_plane(cluster, plane)
    cluster.kubectl("apply", "-f", "-", input=policy_enforcer.manifests())
    for node in configs.NODES:
        _start_node(cluster, plane, node)
    _start_metrics_server(cluster, ca, metrics_server.serving_pair(ca, certs), kubeconfigs["metrics-server"])


def _start_control_plane(cluster: LocalCluster, plane: ControlPlane) -> None:
    root, bin_dir, ca, kubeconfigs = cluster.root, cluster.bin_dir, plane.ca, plane.kubeconfigs
    registry = nodes.write_file(root / "registry.yaml", configs.registry_config(registry_store()))
    cluster.start("registry", ["docker-registry", "serve", str(registry)])
    cluster.wait("registry", lambda: _http_ok(f"http://{configs.REGISTRY}/v2/"), 30, "the registry answers")

    etcd_port, etcd_peer = free_port(), free_port()
    cluster.start("etcd", ["etcd", "--name", "geostack-test", "--data-dir", str(root / "etcd"),
                           "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
                           "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                           "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                           "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                           "--initial-cluster", f"geostack-test=http://127.0.0.1:{etcd_peer}"])
    cluster.wait("etcd", lambda: _http_ok(f"http://127.0.0.1:{etcd_port}/health"), 30, "etcd is healthy")

    cluster.start("kube-apiserver", [
        str(bin_dir / "kube-apiserver"),
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=0.0.0.0", f"--secure-port={plane.api_port}", f"--advertise-address={configs.NODE_IP}",
        f"--tls-cert-file={plane.serving.cert}", f"--tls-private-key-file={plane.serving.key}",
        f"--client-ca-file={ca.cert}",
        f"--service-account-key-file={plane.sa.cert}", f"--service-account-signing-key-file={plane.sa.key}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={configs.SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
        f"--kubelet-client-certificate={plane.kubelet_client.cert}",
        f"--kubelet-client-key={plane.kubelet_client.key}",
        f"--kubelet-certificate-authority={ca.cert}", "--kubelet-preferred-address-types=InternalIP",
        "--profiling=false", *metrics_server.aggregator_flags(plane.front_proxy),
    ])
    cluster.wait("kube-apiserver", lambda: cluster.kubectl("get", "--raw", "/readyz", timeout=10).stdout == "ok",
                 120, "kube-apiserver is ready")

    cluster.start("kube-controller-manager", [
        str(bin_dir / "kube-controller-manager"), f"--kubeconfig={kubeconfigs['controller-manager']}",
        f"--authentication-kubeconfig={kubeconfigs['controller-manager']}",
        f"--authorization-kubeconfig={kubeconfigs['controller-manager']}",
        f"--service-account-private-key-file={plane.sa.key}", f"--root-ca-file={ca.cert}",
        f"--cluster-signing-cert-file={ca.cert}", f"--cluster-signing-key-file={ca.key}",
        "--use-service-account-credentials=true", "--leader-elect=false", "--secure-port=0",
        f"--service-cluster-ip-range={configs.SERVICE_CIDR}", "--profiling=false",
        # The autoscaler waits this long after the last higher recommendation before it removes
        # pods: upstream's default is 5 minutes, which the tests would spend waiting.
        f"--horizontal-pod-autoscaler-downscale-stabilization={configs.SCALE_DOWN_STABILIZATION}",
    ])
    cluster.start("kube-scheduler", [
        str(bin_dir / "kube-scheduler"), f"--kubeconfig={kubeconfigs['scheduler']}",
        f"--authentication-kubeconfig={kubeconfigs['scheduler']}",
        f"--authorization-kubeconfig={kubeconfigs['scheduler']}",
        "--leader-elect=false", "--secure-port=0", "--profiling=false",
    ])
    corefile = nodes.write_file(root / "Corefile", configs.corefile(kubeconfigs["admin"]))
    cluster.start("coredns", [str(bin_dir / "coredns"), "-conf", str(corefile)])
    cluster.wait("coredns", lambda: "CoreDNS-" in cluster.log("coredns"), 30, "CoreDNS serves")


def _start_node(cluster: LocalCluster, plane: ControlPlane, node: configs.Node) -> None:
    """A node's network (the second's namespace), containerd, kubelet, kube-proxy and policy
    enforcer; returns once the node is Ready and both its proxies answer."""
    root = configs.node_dir(cluster.root, node)
    certs, ca = cluster.root / "pki", plane.ca
    # Its own components reach the API server at the first node's address; this host's at 127.0.0.1.
    server = f"https://{'127.0.0.1' if node.netns is None else configs.NODE_IP}:{plane.api_port}"
    suffix = "" if node is configs.FIRST_NODE else f"-{node.name}"
    if node.netns is not None:
        nodes.connect_namespace(node)
        nodes.make_cgroup_root(node)
        nodes.start_registry_forwarder(cluster, node)
    files = nodes.NodeFiles(
        root=root,
        kubelet_kubeconfig=_kubeconfig(cluster, ca, f"kubelet{suffix}", f"/O=system:nodes/CN=system:node:{node.name}",
                                       server),
        kube_proxy_kubeconfig=_kubeconfig(cluster, ca, f"kube-proxy{suffix}", "/CN=system:kube-proxy", server),
        kube_router_kubeconfig=_kubeconfig(cluster, ca, f"kube-router{suffix}", policy_enforcer.client_subject(),
                                           server),
        kubelet_serving=pki.signed(ca, certs, f"kubelet-serving{suffix}", f"/CN={node.name}", "serverAuth",
                                   (f"IP:{node.ip}", f"DNS:{node.name}")),
        ca_cert=ca.cert,
    )
    nodes.start_containerd(cluster, node, root)
    proxy_health = nodes.start_kubelet_and_proxy(cluster, node, files)
    kubelet = nodes.process_name("kubelet", node)
    cluster.wait(kubelet, lambda: cluster.node_ready(node.name), 180, f"node {node.name} is Ready")
    cluster.wait(nodes.process_name("kube-proxy", node), lambda: _http_ok(proxy_health), 60,
                 f"kube-proxy on {node.name} is healthy")
    router_health = nodes.start_policy_enforcer(cluster, node, files.kube_router_kubeconfig)
    cluster.wait(nodes.process_name("kube-router", node), lambda: _http_ok(router_health), 60,
                 f"kube-router's policy controller on {node.name} is healthy")


def _start_metrics_server(cluster: LocalCluster, ca: pki.KeyPair, serving: pki.KeyPair, kubeconfig: Path) -> None:
    port = free_port()
    cluster.start("metrics-server", metrics_server.command(cluster.bin_dir, kubeconfig, serving, ca, port))
    cluster.kubectl("apply", "-f", "-", input=metrics_server.manifests(ca, port))
