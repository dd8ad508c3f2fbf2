"""What `pulumi up` promises of the Deployments it changed: their rollout is done when it returns."""
from __future__ import annotations

import json

from tests.cluster.local_cluster import LocalCluster


def unfinished_rollouts(deployments: list[dict], autoscaled: frozenset[str] = frozenset()) -> list[str]:
    """Each Deployment whose controller has not yet seen its current spec, or whose pods are not
    all of the current template and available, or that still has an old pod (not terminating).

    `autoscaled`: Deployments whose count an autoscaler owns. It may change the count at any time,
    after `up` too (to its minimum, say), so for them only the template's rollout is checked:
    every pod counted is of the new template and available."""
    unfinished = []
    for deployment in deployments:
        name, generation = deployment["metadata"]["name"], deployment["metadata"]["generation"]
        status, wanted = deployment.get("status", {}), deployment["spec"].get("replicas", 1)
        progressing = next((c for c in status.get("conditions", []) if c["type"] == "Progressing"), {})
        counts = [status.get(field, 0) for field in ("replicas", "updatedReplicas", "availableReplicas")]
        if name in autoscaled:
            done = progressing.get("reason") == "NewReplicaSetAvailable" and len(set(counts)) == 1 and counts[0] > 0
        else:
            done = (status.get("observedGeneration") == generation and counts == [wanted] * 3
                    and progressing.get("reason") == "NewReplicaSetAvailable")
        if not done:
            unfinished.append(f"{name}: generation {generation}, observed {status.get('observedGeneration')}, "
                              f"{progressing.get('reason')}, replicas/updated/available {counts} of {wanted}"
                              + (" (autoscaled)" if name in autoscaled else ""))
    return unfinished


def assert_rollouts_done(cluster: LocalCluster, namespace: str) -> None:
    def listed(kind: str) -> list[dict]:
        return json.loads(cluster.kubectl("get", kind, "-n", namespace, "-o", "json").stdout)["items"]
    autoscaled = frozenset(hpa["spec"]["scaleTargetRef"]["name"] for hpa in listed("horizontalpodautoscalers")
                           if hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment")
    unfinished = unfinished_rollouts(listed("deployments"), autoscaled)
    assert not unfinished, f"`pulumi up` returned before these rollouts were done: {unfinished}"
