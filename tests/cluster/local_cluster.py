"""A single-node Kubernetes 1.33 for the staging tests, started from this machine's binaries.

`local_cluster()` starts, each with its data in one private temp dir:

- Debian's docker-registry on localhost:32000 (microk8s's registry addon);
- Debian's etcd, and kube-apiserver, kube-controller-manager and kube-scheduler built by
  toolchain/install-cluster.sh, with client certificates and Pod Security admission on;
- Debian's containerd (runc, the CNI bridge plugin) with a locally built pause image;
- kubelet and kube-proxy (iptables), and CoreDNS on the node address for cluster.local;
- the `microk8s-hostpath` storage class and its provisioner (hostpath_storage.py).

It yields once the node is Ready, and on the way out, pass or fail, stops every process,
removes the pods' containers, network namespaces, mounts, cgroups, iptables chains and the
bridge, and deletes the directory (`teardown.py`).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from offline.loopback import free_port, http_get
from tests.cluster import configs, pki, teardown
from tests.cluster.hostpath_storage import HostpathProvisioner
from tests.cluster.pause.image import build_pause_archive

BIN_ENV = "GEOSTACK_CLUSTER_BIN"


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

    def node_ready(self) -> bool:
        condition = self.kubectl("get", "node", configs.NODE_NAME, "-o",
                                 'jsonpath={.status.conditions[?(@.type=="Ready")].status}', check=False)
        return condition.stdout.strip() == "True"


def cluster_bin_dir() -> Path:
    value = os.environ.get(BIN_ENV)
    if not value or not (Path(value) / "kube-apiserver").exists():
        raise RuntimeError(f"{BIN_ENV} must name the directory toolchain/install-cluster.sh printed "
                           "(scripts/test.sh sets it); got " + repr(value))
    return Path(value)


def _http_ok(url: str) -> bool:
    return http_get(url, timeout=2)[0] == 200


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


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


def _start(cluster: LocalCluster) -> None:
    root = cluster.root
    certs = root / "pki"
    certs.mkdir()
    ca = pki.certificate_authority(certs)
    node_names = (f"IP:{configs.NODE_IP}", "IP:127.0.0.1", "DNS:localhost", f"DNS:{configs.NODE_NAME}")
    serving = pki.signed(ca, certs, "apiserver", "/CN=kube-apiserver", "serverAuth", node_names + (
        f"IP:{configs.KUBERNETES_SERVICE_IP}", "DNS:kubernetes", "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"))
    kubelet_serving = pki.signed(ca, certs, "kubelet-serving", f"/CN={configs.NODE_NAME}", "serverAuth", node_names)
    sa = pki.service_account_keys(certs)
    api_port = free_port()
    server = f"https://127.0.0.1:{api_port}"
    clients, kubeconfigs = {}, {}
    for user, subject in (("admin", "/O=system:masters/CN=geostack-admin"),
                          ("apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client"),
                          ("controller-manager", "/CN=system:kube-controller-manager"),
                          ("scheduler", "/CN=system:kube-scheduler"),
                          ("kubelet", f"/O=system:nodes/CN=system:node:{configs.NODE_NAME}"),
                          ("kube-proxy", "/CN=system:kube-proxy")):
        pair = clients[user] = pki.signed(ca, certs, user, subject, "clientAuth")
        kubeconfigs[user] = _write(root / "kubeconfigs" / f"{user}.yaml",
                                   configs.kubeconfig(server, ca.cert, pair.cert, pair.key, user))
    _start_services(cluster, ca, serving, kubelet_serving, sa, api_port, kubeconfigs,
                    clients["apiserver-kubelet-client"])


def _start_services(cluster: LocalCluster, ca, serving, kubelet_serving, sa, api_port: int,
                    kubeconfigs: dict[str, Path], kubelet_client: pki.KeyPair) -> None:
    root, bin_dir = cluster.root, cluster.bin_dir
    teardown.create_bridge()

    registry = _write(root / "registry.yaml", configs.registry_config(root))
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
        "--bind-address=0.0.0.0", f"--secure-port={api_port}", f"--advertise-address={configs.NODE_IP}",
        f"--tls-cert-file={serving.cert}", f"--tls-private-key-file={serving.key}",
        f"--client-ca-file={ca.cert}",
        f"--service-account-key-file={sa.cert}", f"--service-account-signing-key-file={sa.key}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={configs.SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
        f"--kubelet-client-certificate={kubelet_client.cert}", f"--kubelet-client-key={kubelet_client.key}",
        f"--kubelet-certificate-authority={ca.cert}", "--kubelet-preferred-address-types=InternalIP",
        "--profiling=false",
    ])
    cluster.wait("kube-apiserver", lambda: cluster.kubectl("get", "--raw", "/readyz", timeout=10).stdout == "ok",
                 120, "kube-apiserver is ready")

    cluster.start("kube-controller-manager", [
        str(bin_dir / "kube-controller-manager"), f"--kubeconfig={kubeconfigs['controller-manager']}",
        f"--authentication-kubeconfig={kubeconfigs['controller-manager']}",
        f"--authorization-kubeconfig={kubeconfigs['controller-manager']}",
        f"--service-account-private-key-file={sa.key}", f"--root-ca-file={ca.cert}",
        f"--cluster-signing-cert-file={ca.cert}", f"--cluster-signing-key-file={ca.key}",
        "--use-service-account-credentials=true", "--leader-elect=false", "--secure-port=0",
        f"--service-cluster-ip-range={configs.SERVICE_CIDR}", "--profiling=false",
    ])
    cluster.start("kube-scheduler", [
        str(bin_dir / "kube-scheduler"), f"--kubeconfig={kubeconfigs['scheduler']}",
        f"--authentication-kubeconfig={kubeconfigs['scheduler']}",
        f"--authorization-kubeconfig={kubeconfigs['scheduler']}",
        "--leader-elect=false", "--secure-port=0", "--profiling=false",
    ])

    _start_containerd(cluster)
    corefile = _write(root / "Corefile", configs.corefile(kubeconfigs["admin"]))
    cluster.start("coredns", [str(bin_dir / "coredns"), "-conf", str(corefile)])
    cluster.wait("coredns", lambda: "CoreDNS-" in cluster.log("coredns"), 30, "CoreDNS serves")

    _write(root / "resolv.conf", "nameserver 127.0.0.1\n")  # pods resolve through clusterDNS only
    kubelet_config = _write(root / "kubelet.yaml", configs.kubelet_config(
        root, ca.cert, kubelet_serving.cert, kubelet_serving.key, free_port(), free_port()))
    cluster.start("kubelet", [
        str(bin_dir / "kubelet"), f"--config={kubelet_config}", f"--kubeconfig={kubeconfigs['kubelet']}",
        f"--root-dir={root / 'kubelet'}", f"--hostname-override={configs.NODE_NAME}",
        f"--node-ip={configs.NODE_IP}", f"--cert-dir={root / 'kubelet-pki'}",
    ])
    proxy_health = free_port()
    cluster.start("kube-proxy", [
        str(bin_dir / "kube-proxy"), f"--kubeconfig={kubeconfigs['kube-proxy']}",
        f"--hostname-override={configs.NODE_NAME}", "--proxy-mode=iptables",
        f"--cluster-cidr={configs.POD_CIDR}", "--conntrack-max-per-core=0",
        f"--healthz-bind-address=127.0.0.1:{proxy_health}", f"--metrics-bind-address=127.0.0.1:{free_port()}",
    ])
    cluster.wait("kubelet", cluster.node_ready, 180, f"node {configs.NODE_NAME} is Ready")
    cluster.wait("kube-proxy", lambda: _http_ok(f"http://127.0.0.1:{proxy_health}/healthz"), 60,
                 "kube-proxy is healthy")


def _start_containerd(cluster: LocalCluster) -> None:
    root = cluster.root
    config = _write(root / "containerd.toml", configs.containerd_config(root))
    _write(root / "cni" / "10-geostack.conflist", configs.cni_config(root))
    _write(root / "registry-hosts" / configs.REGISTRY / "hosts.toml", configs.registry_hosts())
    cluster.start("containerd", ["containerd", "--config", str(config)])
    socket = root / "containerd.sock"
    ctr = ["ctr", "--address", str(socket), "--namespace", "k8s.io"]
    cluster.wait("containerd", lambda: subprocess.run([*ctr, "version"], capture_output=True).returncode == 0,
                 30, "containerd answers")
    archive = build_pause_archive(root, configs.PAUSE_IMAGE)
    subprocess.run([*ctr, "images", "import", str(archive)], check=True, capture_output=True)
