"""What `pulumi up` promises of the Deployments it changed: their rollout is done when it returns."""
from __future__ import annotations

import json

from tests.cluster.local_cluster import LocalCluster


def unfinished_rollouts(deployments: list[dict]) -> list[str]:
    """Each Deployment whose controller has not yet seen its current spec, or whose pods are not
    all of the current template and available, or that still has an old pod (not terminating)."""
    unfinished = []
    for deployment in deployments:
        status, wanted = deployment.get("status", {}), deployment["spec"].get("replicas", 1)
        progressing = next((c for c in status.get("conditions", []) if c["type"] == "Progressing"), {})
        counts = [status.get(field, 0) for field in ("replicas", "updatedReplicas", "availableReplicas")]
        if (status.get("observedGeneration") != deployment["metadata"]["generation"]
                or progressing.get("reason") != "NewReplicaSetAvailable" or counts != [wanted] * 3):
            unfinished.append(f"{deployment['metadata']['name']}: generation {deployment['metadata']['generation']}, "
                              f"observed {status.get('observedGeneration')}, {progressing.get('reason')}, "
                              f"replicas/updated/available {counts} of {wanted}")
    return unfinished


def assert_rollouts_done(cluster: LocalCluster, namespace: str) -> None:
    listed = cluster.kubectl("get", "deployments", "-n", namespace, "-o", "json")
    unfinished = unfinished_rollouts(json.loads(listed.stdout)["items"])
    assert not unfinished, f"`pulumi up` returned before these rollouts were done: {unfinished}"
