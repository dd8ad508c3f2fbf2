"""What each provider does with a changed resource: update it in place, or replace it.

`offline.diff` runs without providers, so it predicts their answer from the fields that changed.
The tables follow the providers geostack pins:

- kubernetes 4.25.0: `forceNewProperties` in its provider/pkg/provider/diff.go, for the kinds
  geostack declares, with Secrets and ConfigMaps mutable (IN_PLACE_CONTENT);
- docker 5.2.0 (bridged from terraform-provider-docker): a container can change a handful of
  limits in place and nothing else; networks and volumes cannot change at all;
- aws 7.51.1: an ECR repository or lifecycle policy is replaced when its name or repository changes;
- random 4.21.4: every input of a generated value forces a new value.

tests/kubernetes/test_review_predictions.py checks these predictions against the real engine's
`pulumi preview` on the test cluster.
"""
from __future__ import annotations

import re
from typing import Any, Optional

# Data a replacement or a deletion loses, unless the resource is retained on delete.
STATEFUL_TYPES = frozenset({
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:Namespace",  # deleting it deletes every claim in it
    "docker:index/volume:Volume",
    "aws:ecr/repository:Repository",
})

_KUBERNETES_METADATA = ("metadata.name", "metadata.namespace")
_SELECTOR = ("spec.selector",)
_KUBERNETES: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:PersistentVolumeClaim": ("spec.accessModes", "spec.selector", "spec.storageClassName",
                                                 "spec.volumeName"),
    "kubernetes:core/v1:Service": ("spec.clusterIP",),
    "kubernetes:apps/v1:Deployment": _SELECTOR,
    "kubernetes:apps/v1:StatefulSet": ("spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector",
                                       "spec.serviceName", "spec.volumeClaimTemplates"),
    "kubernetes:batch/v1:Job": ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
}
_DOCKER_CONTAINER_IN_PLACE = ("restart", "maxRetryCount", "cpuShares", "memory", "memorySwap")
_ALWAYS_REPLACED_PREFIXES = ("docker:index/network:Network", "docker:index/volume:Volume", "random:")
_AWS: dict[str, tuple[str, ...]] = {
    "aws:ecr/repository:Repository": ("name",),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("repository",),
}


def _bare(path: str) -> str:
    """A flattened path without its list keys: spec.template.spec.containers[web].image -> ...containers.image."""
    return re.sub(r"\[[^\]]*\]", "", path)


def under(path: str, prefixes: tuple[str, ...]) -> bool:
    bare = _bare(path)
    return any(bare == prefix or bare.startswith(prefix + ".") for prefix in prefixes)


def replacing_fields(type_: str, changed: list[str], ignored: tuple[str, ...] = ()) -> list[str]:
    """The changed paths (offline.diff's flattened form) that make the provider replace the resource;
    fields under `ignore_changes` are the old values to the engine, so they never count."""
    changed = [path for path in changed if not under(path, ignored)]
    if type_.startswith("kubernetes:"):
        return [p for p in changed if under(p, _KUBERNETES_METADATA + _KUBERNETES.get(type_, ()))]
    if type_ == "docker:index/container:Container":
        return [p for p in changed if not under(p, _DOCKER_CONTAINER_IN_PLACE)]
    if type_.startswith(_ALWAYS_REPLACED_PREFIXES):
        return list(changed)
    return [p for p in changed if under(p, _AWS.get(type_, ()))]


def identity(type_: str, inputs: dict[str, Any]) -> Optional[tuple[str, ...]]:
    """The name the object has where it lives, when the program sets it: two resources with one
    identity are one object to the provider, whatever their URNs."""
    if type_.startswith("kubernetes:") and not type_.startswith("kubernetes:helm"):
        metadata = inputs.get("metadata") or {}
        if metadata.get("name"):
            return (type_, str(metadata.get("namespace") or ""), str(metadata["name"]))
        return None
    if type_.startswith(("docker:", "aws:ecr/repository")) and isinstance(inputs.get("name"), str):
        return (type_, inputs["name"])
    return None
