"""shellcheck on every shell script the product ships or runs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from offline.program_run import PROJECT_ROOT

SCRIPTS = sorted(
    [*PROJECT_ROOT.glob("docker/**/*.sh"), *PROJECT_ROOT.glob("scripts/*.sh"), *PROJECT_ROOT.glob("toolchain/*.sh"),
     PROJECT_ROOT / ".ci" / "run"]
)


def shellcheck() -> str:
    return str(Path(sys.executable).with_name("shellcheck"))


def test_scripts_are_found():
    names = {p.name for p in SCRIPTS}
    assert {"cmd.sh", "healthcheck.sh", "install.sh", "run"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_shellcheck_clean(script):
    result = subprocess.run([shellcheck(), "--shell=bash", "--external-sources", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_catches_problems(tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\nrm -rf $1/*\n")
    assert subprocess.run([shellcheck(), str(bad)], capture_output=True).returncode != 0
