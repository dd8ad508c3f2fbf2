"""Fixtures for the tests that run the real Pulumi CLI and engine (tests/engine/workspace.py)."""
from __future__ import annotations

import pytest

from tests.engine.workspace import Workspace


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    """A fresh copy of the project with its own backend and PULUMI_HOME, removed afterwards."""
    return Workspace(tmp_path)
