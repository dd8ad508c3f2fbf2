"""Shared fixtures (the program run under mocks once per stack file), and the hooks that let
pytest-xdist run the test groups side by side (scripts/test.sh: two workers)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from offline.program_run import STACKS, ProgramRun, run_program  # noqa: E402


@pytest.fixture(scope="session")
def stack_runs() -> dict[str, ProgramRun]:
    """Each committed stack file, run as `pulumi up` would run it, but against mocks."""
    return {stack: run_program(stack) for stack in STACKS}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist's loadscope, the groups of tests/xdist_groups.py each go to one worker
    whole; a guard checks that they did."""
    if config.getvalue("dist") != "loadscope":
        return None
    from tests.xdist_groups import GroupGuard, GroupScheduling
    config.pluginmanager.register(GroupGuard(), "geostack-group-guard")
    return GroupScheduling(config, log)


# Test folders that never use a Docker engine.
WITHOUT_DOCKER = (PROJECT_ROOT / "tests" / "unit", PROJECT_ROOT / "tests" / "validation", PROJECT_ROOT / "tests" / "docs",
                  PROJECT_ROOT / "tests" / "package")


def pytest_configure(config):
    """Under pytest-xdist (-n 1 or more), the controller starts the private dockerd before the
    workers start, and they share it: one engine may use its data root at a time. Not when
    every path asked for is one of WITHOUT_DOCKER."""
    if not getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput"):
        return
    paths = [Path(config.invocation_params.dir, arg.split("::")[0]).resolve() for arg in config.args]
    if all(any(path.is_relative_to(folder) for folder in WITHOUT_DOCKER) for path in paths):
        return
    from tests.e2e.docker_engine import start_shared_engine
    start_shared_engine()


def pytest_sessionfinish(session, exitstatus):
    """The tests' private dockerd, if this process started it, stops with the session; a test
    group that ran in two workers fails the run."""
    from tests.e2e.docker_engine import stop_private_engine
    stop_private_engine()
    guard = session.config.pluginmanager.get_plugin("geostack-group-guard")
    split = guard.split_groups() if guard is not None else {}
    if split:
        session.config.get_terminal_writer().line(f"test groups split between workers: {split}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
