"""Which release a stack runs: the package's version, the newest entry of CHANGELOG.md and every
stack's `geostackVersion` output are one and the same."""
from __future__ import annotations

import re

import pulumi_geostack
from offline.program_run import PROJECT_ROOT


def test_the_changelogs_newest_release_is_the_packages_version():
    releases = re.findall(r"^## (\d+\.\d+\.\d+) — \d{4}-\d{2}-\d{2}$", (PROJECT_ROOT / "CHANGELOG.md").read_text(),
                          re.MULTILINE)
    assert releases, "CHANGELOG.md names no release as '## X.Y.Z — YYYY-MM-DD'"
    assert releases[0] == pulumi_geostack.__version__


def test_every_stack_exports_the_release_it_runs(stack_runs):
    for stack, run in stack_runs.items():
        assert run.outputs["geostackVersion"] == pulumi_geostack.__version__, stack
        assert "geostackVersion" not in run.secret_outputs, stack


def test_every_project_of_its_own_here_installs_this_release():
    """The template's, the examples' and the component package's requirements pin this package."""
    for requirements in ("templates/geostack", "examples/two-folders", "component-package"):
        pins = [line for line in (PROJECT_ROOT / requirements / "requirements.txt").read_text().splitlines()
                if line and not line.startswith("#")]
        assert pins == [f"pulumi-geostack=={pulumi_geostack.__version__}"], requirements
