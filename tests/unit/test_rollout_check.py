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


def test_an_autoscaler_growing_a_deployment_after_up_is_not_an_unfinished_rollout():
    # The autoscaler raised the count to its minimum after `up`: the rollout itself is done.
    growing = deployment(3, 3, "NewReplicaSetAvailable", replicas=1, updated=1, available=1)
    growing["spec"]["replicas"] = 2
    assert unfinished_rollouts([growing], autoscaled=frozenset({"qgis-nginx"})) == []
    assert unfinished_rollouts([growing])


def test_an_autoscaled_deployment_with_an_old_pod_is_unfinished():
    assert unfinished_rollouts([deployment(3, 3, "ReplicaSetUpdated", replicas=2, updated=1, available=1)],
                               autoscaled=frozenset({"qgis-nginx"}))


def test_a_new_generation_met_as_a_change_of_scale_is_unfinished():
    # What up returned on when an autoscaler was added: the last rollout's reason, no pod of the new template yet.
    stale = deployment(10, 10, "NewReplicaSetAvailable", replicas=1, updated=0, available=1)
    assert unfinished_rollouts([stale], autoscaled=frozenset({"qgis-nginx"}))
    assert unfinished_rollouts([stale])
