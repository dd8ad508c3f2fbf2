"""The components as a package: a wheel built from this repository, installed into a virtualenv of
its own, runs the geostack program in a project that has nothing of this repository but the
program's __main__.py and a project folder. The program (under the offline mocks, in that
virtualenv's Python) imports the installed pulumi_geostack, and builds its images from the
contexts the wheel ships."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import pulumi_geostack
from offline.program_run import PROJECT_ROOT
from tests.package.wheel import run_program_in


def images(found: dict) -> dict:
    """What each image the program declared is built from."""
    assert found["error"] is None, found["error"]
    return {name: inputs["build"] for type_, name, inputs in found["resources"] if type_ == "docker:index/image:Image"}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A Pulumi project of a user's own: a name of its own, the program and the sample folder."""
    project = tmp_path_factory.mktemp("my-maps")
    (project / "Pulumi.yaml").write_text("name: my-maps\nruntime: python\n")
    shutil.copy(PROJECT_ROOT / "__main__.py", project)
    shutil.copytree(PROJECT_ROOT / "data", project / "data")
    return project


@pytest.mark.parametrize("stack, config", [("dev", ""), ("staging", "config:\n  geostack:target: microk8s\n")],
                         ids=["docker", "microk8s"])
def test_the_installed_package_runs_the_program_and_builds_from_its_own_contexts(installed, project, stack, config):
    (project / f"Pulumi.{stack}.yaml").write_text(config or "config: {}\n")
    found = run_program_in(installed, project, stack)
    package = Path(found["package"]).parent
    assert package.is_relative_to(installed.parent.parent), f"imported {package}, not the installed package"
    assert found["outputs"]["geostackVersion"] == pulumi_geostack.__version__
    # A package named pulumi-* must say it has no provider plugin, or Pulumi looks for one.
    assert json.loads((package / "pulumi-plugin.json").read_text()) == {"resource": False}
    (build,) = images(found).values()
    context = (project / build["context"]).resolve()
    assert context == package / "images" / "qgis-server"
    assert (context / "Dockerfile").read_text() == (PROJECT_ROOT / "docker" / "qgis-server" / "Dockerfile").read_text()
    assert build["dockerfile"] == f"{build['context']}/Dockerfile"


def test_the_documented_shortest_program_serves_qgis(installed, tmp_path):
    """docs/package.md's program, as written, in a project of its own."""
    (program,) = re.findall(r"```python\n(.*?)```", (PROJECT_ROOT / "docs" / "package.md").read_text(), re.S)
    (tmp_path / "Pulumi.yaml").write_text("name: shortest\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(program)
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    found = run_program_in(installed, tmp_path, "dev")
    assert found["outputs"] == {"url": "http://localhost:8080", "geostackVersion": pulumi_geostack.__version__}
    assert list(images(found)) == ["qgis-image-build"]
