"""MapService, the component with plain inputs that the component package (component-package/)
offers other languages, under the offline mocks: it deploys what geostack's program deploys, under
itself, and a bad setting stops it with the key named."""
from __future__ import annotations

from pathlib import Path

import pytest

from offline.program_run import PROJECT_ROOT, ProgramRun, run_program

PROGRAM = """
import pulumi
from pulumi_geostack.map_service import MapService

maps = MapService("maps", {{"settings": {settings!r}}})
pulumi.export("url", maps.url)
pulumi.export("projectUrls", maps.project_urls)
pulumi.export("geostackVersion", maps.geostack_version)
"""


def run_map_service(project: Path, settings: dict[str, str], config: dict[str, str]) -> ProgramRun:
    project.mkdir(exist_ok=True)
    (project / "Pulumi.yaml").write_text("name: maps-anywhere\nruntime: python\n")
    (project / "Pulumi.maps.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text(PROGRAM.format(settings=settings))
    return run_program("maps", config, project_root=project, raise_errors=False)


@pytest.fixture(scope="module")
def on_microk8s(tmp_path_factory) -> ProgramRun:
    run = run_map_service(tmp_path_factory.mktemp("maps"), {"qgisProjectDir": str(PROJECT_ROOT / "data")},
                          {"geostack:target": "microk8s"})
    assert run.error is None, run.error
    return run


def test_it_deploys_what_the_program_deploys_under_itself(on_microk8s):
    program = run_program("maps", config={"geostack:target": "microk8s",
                                          "geostack:qgisProjectDir": str(PROJECT_ROOT / "data")})
    assert sorted((r.type, r.name) for r in on_microk8s.resources if r.custom) == \
        sorted((r.type, r.name) for r in program.resources if r.custom)
    (component,) = [r for r in on_microk8s.resources if r.type == "geostack:index:MapService"]
    top = [r for r in on_microk8s.resources if r is not component and r.parent == component.urn]
    assert {r.type for r in top} == {"geostack:targets:Microk8sTarget", "geostack:qgis:QgisServerImage",
                                     "geostack:qgis:QgisFcgiServer", "geostack:proxy:NginxProxy"}


def test_its_outputs_are_the_programs(on_microk8s):
    import pulumi_geostack

    assert on_microk8s.outputs == {"url": "http://localhost:30080",
                                   "projectUrls": {"sample": "http://localhost:30080/ogc/sample"},
                                   "geostackVersion": pulumi_geostack.__version__}


@pytest.mark.parametrize("settings, expected", [
    ({"qgisReplicas": "none"}, "geostack:qgisReplicas must be "),
    ({"qgisReplica": "2"}, "geostack:qgisReplica is not a geostack setting (did you mean geostack:qgisReplicas?)"),
])
def test_a_bad_setting_names_the_key_and_creates_nothing(tmp_path, settings, expected):
    run = run_map_service(tmp_path / "maps", {"qgisProjectDir": str(PROJECT_ROOT / "data"), **settings}, {})
    assert str(run.error).startswith(expected), run.error
    assert [r.type for r in run.resources] == ["geostack:index:MapService"]
