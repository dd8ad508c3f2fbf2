"""How pytest-xdist splits the tests between its workers (scripts/test.sh runs two).

Some test folders share a costly fixture and so run in one worker, in file order: the
Kubernetes tests share a cluster; the Docker ones take turns with the engine's ports and the
host's nginx and QGIS. Each such group is one unit of work; the rest go module by module to
whichever worker is free. (pytest-xdist's own `--dist loadgroup` marks a group in the test's
node id, which pytest 9 no longer lets a plugin change, so it would scatter a group.)
"""
from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

GROUPS = {"tests/kubernetes/": "kubernetes", "tests/e2e/": "docker", "tests/engine/": "docker"}


def group_of(nodeid: str) -> str | None:
    return next((group for folder, group in GROUPS.items() if nodeid.startswith(folder)), None)


class GroupScheduling(LoadScopeScheduling):
    """pytest-xdist's loadscope (a module's tests stay together), with each of GROUPS one unit.
    Units go out in collection order (the Docker group first, then the Kubernetes one), one
    to each worker to begin with."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid) or super()._split_scope(nodeid)


class GroupGuard:
    """In the controller: which worker ran each group's tests. A group that ran in two workers
    would have started its shared fixture twice (two clusters on one machine), so the run fails."""

    def __init__(self):
        self.workers: dict[str, set[str]] = {}

    def pytest_runtest_logreport(self, report):
        group, node = group_of(report.nodeid), getattr(report, "node", None)
        if group and node is not None:
            self.workers.setdefault(group, set()).add(node.gateway.id)

    def split_groups(self) -> dict[str, set[str]]:
        return {group: workers for group, workers in self.workers.items() if len(workers) > 1}
