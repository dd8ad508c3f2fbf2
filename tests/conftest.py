"""Shared fixtures: the program run under mocks once per stack file."""
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


def pytest_sessionfinish(session, exitstatus):
    """The tests' private dockerd, if any test started it, stops with the session."""
    from tests.e2e.docker_engine import stop_private_engine
    stop_private_engine()
