"""The pulumi-geostack wheel, built from a copy of what the package is made of (setuptools writes
its build files into the tree it builds), with the pinned uv scripts/test.sh installs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
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


def install_wheel(wheel: Path, venv: Path) -> Path:
    """A virtualenv at `venv` with the wheel and its pinned SDKs (and PyYAML, which the offline
    runner reads stack files with); its Python. With pip, as `python -m venv` makes one: Pulumi's
    language host lists a program's packages with `python -m pip list`."""
    run(str(UV), "venv", "--quiet", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    run(str(UV), "pip", "install", "--quiet", "--python", str(python), str(wheel), "pyyaml==6.0.3", "pip==23.2.1")
    return python


# Run in the package's virtualenv: the repository is on the path last, for `offline` alone, so
# the installed pulumi_geostack comes first.
PROBE = """
import json, sys
sys.path.append({repo!r})
from offline.program_run import run_program
import pulumi_geostack
run = run_program({stack!r}, {overrides!r}, project_root=__import__("pathlib").Path({project!r}), raise_errors=False)
print(json.dumps({{"package": pulumi_geostack.__file__, "outputs": run.outputs, "error": run.error and str(run.error),
                  "resources": [[r.type, r.name, r.inputs] for r in run.resources], "reads": run.reads}}, default=str))
"""


def run_program_in(python: Path, project: Path, stack: str, overrides: dict[str, str] | None = None) -> dict:
    """The project's program for `stack` under the offline mocks, in `python`'s virtualenv:
    the package it imported, its outputs and error, what it declared ([type, name, inputs]) and read."""
    probe = PROBE.format(repo=str(PROJECT_ROOT), stack=stack, project=str(project), overrides=overrides or {})
    return json.loads(run(str(python), "-c", probe, cwd=project))
