"""What the API server stored, compared with what the credential-free review prints, and the
figures the staging tests record for the docs (build/figures/staging.json)."""
from __future__ import annotations

import json
import re
import time
from datetime import datetime

from offline.program_run import PROJECT_ROOT, run_program
from offline.render import kubernetes_objects
from tests.cluster.local_cluster import LocalCluster
from tests.e2e.realizing_mocks import ResolvingMocks
from tests.engine.workspace import Workspace

FIGURES = PROJECT_ROOT / "build" / "figures" / "staging.json"


def record(**figures) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    FIGURES.write_text(json.dumps({**known, **figures}, indent=1, sort_keys=True) + "\n")


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def record_new_node_pulls(cluster: LocalCluster, namespace: str, app: str) -> None:
    """For the pods of the first `up` (each on a node that lacked the image): how long the kubelet
    took to pull it and how long from scheduling to Ready, per node."""
    pods = json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-l", f"app.kubernetes.io/name={app}",
                                      "-o", "json").stdout)["items"]
    events = json.loads(cluster.kubectl("get", "events", "-n", namespace, "-o", "json").stdout)["items"]
    figures = {}
    for pod in pods:
        name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
        pulled = [e["message"] for e in events if e["involvedObject"]["name"] == name and e["reason"] == "Pulled"]
        found = re.search(r" in ([0-9.]+)(m?s) ", pulled[0]) if pulled else None
        conditions = {c["type"]: c["lastTransitionTime"] for c in pod["status"]["conditions"]}
        if found and "Ready" in conditions:
            pull = float(found.group(1)) / (1000 if found.group(2) == "ms" else 1)
            figures[node] = {"pull_s": round(pull, 1),
                             "scheduled_to_ready_s": round(_seconds(conditions["Ready"])
                                                           - _seconds(conditions["PodScheduled"]), 1)}
    record(**{f"{app}_new_node_pulls": figures})


def destroy_and_wait_for_namespace(workspace: Workspace, cluster: LocalCluster, namespace: str) -> None:
    """`pulumi destroy`, then wait until the namespace is gone and the stack's state is empty."""
    workspace.ok("destroy", "--yes", "--skip-preview")
    deadline = time.monotonic() + 120
    while cluster.kubectl("get", "namespace", namespace, check=False).returncode == 0:
        assert time.monotonic() < deadline, "the namespace is still there 120 s after destroy"
        time.sleep(1)
    assert workspace.resource_types("staging") == []


def _subset_mismatches(declared, live, path: str = "") -> list[str]:
    """Where `declared` (what offline.render prints) is not contained in `live` (what the API
    server stored, with its defaults added)."""
    if isinstance(declared, dict) and isinstance(live, dict):
        return [m for key, value in declared.items()
                for m in _subset_mismatches(value, live.get(key), f"{path}.{key}")]
    if isinstance(declared, list) and isinstance(live, list) and len(declared) == len(live):
        return [m for index, (d, v) in enumerate(zip(declared, live))
                for m in _subset_mismatches(d, v, f"{path}[{index}]")]
    if live is None and (declared is False or declared in ("", {}, [])):
        return []  # the API server omits zero values (omitempty): false, "", empty maps and lists
    return [] if declared == live or str(declared) == str(live) else [f"{path}: rendered {declared!r}, stored {live!r}"]


def render_mismatches(cluster: LocalCluster, config: dict[str, str], secrets: dict[str, str] | None = None) -> list[str]:
    """Every field `offline.render staging` prints for this config that the API server does not hold.

    Secret values are masked in the review and Pulumi adds its own annotations, so both are left out.
    """
    overrides = {f"geostack:{key}": value for key, value in config.items()}
    # Images given by tag are resolved against the registry, as the stack resolved them at its up.
    declared = kubernetes_objects(run_program("staging", overrides, mocks=ResolvingMocks(),
                                              secrets={f"geostack:{k}": v for k, v in (secrets or {}).items()}))
    assert declared, "offline.render printed no Kubernetes object"
    mismatches = []
    for manifest in declared:
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        if kind == "Secret":
            manifest.pop("stringData", None)
        manifest["metadata"].pop("annotations", None)
        group = manifest["apiVersion"].rpartition("/")[0]  # empty for the core group
        resource = f"{kind.lower()}.{group}" if group else kind.lower()
        namespace = manifest["metadata"].get("namespace")
        live = json.loads(cluster.kubectl("get", resource, name, "-o", "json",
                                          *(["-n", namespace] if namespace else [])).stdout)
        mismatches += [f"{kind}/{name}{m}" for m in _subset_mismatches(manifest, live)]
    return mismatches
