"""microk8s's hostpath-storage addon for the test cluster: the `microk8s-hostpath` storage class
and a provisioner that gives each of its claims a directory on the node.

microk8s's provisioner makes a world-writable directory per claim under its storage dir and
binds a hostPath volume to the claim; this one does the same from a thread of the test
process, polling the API server. The directories are 0777 like microk8s's, because pods run
as their images' own users (PostGIS as 70, GeoNode as 10002) and a hostPath volume, unlike a
block device, is not chowned to the pod's fsGroup. Volumes of deleted claims are removed
with their directories (reclaim policy Delete, as the addon's class has).
"""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

STORAGE_CLASS = "microk8s-hostpath"
PROVISIONER = "microk8s.io/hostpath"
POLL_SECONDS = 1.0


def storage_class_manifest() -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": STORAGE_CLASS}, "provisioner": PROVISIONER,
            "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}


def volume_manifest(claim: dict, path: Path) -> dict:
    """A hostPath volume at `path` bound to `claim`, sized and moded as the claim asks."""
    meta = claim["metadata"]
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": f"pvc-{meta['uid']}", "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
            "spec": {"capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
                     "accessModes": claim["spec"]["accessModes"],
                     "persistentVolumeReclaimPolicy": "Delete",
                     "storageClassName": STORAGE_CLASS,
                     "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
                                  "name": meta["name"], "uid": meta["uid"]},
                     "hostPath": {"path": str(path), "type": "Directory"}}}


class HostpathProvisioner:
    def __init__(self, cluster, storage_dir: Path):
        self.cluster = cluster
        self.storage_dir = storage_dir
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hostpath-provisioner", daemon=True)

    def start(self) -> None:
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self.cluster.kubectl("apply", "-f", "-", input=json.dumps(storage_class_manifest()))
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self._provision_pending()
                self._delete_released()
            except Exception as error:  # noqa: BLE001 - the API server may be stopping; keep the last errors
                self.errors = (self.errors + [str(error)])[-5:]

    def _items(self, kind: str) -> list[dict]:
        return json.loads(self.cluster.kubectl("get", kind, "--all-namespaces", "-o", "json").stdout)["items"]

    def _provision_pending(self) -> None:
        for claim in self._items("persistentvolumeclaims"):
            if claim["spec"].get("storageClassName") != STORAGE_CLASS or claim["status"].get("phase") != "Pending":
                continue
            meta = claim["metadata"]
            path = self.storage_dir / f"{meta['namespace']}-{meta['name']}-pvc-{meta['uid']}"
            path.mkdir(exist_ok=True)
            path.chmod(0o777)
            self.cluster.kubectl("apply", "-f", "-", input=json.dumps(volume_manifest(claim, path)))

    def _delete_released(self) -> None:
        for volume in self._items("persistentvolumes"):
            if volume["spec"].get("storageClassName") == STORAGE_CLASS and volume["status"].get("phase") == "Released":
                self.cluster.kubectl("delete", "persistentvolume", volume["metadata"]["name"], "--wait=false")
                shutil.rmtree(volume["spec"]["hostPath"]["path"], ignore_errors=True)
