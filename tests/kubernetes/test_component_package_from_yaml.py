"""geostack's component package (component-package/) used from another Pulumi language: the YAML
program of examples/yaml-map-service, run by the real CLI and Pulumi YAML's language host, deploys
MapService on the test cluster. The engine runs the package as a plugin in its own virtualenv (the
wheel this repository builds), asks it for its schema, and has it construct the component.

A user checks: an input the package's schema lacks is refused, named; a wrong setting stops
`preview` with the key named and nothing created; `up` serves the sample project through the
NodePort; no drift; `destroy` removes it. The QGIS image is given prebuilt (no docker provider here).
"""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from offline.program_run import PROJECT_ROOT
from tests.e2e.project_checks import assert_project_answers
from tests.engine.workspace import Workspace
from tests.kubernetes.cluster_config import point_at_the_cluster
from tests.package.wheel import build_wheel, install_wheel

EXAMPLE = PROJECT_ROOT / "examples" / "yaml-map-service"
PACKAGE = PROJECT_ROOT / "component-package"
NODE_PORT = 30092
NAMESPACE = "geostack-yaml"


def with_settings(workspace: Workspace, rename: tuple[str, str] | None = None, **settings: str):
    """`pulumi preview` of the program with MapService's settings changed (or its input renamed)."""
    program_file = workspace.project / "Pulumi.yaml"
    good = program_file.read_text()
    program = yaml.safe_load(good)
    properties = program["resources"]["maps"]["properties"]
    properties["settings"].update(settings)
    if rename:
        properties[rename[1]] = properties.pop(rename[0])
    program_file.write_text(yaml.safe_dump(program, sort_keys=False))
    try:
        return workspace.run("preview", timeout=600)
    finally:
        program_file.write_text(good)


@pytest.fixture(scope="module")
def workspace(cluster, images, tmp_path_factory):
    """The example's project and the component package side by side, as in the repository, with
    the repository's sample folder; the package's virtualenv has the wheel."""
    root = tmp_path_factory.mktemp("yaml")
    (root / "workspace").mkdir()
    workspace = Workspace(root / "workspace", copy_project=False)
    package = root / "component-package"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    install_wheel(build_wheel(root / "build"), package / "venv")
    shutil.copytree(EXAMPLE, workspace.project, dirs_exist_ok=True)
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    program = yaml.safe_load((workspace.project / "Pulumi.yaml").read_text())
    program["packages"]["geostack"] = str(package)
    program["resources"]["maps"]["properties"]["settings"]["qgisProjectDir"] = str(root / "data")
    (workspace.project / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    workspace.select("maps")
    point_at_the_cluster(workspace, cluster, images, NAMESPACE, NODE_PORT)
    try:
        yield workspace
    finally:
        workspace.run("destroy", "--yes", "--skip-preview", timeout=600)


def test_a_property_the_packages_schema_lacks_is_refused_before_anything_runs(workspace):
    """YAML checks the program against the schema the engine got from the package (inferred from
    MapService's annotations): a misspelt input is named. (`pulumi package get-schema` would show
    the schema, but first installs the aws, docker and random plugins the package's virtualenv
    names, which cannot be had here.)"""
    result = with_settings(workspace, rename=("settings", "setting"))
    assert result.returncode != 0
    assert "Property setting does not exist on 'geostack:index:MapService'" in result.output, result.output
    assert "Existing properties are: settings" in result.output
    assert "kubernetes:" not in result.output, "nothing is declared"  # preview lists each resource it would create


def test_a_wrong_setting_stops_the_preview_naming_the_key(workspace):
    result = with_settings(workspace, qgisReplicas="two")
    assert result.returncode != 0
    assert "geostack:qgisReplicas must be" in result.output, result.output
    assert "kubernetes:" not in result.output, "nothing is declared"  # preview lists each resource it would create


def test_up_serves_the_sample_through_the_node_port(workspace):
    workspace.ok("up", "--yes", "--skip-preview", timeout=900)
    outputs = json.loads(workspace.ok("stack", "output", "--json"))
    assert outputs["projectUrls"] == {"sample": f"http://localhost:{NODE_PORT}/ogc/sample"}
    assert_project_answers(f"http://localhost:{NODE_PORT}", "sample", "geostack sample")


def test_preview_right_after_up_shows_no_changes(workspace):
    workspace.ok("preview", "--expect-no-changes", "--diff", timeout=600)
