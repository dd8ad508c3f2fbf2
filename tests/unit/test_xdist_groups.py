"""The split of the tests between pytest-xdist's workers (tests/xdist_groups.py)."""
from __future__ import annotations

from types import SimpleNamespace

from tests.xdist_groups import GroupGuard, GroupScheduling


def unit_of(nodeid: str) -> str:
    return GroupScheduling._split_scope(object.__new__(GroupScheduling), nodeid)


def test_each_group_is_one_unit_and_other_tests_go_by_module():
    assert unit_of("tests/kubernetes/test_staging_drain.py::test_a") == "kubernetes"
    assert unit_of("tests/kubernetes/test_staging_geonode.py::test_b[x]") == "kubernetes"
    assert unit_of("tests/e2e/test_docker_dev_stack.py::test_c") == "docker"
    assert unit_of("tests/engine/test_config_through_cli.py::test_d") == "docker"
    assert unit_of("tests/unit/test_program.py::test_e[dev]") == "tests/unit/test_program.py"


def report(nodeid: str, worker: str):
    return SimpleNamespace(nodeid=nodeid, node=SimpleNamespace(gateway=SimpleNamespace(id=worker)))


def test_the_guard_names_a_group_that_ran_in_two_workers():
    guard = GroupGuard()
    guard.pytest_runtest_logreport(report("tests/kubernetes/test_staging_drain.py::test_a", "gw1"))
    guard.pytest_runtest_logreport(report("tests/e2e/test_docker_dev_stack.py::test_c", "gw0"))
    guard.pytest_runtest_logreport(report("tests/unit/test_program.py::test_e", "gw1"))
    guard.pytest_runtest_logreport(report("tests/unit/test_program.py::test_f", "gw0"))
    assert guard.split_groups() == {}
    guard.pytest_runtest_logreport(report("tests/kubernetes/test_staging_geonode.py::test_b", "gw0"))
    assert guard.split_groups() == {"kubernetes": {"gw0", "gw1"}}
