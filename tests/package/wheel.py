"""The pulumi-geostack wheel, built from a copy of what the package is made of (setuptools writes
its build files into the tree it builds), with the pinned uv scripts/test.sh installs."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from offline.program_run import PROJECT_ROOT

UV = PROJECT_ROOT / "build" / "uv" / "bin" / "uv"
PACKAGE_SOURCES = ("pyproject.toml", "requirements.txt", "docs/package.md", "pulumi_geostack", "docker")


def run(*command: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(root: Path) -> Path:
    """The wheel, in root/dist."""
    source = root / "source"
    for part in PACKAGE_SOURCES:
        (source / part).parent.mkdir(parents=True, exist_ok=True)
        if (PROJECT_ROOT / part).is_dir():
            shutil.copytree(PROJECT_ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(PROJECT_ROOT / part, source / part)
    run(str(UV), "build", "--quiet", "--wheel", "--out-dir", str(root / "dist"), str(source))
    (wheel,) = (root / "dist").glob("pulumi_geostack-*.whl")
    return wheel
