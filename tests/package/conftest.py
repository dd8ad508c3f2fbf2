"""The wheel this repository builds, installed into a virtualenv of its own."""
from __future__ import annotations

from pathlib import Path

import pytest

import pulumi_geostack
from tests.package.wheel import build_wheel, install_wheel


@pytest.fixture(scope="package")
def installed(tmp_path_factory) -> Path:
    """The virtualenv's Python, with the wheel and its pinned SDKs installed."""
    root = tmp_path_factory.mktemp("package")
    wheel = build_wheel(root)
    assert wheel.name == f"pulumi_geostack-{pulumi_geostack.__version__}-py3-none-any.whl"
    return install_wheel(wheel, root / "venv")
