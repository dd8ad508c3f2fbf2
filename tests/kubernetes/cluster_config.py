"""Stack config that points a project of its own (not this repository's) at the test cluster."""
from __future__ import annotations

from tests.cluster.local_cluster import LocalCluster
from tests.engine.workspace import Workspace
from tests.kubernetes.images import PushedImages


def point_at_the_cluster(workspace: Workspace, cluster: LocalCluster, images: PushedImages, namespace: str,
                         node_port: int) -> None:
    """`pulumi config set`, as a user would, of the namespace and NodePort, the cluster's kubeconfig
    and context, and the images in its registry (QGIS prebuilt: no docker provider here)."""
    for key, value in {"kubernetesNamespace": namespace, "microk8sKubeconfig": str(cluster.kubeconfig),
                       "microk8sContext": "geostack-test", "microk8sNodePort": str(node_port),
                       "qgisImage": images.qgis, "nginxImage": images.nginx_stand_in,
                       "kubernetesWaitImage": images.wait_stand_in}.items():
        workspace.ok("config", "set", f"geostack:{key}", value)
