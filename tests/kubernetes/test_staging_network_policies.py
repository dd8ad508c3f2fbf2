"""The staging stack's NetworkPolicies, enforced by the test cluster's kube-router
(tests/cluster/policy_enforcer.py) and judged both ways from pods inside the namespace:

- QGIS's FastCGI port: the stack's nginx may connect; any other pod is refused, by the
  Service's address and by a pod's own;
- nginx, which the stack exposes, accepts any pod;
- default deny: a pod that no policy of the stack names takes no connection from its neighbours,
  while the same pod in a namespace without the stack's policies does.
"""
from __future__ import annotations

import json

import pytest

from tests.cluster.configs import NODES
from tests.kubernetes.network_probe import Probe, connects, listener_manifest

QGIS_PORT = 5555
NGINX_PORT = 80  # the Service's port (NodePort 30080), in front of the pods' 8080


# The labels the stack's policies select its nginx by (kubernetes_pods.selector), and another app's.
NGINX = {"app.kubernetes.io/name": "qgis-nginx", "app.kubernetes.io/instance": "staging"}
OTHER = {"app.kubernetes.io/name": "some-other-app"}


def probe(staging, labels: dict[str, str], host: str, port: int, namespace: str | None = None) -> Probe:
    return connects(staging.cluster, namespace or staging.namespace, labels, staging.images.wait_stand_in, host, port)


def assert_connects(result: Probe) -> None:
    assert result.connected, result.log


def assert_refused(result: Probe) -> None:
    assert not result.connected, result.log


def test_only_the_stacks_nginx_reaches_qgis_through_its_service(staging):
    assert_connects(probe(staging, NGINX, "qgis-server", QGIS_PORT))
    assert_refused(probe(staging, OTHER, "qgis-server", QGIS_PORT))


@pytest.mark.parametrize("node", NODES, ids=lambda node: node.name)
def test_only_the_stacks_nginx_reaches_a_qgis_pod_directly_on_either_node(staging, node):
    [pod_ip] = [pod["status"]["podIP"] for pod in staging.ready_pods("qgis-server")
                if pod["spec"]["nodeName"] == node.name]
    assert_connects(probe(staging, NGINX, pod_ip, QGIS_PORT))
    assert_refused(probe(staging, OTHER, pod_ip, QGIS_PORT))


def test_the_exposed_nginx_accepts_any_pod(staging):
    assert_connects(probe(staging, OTHER, "qgis-nginx", NGINX_PORT))


@pytest.fixture
def listeners(staging):
    """A pod listening on 8000 in the stack's namespace, and the same in a namespace of its own."""
    cluster, image = staging.cluster, staging.images.wait_stand_in
    other = "geostack-test-no-policies"
    cluster.kubectl("create", "namespace", other)
    ips = {}
    try:
        for namespace in (staging.namespace, other):
            cluster.kubectl("apply", "-f", "-", input=json.dumps(listener_manifest(namespace, image)))
        for namespace in (staging.namespace, other):
            cluster.kubectl("wait", "-n", namespace, "pod/unnamed-listener", "--for=condition=Ready",
                            "--timeout=90s", timeout=100)
            ips[namespace] = cluster.kubectl("get", "pod", "-n", namespace, "unnamed-listener", "-o",
                                             "jsonpath={.status.podIP}").stdout
        yield ips, other
    finally:
        cluster.kubectl("delete", "pod", "-n", staging.namespace, "unnamed-listener", "--wait=false", check=False)
        cluster.kubectl("delete", "namespace", other, "--wait=false", check=False)


def test_default_deny_refuses_connections_to_a_pod_no_policy_names(staging, listeners):
    ips, other = listeners
    assert_connects(probe(staging, OTHER, ips[other], 8000, namespace=other))
    assert_refused(probe(staging, OTHER, ips[staging.namespace], 8000))
