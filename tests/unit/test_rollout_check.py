"""The cluster tests' check that `pulumi up` returned only once its rollouts were done
(tests/kubernetes/rollouts.py), against statuses the test cluster really showed."""
from __future__ import annotations

from tests.kubernetes.rollouts import unfinished_rollouts


def deployment(generation: int, observed: int, reason: str, replicas: int, updated: int, available: int) -> dict:
    return {"metadata": {"name": "qgis-nginx", "generation": generation}, "spec": {"replicas": 1},
            "status": {"observedGeneration": observed, "replicas": replicas, "updatedReplicas": updated,
                       "availableReplicas": available,
                       "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                                      {"type": "Progressing", "status": "True", "reason": reason}]}}


def test_the_state_the_provider_took_for_done_is_unfinished():
    # Right after an `up` whose Deployment await returned at once: the new pod not yet ready, the old one serving.
    assert unfinished_rollouts([deployment(2, 2, "ReplicaSetUpdated", replicas=2, updated=1, available=1)])


def test_a_status_from_before_the_update_is_unfinished():
    assert unfinished_rollouts([deployment(2, 1, "NewReplicaSetAvailable", replicas=1, updated=1, available=1)])


def test_an_old_pod_still_counted_is_unfinished():
    assert unfinished_rollouts([deployment(2, 2, "NewReplicaSetAvailable", replicas=2, updated=1, available=2)])


def test_a_complete_rollout_is_done():
    assert unfinished_rollouts([deployment(2, 2, "NewReplicaSetAvailable", replicas=1, updated=1, available=1)]) == []
