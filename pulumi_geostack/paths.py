"""Where the program's files are: the Pulumi project it runs in, and the image build contexts.

Pulumi runs a program in its project's directory, so a path in the stack config (a project
folder) is relative to the working directory. The build contexts ship with this package: in this
repository they are `docker/<name>`; in an installed wheel, `pulumi_geostack/images/<name>`
(pyproject.toml maps the one onto the other).
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir() -> Path:
    """The Pulumi project's directory: where the CLI runs the program."""
    return Path.cwd()


def build_context(name: str) -> str:
    """The build context `name` (qgis-server, geonode, backup), relative to the project directory:
    the docker provider keeps it in the state, and a relative path is the same on every machine
    that deploys the stack (for an installed package, every machine with the virtualenv in the
    project, as Pulumi makes it)."""
    shipped = PACKAGE_DIR / "images" / name
    if not shipped.is_dir():
        shipped = PACKAGE_DIR.parent / "docker" / name
    return os.path.relpath(shipped, project_dir())
